/**
 * Staff only: the role comes from the signed launch alone. A learner gets a 403 with the Spanish
 * message and an audit entry; used by every coordinator route, export and the settings pages.
 *
 * Issue #19: a learner's refusals are one audit entry per learner, course and 10-minute window,
 * with a count and without the path (the path is chosen by the learner: 3,000 distinct paths were
 * 3,000 rows), and at most STAFF_REFUSALS_PER_MINUTE of them a minute are even counted: past that
 * the learner gets a 429 and nothing is written.
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../errors';
import type { Stores } from '../store/ports';
import { REPEATED_REJECTION_WINDOW_MS } from '../application/attendance-service';
import { learnerKeyId } from '../application/learner-lookup';
import type { LaunchIdentity } from '../lti/identity';
import { launchIdentity, requestInfo } from './launch-context';

/** A learner's refused staff requests per minute (and course); past it, 429 without an audit write. */
export const STAFF_REFUSALS_PER_MINUTE = 30;

export const STAFF_ONLY_MESSAGE = 'Esta página es solo para el equipo docente del curso. Vuelve al panel de asistencia.';

/** The fixed reason of every refusal (describeAuditReason shows it in Spanish). */
export const STAFF_REFUSAL_REASON = 'learner tried a staff page';

const MINUTE_MS = 60_000;

/**
 * Refusals per learner and course in the current minute. The whole map is dropped when the minute
 * ends (O(1) amortised, bounded by the learners who were refused in one minute).
 */
class RefusalCounter {
  private windowEnd = 0;
  private counts = new Map<string, number>();

  hit(key: string, t: number): { count: number; retryAfterS: number } {
    if (t >= this.windowEnd) {
      this.counts = new Map();
      this.windowEnd = t + MINUTE_MS;
    }
    const count = (this.counts.get(key) ?? 0) + 1;
    this.counts.set(key, count);
    return { count, retryAfterS: Math.max(1, Math.ceil((this.windowEnd - t) / 1000)) };
  }
}

// One counter per running system (its stores), shared by every staff guard of that system.
const counters = new WeakMap<Stores, RefusalCounter>();

/** Audits (counted) and throws the learner's refusal, or the 429 past the per-minute limit. */
export async function refuseLearner(stores: Stores, at: Date, req: Request, res: Response, identity: LaunchIdentity): Promise<never> {
  let counter = counters.get(stores);
  if (!counter) {
    counter = new RefusalCounter();
    counters.set(stores, counter);
  }
  const who = [learnerKeyId(identity.learner), identity.course.contextId].join('\u0000');
  const { count, retryAfterS } = counter.hit(who, Date.now());
  if (count > STAFF_REFUSALS_PER_MINUTE) {
    res.setHeader('Retry-After', String(retryAfterS));
    throw new AppError('rate-limited', 429, `Demasiadas solicitudes seguidas. Espera ${retryAfterS} segundos e inténtalo de nuevo.`, {
      details: { rule: 'staff-refusals' },
    });
  }
  await stores.audit.recordRepeatable({
    id: randomUUID(), at, event: 'access-denied', accepted: false,
    reason: STAFF_REFUSAL_REASON, sourceIp: requestInfo(req).sourceIp,
    learner: identity.learner, course: identity.course, sessionId: null, details: {},
  }, ['access-denied', 'staff-page', who].join('\u0000'), new Date(at.getTime() - REPEATED_REJECTION_WINDOW_MS));
  throw new AppError('forbidden-role', 403, STAFF_ONLY_MESSAGE);
}

export function staffOnly(stores: Stores, now: () => Date): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const identity = launchIdentity(res);
    if (!identity.isStaff) await refuseLearner(stores, now(), req, res, identity);
    next();
  };
}
