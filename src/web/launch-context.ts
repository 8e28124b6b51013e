/** What a request under /lti knows after ltijs validated its ltik: who, which course, which role. */
import type { Request, Response } from 'express';
import type { IdToken } from 'ltijs';
import { AppError } from '../errors';
import { identityFromLaunch, type LaunchIdentity } from '../lti/identity';
import type { Course, Learner } from '../domain/types';
import type { Stores } from '../store/ports';
import type { RequestInfo } from '../application/attendance-service';

export function launchIdentity(res: Response): LaunchIdentity {
  const token = (res.locals as { token?: IdToken }).token;
  if (!token) throw new AppError('lti-missing-ltik', 401, 'Tu sesión en la herramienta no es válida. Vuelve a entrar desde tu curso.');
  return identityFromLaunch(token);
}

export function ltikOf(res: Response): string {
  return String((res.locals as { ltik?: string }).ltik ?? '');
}

/** Stores what the signed launch says about the learner and the course (on launch and on start). */
export async function recordLaunch(stores: Stores, identity: LaunchIdentity): Promise<{ learner: Learner; course: Course }> {
  const [learner, course] = await Promise.all([
    stores.learners.upsert({
      ...identity.learner,
      name: identity.name,
      email: identity.email,
      run: identity.run,
      runSource: identity.runSource,
    }),
    stores.courses.touch(identity.course, identity.courseTitle),
  ]);
  return { learner, course };
}

export function requestInfo(req: Request): RequestInfo {
  return { sourceIp: req.ip ?? req.socket.remoteAddress ?? null };
}
