/**
 * In-memory rate limits (issue #7, finding 6): fixed one-minute windows per key. One process holds
 * the counters (the tool runs as one process; behind several, each limits on its own — documented).
 * Over the limit: 429 with Retry-After and a Spanish page; logged once per key and window.
 */
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors';
import type { Logger } from './logger';

export interface RateLimits {
  /** SENCE callbacks (/cb/…) and the SENCE window's buttons (/sence/window/…) per source address per minute. */
  callbacksPerAddress: number;
  /** SENCE callbacks per attempt (the id in the callback URL) per minute: SENCE sends one. */
  callbacksPerAttempt: number;
  /** OIDC login initiations (/lti/login) per source address per minute. */
  loginsPerAddress: number;
  /** Dynamic registrations (/lti/register) per source address per minute. */
  registrationsPerAddress: number;
}

// Per address: a whole training room behind one NAT (or an OTEC's office) launches and answers
// SENCE at 9:00 from a single address, so the per-address limits leave room for a few hundred
// learners a minute; the per-attempt limit is what stops a learner flooding their own attempt.
export const DEFAULT_RATE_LIMITS: Readonly<RateLimits> = Object.freeze({
  callbacksPerAddress: 600,
  callbacksPerAttempt: 10,
  loginsPerAddress: 600,
  registrationsPerAddress: 10,
});

/** Length of every rate-limit window. */
export const RATE_WINDOW_MS = 60_000;

interface Window {
  count: number;
  resetAt: number;
}

/**
 * Fixed windows per key, expired in O(1) amortised (issue #19): the windows live in two
 * generations of maps. Every RATE_WINDOW_MS (checked on a hit) the current map becomes the previous
 * one and the previous one is dropped whole — by then every window in it has ended, since a window
 * lasts one RATE_WINDOW_MS from its first hit and its generation ended at least that long ago. A
 * key still inside its window is moved to the current map when it is hit again. Nothing ever walks
 * the maps (the former sweep walked all of them on every new key once they held 50,000).
 */
export class FixedWindowCounter {
  private current = new Map<string, Window>();
  private previous = new Map<string, Window>();
  private turnAt: number;
  /** Map entries looked at so far (tests: stays proportional to the hits). */
  visited = 0;

  constructor(private readonly now: () => number = Date.now) {
    this.turnAt = this.now() + RATE_WINDOW_MS;
  }

  /** Counts one hit; returns how many hits the key has in its current window (this one included) and when it resets. */
  hit(key: string): Window {
    const t = this.now();
    if (t >= this.turnAt) this.turn(t);
    let w = this.current.get(key);
    this.visited += 1;
    if (w === undefined) {
      const old = this.previous.get(key);
      this.visited += 1;
      if (old !== undefined) {
        this.previous.delete(key);
        if (old.resetAt > t) w = old;
      }
      if (w === undefined) w = { count: 0, resetAt: t + RATE_WINDOW_MS };
      this.current.set(key, w);
    } else if (w.resetAt <= t) {
      w = { count: 0, resetAt: t + RATE_WINDOW_MS };
      this.current.set(key, w);
    }
    w.count += 1;
    return w;
  }

  /** The time the windows are judged by (the same clock as hit's). */
  clock(): number {
    return this.now();
  }

  /** Keys held (both generations). */
  size(): number {
    return this.current.size + this.previous.size;
  }

  private turn(t: number): void {
    // Within one window of the last turn, the current windows may still be running; after a longer
    // silence nothing hit since can be (no hit came to turn the generations before).
    this.previous = t < this.turnAt + RATE_WINDOW_MS ? this.current : new Map();
    this.current = new Map();
    this.turnAt = t + RATE_WINDOW_MS;
  }
}

type KeyOf = (req: Request) => string | null;

function limiter(counter: FixedWindowCounter, logger: Logger, rules: Array<{ name: string; limit: number; key: KeyOf }>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    for (const rule of rules) {
      const k = rule.key(req);
      if (k === null) continue;
      const { count, resetAt } = counter.hit(`${rule.name}\u0000${k}`);
      if (count > rule.limit) {
        const retryAfter = Math.max(1, Math.ceil((resetAt - counter.clock()) / 1000));
        if (count === rule.limit + 1) logger.log('warn', 'rate limited', { rule: rule.name, key: k.slice(0, 80), limit: rule.limit, path: req.path });
        res.setHeader('Retry-After', String(retryAfter));
        next(new AppError('rate-limited', 429, `Demasiadas solicitudes seguidas. Espera ${retryAfter} segundos e inténtalo de nuevo.`, { details: { rule: rule.name } }));
        return;
      }
    }
    next();
  };
}

const address: KeyOf = (req) => req.ip ?? req.socket.remoteAddress ?? 'unknown';
/** The attempt id of /cb/ok/<attempt>.<token>, or null for a path without one. */
const attemptOf: KeyOf = (req) => /^\/cb\/(?:ok|er)\/([A-Za-z0-9_-]{12})\./.exec(req.baseUrl + req.path)?.[1] ?? null;

export function rateLimits(limits: RateLimits, logger: Logger, now?: () => number) {
  const counter = new FixedWindowCounter(now);
  return {
    callbacks: limiter(counter, logger, [
      { name: 'callbacks-per-attempt', limit: limits.callbacksPerAttempt, key: attemptOf },
      { name: 'callbacks-per-address', limit: limits.callbacksPerAddress, key: address },
    ]),
    login: limiter(counter, logger, [{ name: 'logins-per-address', limit: limits.loginsPerAddress, key: address }]),
    registration: limiter(counter, logger, [{ name: 'registrations-per-address', limit: limits.registrationsPerAddress, key: address }]),
  };
}
