/**
 * Logs, one line per event, each with the request id of the request it belongs to
 * (AsyncLocalStorage, set by `requestContext`). Call sites keep the small `Logger` interface:
 * `logger.log(level, message, fields)`. Two formats (issue #20, LOG_FORMAT): JSON lines through pino
 * (production and tests: machines read them) and one short text line for a person (development:
 * "09:14:03 POST /lti/sence/start 302 12 ms"). LOG_LEVEL (default info) hides what is below it; the
 * panel's status poll, static files and health probes that succeed are debug, so they are not
 * printed by default.
 *
 * Secrets never reach a line: fields whose name says token, ltik, cookie, authorization, password,
 * secret or key are replaced, and so is any value that looks like a JWT (id_tokens, ltiks), an
 * `ltik=` query parameter, or the token part of a SENCE callback path. Still: never pass secrets.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import pino, { type DestinationStream } from 'pino';
import { logSettings, type LogSettings } from '../config';
import { warnLateError } from './guarded-callback';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

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
 * Paths asked for over and over by machines, not by a person's click: the panel's status poll (every
 * 4 s per open panel), static files, the favicon and health probes. Logged at debug when they succeed.
 */
const ROUTINE_PATH = /^\/(?:lti\/api\/status|public\/.*|favicon\.ico|healthz|readyz|health)$/;

/** The level of a request's line: error for a 5xx, debug for a routine path that succeeded, else info. */
export function requestLogLevel(path: string, status: number): LogLevel {
  if (status >= 500) return 'error';
  return status < 400 && ROUTINE_PATH.test(path) ? 'debug' : 'info';
}

/**
 * Express middleware: gives the request an id (X-Request-Id in and out), runs the rest of the
 * request inside its scope, and logs one line when the response is finished (method, path without
 * query, status, duration) at the level `requestLogLevel` gives.
 */
export function requestContext(logger: Logger) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const incoming = req.get('x-request-id');
    const reqId = incoming && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    res.setHeader('X-Request-Id', reqId);
    const started = process.hrtime.bigint();
    // As the request arrived (after canonicalCallbackUrl): by 'finish', a mounted router or static
    // handler may have left req.url relative to its mount ("/login" for /lti/login).
    const { method, path } = req;
    requestScope.run({ reqId }, () => {
      // A stream event's callback: a throw here would be uncaught (issue #19 §1), so it is a warning.
      res.once('finish', () => {
        requestScope.run({ reqId }, () => {
          try {
            logger.log(requestLogLevel(path, res.statusCode), 'request', {
              method,
              path,
              status: res.statusCode,
              ms: Number((process.hrtime.bigint() - started) / 1000n) / 1000,
            });
          } catch (err) {
            warnLateError(err);
          }
        });
      });
      next();
    });
  };
}

// ------------------------------------------------------------------------------------------ loggers

/** pino writing JSON lines to `destination` (stdout by default): time, level name, pid, hostname, reqId, msg. */
export function pinoLogger(destination?: DestinationStream, level: LogLevel = 'info'): Logger {
  const options = {
    level,
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
  };
  const base = destination ? pino(options, destination) : pino(options);
  return {
    log(level, message, fields = {}) {
      if (!base.isLevelEnabled(level)) return; // nothing to redact for a line nobody prints
      base[level](fieldsWithRequestId(fields), scrubString(message));
    },
  };
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const TAG: Record<LogLevel, string> = { debug: 'debug ', info: '', warn: 'WARN ', error: 'ERROR ' };
const BARE = /^[^\s"=]+$/;

function textValue(value: unknown): string {
  if (typeof value === 'string') return BARE.test(value) ? value : JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  return JSON.stringify(value) ?? String(value);
}

function twoDigits(n: number): string {
  return String(n).padStart(2, '0');
}

/**
 * One short line per event for a person at a terminal (development), redacted like the JSON lines:
 * "09:14:03 POST /lti/sence/start 302 12 ms"; other events "09:14:03 WARN <message> key=value…",
 * with the request id on warnings and errors (to find the request's other lines) and a stack, if
 * any, indented under its line. Local time: it is read beside the clock on the wall.
 */
export function textLogger(destination: DestinationStream, level: LogLevel = 'info', now: () => Date = () => new Date()): Logger {
  return {
    log(lineLevel, message, fields = {}) {
      if (RANK[lineLevel] < RANK[level]) return;
      const clean = fieldsWithRequestId(fields);
      const { reqId, stack, ...rest } = clean;
      const t = now();
      const parts = [`${twoDigits(t.getHours())}:${twoDigits(t.getMinutes())}:${twoDigits(t.getSeconds())} ${TAG[lineLevel]}`];
      const isRequest = message === 'request' && typeof rest.method === 'string' && typeof rest.path === 'string';
      if (isRequest) {
        const { method, path, status, ms, ...others } = rest;
        parts[0] += `${String(method)} ${String(path)} ${String(status)} ${Math.round(Number(ms))} ms`;
        for (const [k, v] of Object.entries(others)) if (v !== undefined) parts.push(`${k}=${textValue(v)}`);
      } else {
        parts[0] += scrubString(message);
        for (const [k, v] of Object.entries(rest)) if (v !== undefined) parts.push(`${k}=${textValue(v)}`);
      }
      if (reqId !== undefined && RANK[lineLevel] >= RANK.warn) parts.push(`reqId=${textValue(reqId)}`);
      let line = parts.join(' ');
      if (typeof stack === 'string') line += `\n${stack.split('\n').map((l) => `  ${l}`).join('\n')}`;
      destination.write(`${line}\n`);
    },
  };
}

/** The logger LOG_FORMAT and LOG_LEVEL ask for (config.ts: `logSettings`), writing to stdout by default. */
export function createLogger(settings: Readonly<LogSettings>, destination?: DestinationStream, now?: () => Date): Logger {
  if (settings.format === 'json') return pinoLogger(destination, settings.level);
  return textLogger(destination ?? process.stdout, settings.level, now);
}

let fromEnvironment: Logger | null = null;

/**
 * The process's logger, as LOG_FORMAT / LOG_LEVEL say (read on first use; loadConfig has refused
 * invalid values at start by then — should they be invalid anyway, the defaults apply).
 */
export const consoleLogger: Logger = {
  log(level, message, fields) {
    if (!fromEnvironment) {
      let settings: Readonly<LogSettings>;
      try {
        settings = logSettings(process.env);
      } catch {
        settings = { format: 'json', level: 'info' };
      }
      fromEnvironment = createLogger(settings);
    }
    fromEnvironment.log(level, message, fields);
  },
};

export const silentLogger: Logger = { log() {} };

/** Collects log lines in memory (tests assert that a bad request was logged), redacted as pino's are. */
export class MemoryLogger implements Logger {
  readonly lines: Array<{ level: LogLevel; message: string; fields: Record<string, unknown> }> = [];
  log(level: LogLevel, message: string, fields: Record<string, unknown> = {}): void {
    this.lines.push({ level, message: scrubString(message), fields: fieldsWithRequestId(fields) });
  }
}
