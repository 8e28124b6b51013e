/**
 * Staff only: the role comes from the signed launch alone. A learner gets a 403 with the Spanish
 * message and an audit entry; used by every coordinator route and export (issue #9).
 */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { AppError } from '../errors';
import type { Stores } from '../store/ports';
import { launchIdentity, requestInfo } from './launch-context';

export const STAFF_ONLY_MESSAGE = 'Esta página es solo para el equipo docente del curso. Vuelve al panel de asistencia.';

export function staffOnly(stores: Stores, now: () => Date): RequestHandler {
  return async (req: Request, res: Response, next: NextFunction) => {
    const identity = launchIdentity(res);
    if (!identity.isStaff) {
      await stores.audit.record({
        id: randomUUID(), at: now(), event: 'access-denied', accepted: false,
        reason: `learner tried ${req.method} ${req.baseUrl}${req.path}`, sourceIp: requestInfo(req).sourceIp,
        learner: identity.learner, course: identity.course, sessionId: null, details: {},
      });
      throw new AppError('forbidden-role', 403, STAFF_ONLY_MESSAGE);
    }
    next();
  };
}
