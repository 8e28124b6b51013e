/**
 * The learner's side under /lti (ltijs already validated the ltik): the panel, its status JSON
 * (polled by the panel), and the two buttons that send the browser to SENCE.
 */
import { Router } from 'express';
import type { Stores } from '../../store/ports';
import type { AttendanceService } from '../../application/attendance-service';
import type { Logger } from '../logger';
import { renderSenceRedirect } from '../sence-redirect';
import { launchIdentity, ltikOf, recordLaunch, requestInfo } from '../launch-context';

export function learnerRoutes(deps: { stores: Stores; attendance: AttendanceService; logger: Logger }): Router {
  const router = Router();
  const { stores, attendance, logger } = deps;

  // Launch landing: panel for learners, staff view for instructors, content picker for deep linking.
  router.get('/', async (_req, res) => {
    const identity = launchIdentity(res);
    const ltik = ltikOf(res);
    const context = res.locals.context as { messageType?: string } | undefined;
    if (context?.messageType === 'LtiDeepLinkingRequest') {
      res.render('deep-link-picker', { title: 'Agregar Asistencia SENCE', identity, ltik });
      return;
    }
    if (!identity.isStaff && !identity.run) {
      // No valid RUN: tell the learner what to do and staff what to fix; store nothing from this launch.
      logger.log('warn', 'launch without a valid RUN', {
        code: identity.runCandidates.some((c) => c.problem === 'format' || c.problem === 'check-digit') ? 'run-invalid' : 'run-missing',
        issuer: identity.learner.issuer,
        sub: identity.learner.sub,
        problems: identity.runCandidates.map((c) => `${c.source}:${c.problem}`).join(','),
      });
      const course = await stores.courses.get(identity.course);
      const panel = await attendance.panel(identity.learner, identity.course, course);
      res.status(422).render('panel', { identity, ltik, panel, course, courseTitle: course?.title ?? identity.courseTitle });
      return;
    }
    const { learner, course } = await recordLaunch(stores, identity);
    const panel = await attendance.panel(learner, course, course);
    res.render(identity.isStaff ? 'staff-home' : 'panel', { identity, ltik, panel, course, courseTitle: course.title });
  });

  router.get('/api/status', async (_req, res) => {
    const identity = launchIdentity(res);
    const course = await stores.courses.get(identity.course);
    res.set('Cache-Control', 'no-store').json(await attendance.panel(identity.learner, identity.course, course));
  });

  router.post('/sence/start', async (req, res) => {
    const identity = launchIdentity(res);
    const { learner, course } = await recordLaunch(stores, identity);
    renderSenceRedirect(res, 'start', await attendance.start(learner, course, requestInfo(req)));
  });

  router.post('/sence/close', async (req, res) => {
    const identity = launchIdentity(res);
    renderSenceRedirect(res, 'close', await attendance.close(identity.learner, identity.course, requestInfo(req)));
  });

  return router;
}
