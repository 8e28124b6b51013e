/** What a request under /lti knows after ltijs validated its ltik: who, which course, which role. */
import type { NextFunction, Request, Response } from 'express';
import { courseRef } from '../lti/platform-storage';
import type { IdToken } from 'ltijs';
import { AppError } from '../errors';
import { identityFromLaunch, type LaunchIdentity } from '../lti/identity';
import { deepFreeze } from '../lti/launch-session-cache';
import { carriesIdToken } from '../lti/lti-runtime';
import type { Course, Learner } from '../domain/types';
import type { Stores } from '../store/ports';
import type { RequestInfo } from '../application/attendance-service';

/**
 * Identities derived from launch records the runtime keeps frozen and shares between requests
 * (lti/launch-session-cache.ts): the same record always gives the same identity, so it is derived
 * once (frozen too), not by every middleware and route of every poll.
 */
const sharedIdentities = new WeakMap<object, LaunchIdentity>();

export function launchIdentity(res: Response): LaunchIdentity {
  const token = (res.locals as { token?: IdToken }).token;
  if (!token) throw new AppError('lti-missing-ltik', 401, 'Tu sesión en la herramienta no es válida. Vuelve a entrar desde tu curso.');
  if (!Object.isFrozen(token)) return identityFromLaunch(token);
  let identity = sharedIdentities.get(token);
  if (!identity) {
    identity = deepFreeze(identityFromLaunch(token));
    sharedIdentities.set(token, identity);
  }
  return identity;
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

/**
 * The course record for a page: written from the signed launch (with the learner's) when this
 * request IS the launch (the LMS's form_post with an id_token), read otherwise — showing a page again
 * (the panel reloading itself, a staff link) writes nothing and reads only the course, whose title
 * and settings the page shows. A missing course is written (with the learner). The learner's record
 * is not read on a page view: nothing on the page comes from it, the launch wrote it, and every start
 * of a SENCE session writes it again (recordLaunch); it was a tenth of a panel view's reads (issue #8).
 */
export async function launchRecords(req: Request, stores: Stores, identity: LaunchIdentity): Promise<{ course: Course }> {
  if (!carriesIdToken(req)) {
    const course = await stores.courses.get(identity.course);
    if (course) return { course };
  }
  return { course: (await recordLaunch(stores, identity)).course };
}

export function requestInfo(req: Request): RequestInfo {
  return { sourceIp: req.ip ?? req.socket.remoteAddress ?? null };
}

/**
 * Every page of the tool sends back, beside the ltik, a reference to the course it was rendered for
 * (form field `course`, or header `X-Asistencia-Course` for the panel's poll): a request that names
 * another course than its ltik's is refused. Views get `courseRef` to send.
 */
export function bindLtikToCourse(req: Request, res: Response, next: NextFunction): void {
  if (!(res.locals as { token?: unknown }).token) return next();
  const ref = courseRef(launchIdentity(res).course);
  res.locals.courseRef = ref;
  const body = req.body as Record<string, unknown> | undefined;
  const query = req.query as Record<string, unknown>;
  // Every reference the request carries (body, header, query) must name the ltik's course, not
  // only the first one found: a page cannot pair its own course in one place with another elsewhere.
  const presented = [
    body !== null && typeof body === 'object' && Object.hasOwn(body, 'course') ? body.course : undefined,
    req.get('x-asistencia-course'),
    Object.hasOwn(query, 'course') ? query.course : undefined,
  ];
  if (presented.some((v) => v !== undefined && v !== '' && v !== ref)) {
    return next(new AppError('lti-course-mismatch', 403, 'Esta página pertenece a otro curso o a otro ingreso. Vuelve a abrir la actividad desde el curso que quieres usar.'));
  }
  next();
}

/**
 * The tool's own links are posted (public/tool-nav.js) so the ltik stays out of URLs: a POST with
 * `_nav=1` is a navigation, answered as the GET of the same URL (query included). Read-only by
 * construction: only GET routes can match it.
 */
export function navigationPostAsGet(req: Request, _res: Response, next: NextFunction): void {
  if (req.method === 'POST' && (req.body as Record<string, unknown> | undefined)?._nav === '1') req.method = 'GET';
  next();
}

/**
 * Post/redirect/get without the ltik in a URL: after a change, the browser is sent on to `path` with
 * a navigation POST (auto-submitted) carrying the ltik and course, instead of a 303 whose GET would
 * have to carry the ltik in its query.
 */
export function navigateTo(res: Response, path: string, lead = 'Cambios guardados.'): void {
  const locals = res.locals as { ltik?: string; courseRef?: string };
  res.set('Cache-Control', 'no-store').render('auto-post', {
    title: 'Asistencia SENCE',
    lead,
    form: { action: path, fields: { ltik: locals.ltik ?? '', course: locals.courseRef ?? '', _nav: '1' } },
  });
}
