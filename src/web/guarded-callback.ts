/**
 * A callback the tool hands to a body parser, multer or a stream event runs outside Express's own
 * try/catch: a throw inside it is an uncaught exception, and the process stops (issue #19 §1: a
 * TypeError in the request-shape check, called from body-parser's callback, did exactly that).
 * `guarded` runs such a callback so that a throw becomes the request's error instead — `next(err)`,
 * the one error handler, a 4xx/5xx page and a log line with the request id (the parsers run their
 * callbacks in the request's async scope). A throw after the callback already passed the request
 * on cannot be answered twice: it is reported as a process warning, and the process keeps serving.
 */
import type { NextFunction } from 'express';

/** Where a throw after the request was passed on goes: a process warning on stderr (the process goes on). */
export function warnLateError(err: unknown): void {
  const message = typeof (err as Error | null)?.message === 'string' ? (err as Error).message : String(err);
  process.emitWarning(message, { code: 'ASISTENCIA_LATE_CALLBACK_ERROR', detail: (err as Error | null)?.stack });
}

export function guarded(next: NextFunction, callback: (next: NextFunction) => void, onLate: (err: unknown) => void = warnLateError): void {
  let passedOn = false;
  const once: NextFunction = (arg?: unknown) => {
    if (passedOn) return;
    passedOn = true;
    next(arg as Parameters<NextFunction>[0]);
  };
  try {
    callback(once);
  } catch (err) {
    if (!passedOn) {
      passedOn = true;
      next(err);
      return;
    }
    onLate(err);
  }
}
