/**
 * Structured JSON logs through pino, one line per event, each with the request id of the request
 * it belongs to (AsyncLocalStorage, set by `requestContext`). Call sites keep the small `Logger`
 * interface: `logger.log(level, message, fields)`.
 *
 * Secrets never reach a line: fields whose name says token, ltik, cookie, authorization, password,
 * secret or key are replaced, and so is any value that looks like a JWT (id_tokens, ltiks), an
 * `ltik=` query parameter, or the token part of a SENCE callback path. Still: never pass secrets.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import pino, { type DestinationStream } from 'pino';
import { warnLateError } from './guarded-callback';

export type LogLevel = 'info' | 'warn' | 'error';

export interface Logger {
  log(level: LogLevel, message: string, fields?: Record<string, unknown>): void;
}

// ------------------------------------------------------------------------------------------ redaction

export const REDACTED = '[redactado]';
const SECRET_KEY = /token|ltik|cookie|authorization|password|passwd|secret|sealed|^key$|apikey|api_key|ltiKey/i;
/** Field names that contain "token" but hold no secret. */
const HARMLESS_KEYS = new Set(['tokenHint']);
const JWT = /eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g;
const LTIK_PARAM = /([?&]ltik=)[^&\s"]+/gi;
/**
 * The token part of a SENCE callback path. The host logs the canonical path (callback-path.ts);
 * this also catches the forms Express routes as the same path (any case, repeated slashes, an
 * escaped dot) wherever else one appears in a line.
 */
const CALLBACK_PATH = /(\/cb\/+(?:ok|er)\/+[^/.\s%]+)(?:\.|%2e)[^/\s?"]+/gi;

function scrubString(value: string): string {
  return value.replace(JWT, REDACTED).replace(LTIK_PARAM, `$1${REDACTED}`).replace(CALLBACK_PATH, `$1.${REDACTED}`);
}

/** A copy of `value` with secrets replaced (see the header). Depth-limited; cycles become '[…]'. */
export function redact(value: unknown, depth = 0): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (value === null || typeof value !== 'object') return value;
  if (depth > 5) return '[…]';
  if (value instanceof Date) return value;
  if (value instanceof Error) return { name: value.name, message: scrubString(value.message) };
  if (Array.isArray(value)) return value.map((v) => redact(v, depth + 1));
  // Object.fromEntries defines own properties: a key named `__proto__` (a JSON body's) stays a field
  // of the line instead of replacing the copy's prototype (issue #19 §1).
  return Object.fromEntries(
    Object.entries(value).map(([key, v]) => [key, SECRET_KEY.test(key) && !HARMLESS_KEYS.has(key) && v !== null && v !== undefined ? REDACTED : redact(v, depth + 1)]),
  );
}

// ------------------------------------------------------------------------------------------ request ids

interface RequestScope {
  reqId: string;
}

const requestScope = new AsyncLocalStorage<RequestScope>();

/** The id of the request being served (undefined outside a request: sweeps, start-up). */
export function currentRequestId(): string | undefined {
  return requestScope.getStore()?.reqId;
}

/** A proxy's X-Request-Id is kept when it is a plain token; otherwise a new UUID. */
const REQUEST_ID = /^[A-Za-z0-9._:-]{8,100}$/;

function fieldsWithRequestId(fields: Record<string, unknown>): Record<string, unknown> {
  const reqId = currentRequestId();
  const clean = redact(fields) as Record<string, unknown>;
  return reqId ? { reqId, ...clean } : clean;
}

/**
 * Express middleware: gives the request an id (X-Request-Id in and out), runs the rest of the
 * request inside its scope, and logs one line when the response is finished (method, path without
 * query, status, duration). Health probes are not logged.
 */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get('x-request-id');
    const reqId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', reqId);
    const started = process.hrtime.bigint();
    requestScope.run({ reqId }, () => {
      if (!/^\/(healthz|readyz|health)$/.test(req.path)) {
        // A stream event's callback: a throw here would be uncaught (issue #19 §1), so it is a warning.
        res.once('finish', () => {
          requestScope.run({ reqId }, () => {
            try {
              logger.log(res.statusCode >= 500 ? 'error' : 'info', 'request', {
                method: req.method,
                path: req.path,
                status: res.statusCode,
                ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
              });
            } catch (err) {
              warnLateError(err);
            }
          });
        });
      }
      next();
    });
  };
}

// ------------------------------------------------------------------------------------------ loggers

/** pino writing JSON lines to `destination` (stdout by default): time, level name, pid, hostname, reqId, msg. */
export function pinoLogger(destination?: DestinationStream): Logger {
  const options = {
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const base = destination ? pino(options, destination) : pino(options);
  return {
    log(level, message, fields = {}) {
      base[level](fieldsWithRequestId(fields), scrubString(message));
    },
  };
}

export const consoleLogger: Logger = pinoLogger();

export const silentLogger: Logger = { log() {} };

/** Collects log lines in memory (tests assert that a bad request was logged), redacted as pino's are. */
export class MemoryLogger implements Logger {
  readonly lines: Array<{ level: LogLevel; message: string; fields: Record<string, unknown> }> = [];
  log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level, message: scrubString(message), fields: fieldsWithRequestId(fields) });
  }
}
