/**
 * The learner's side under /lti (ltijs already validated the ltik): the panel, its status JSON
 * (polled by the panel), and the two buttons that send the browser to SENCE.
 */
import { randomBytes } from 'node:crypto';
import { Router, type Request, type Response } from 'express';
import type { Config } from '../../config';
import { AppError } from '../../errors';
import { checkPendingLaunch, PENDING_LAUNCH_SECONDS, sealPendingLaunch } from '../../lti/platform-storage';
import type { Stores } from '../../store/ports';
import type { Learner } from '../../domain/types';
import type { AttendanceService } from '../../application/attendance-service';
import type { Logger } from '../logger';
import { renderSenceRedirect } from '../sence-redirect';
import { launchIdentity, launchRecords, ltikOf, recordLaunch, requestInfo } from '../launch-context';

/** Set by the launch step for a login bound through LTI Platform Storage (lti-runtime.ts). */
interface PlatformStorageLaunch {
  target: string;
  origin: string;
  key: string;
  state: string;
  relaunchQuery: string | null;
}

export interface LearnerDeps {
  stores: Stores;
  attendance: AttendanceService;
  logger: Logger;
  config: Pick<Config, 'publicUrl' | 'tokenKey'>;
  nowMs?: () => number;
}

export function learnerRoutes(deps: LearnerDeps): Router {
  const router = Router();
  const { stores, attendance, logger, config } = deps;
  const nowMs = deps.nowMs ?? Date.now;
  const relaunchUrl = (query: string | null) => (query ? `${config.publicUrl}/lti/login?${query}` : undefined);

  // Launch landing: panel for learners, content picker for deep linking (staff land on staff-home-routes first).
  // The launch itself (the LMS's form_post) answers it directly, and the tool's own pages reach it
  // again with a POST carrying the ltik, so the ltik never sits in a URL.
  const landing = async (req: Request, res: Response) => {
    const identity = launchIdentity(res);
    const ltik = ltikOf(res);
    const storage = (res.locals as { platformStorage?: PlatformStorageLaunch }).platformStorage;
    if (storage) {
      // The platform holds this login's state in this browser's storage: read it back before the
      // panel. Until then the page holds no ltik (not even in the layout's #tool-session: the
      // locals lose it), only the sealed pending launch, whose record is spent by the first answer.
      const id = randomBytes(18).toString('base64url');
      const issuedAt = nowMs();
      // The record outlives the seal by a second: the seal's expiry (whole seconds) decides.
      await stores.pendingLaunches.save(id, new Date(issuedAt + (PENDING_LAUNCH_SECONDS + 1) * 1000));
      delete (res.locals as { ltik?: unknown }).ltik;
      delete (res.locals as { courseRef?: unknown }).courseRef;
      res.set('Cache-Control', 'no-store').render('platform-storage-launch', {
        title: 'Entrando a Asistencia SENCE',
        storage,
        pending: sealPendingLaunch({ id, ltik, state: storage.state, relaunchQuery: storage.relaunchQuery }, config.tokenKey, issuedAt),
      });
      return;
    }
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
    const { course } = await launchRecords(req, stores, identity);
    const panel = await attendance.panel(identity.learner, course, course);
    // Staff landed on the course's state screen before this (staff-home-routes.ts).
    res.render('panel', { identity, ltik, panel, course, courseTitle: course.title });
  };
  router.get('/', landing);
  router.post('/', landing);

  // The launch page's answer from the platform's storage (whitelisted in ltijs: no ltik yet).
  router.post('/storage-check', async (req, res) => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const field = (name: string) => (Object.hasOwn(body, name) && typeof body[name] === 'string' ? (body[name] as string) : '');
    const browserError = field('error');
    const check = checkPendingLaunch(field('pending'), field('value'), config.tokenKey, nowMs());
    // A readable, unexpired pending launch is spent by its first answer, whatever that answer is.
    const id = check.ok ? check.launch.id : check.reason === 'state-mismatch' ? check.id : null;
    if (id !== null && !(await stores.pendingLaunches.consume(id, new Date(nowMs())))) {
      throw new AppError('lti-replayed-launch', 401, 'Esta confirmación de ingreso ya se usó. Vuelve a entrar desde tu curso.', {
        relaunchUrl: relaunchUrl(check.ok ? check.launch.relaunchQuery : check.relaunchQuery),
        details: { step: 'platform-storage', reason: 'pending-spent' },
      });
    }
    if (check.ok && !browserError) {
      res.set('Cache-Control', 'no-store').render('auto-post', {
        title: 'Abriendo Asistencia SENCE',
        lead: 'Ingreso confirmado. Abriendo tu panel…',
        form: { action: '/lti/', fields: { ltik: check.launch.ltik } },
      });
      return;
    }
    const relaunch = relaunchUrl(check.ok ? check.launch.relaunchQuery : check.relaunchQuery);
    if (browserError) {
      throw new AppError('lti-storage-unavailable', 401, 'Tu navegador no deja que Asistencia SENCE confirme tu ingreso dentro de la página del curso (bloquea el almacenamiento de otros sitios). Ábrela en una ventana nueva: funciona igual.', {
        relaunchUrl: relaunch,
        details: { browserError: browserError.slice(0, 40) },
      });
    }
    const reason = check.ok ? 'state-mismatch' : check.reason;
    const message =
      reason === 'expired'
        ? 'La confirmación de tu ingreso tardó demasiado. Vuelve a entrar desde tu curso.'
        : reason === 'state-mismatch'
          ? 'Este ingreso no se inició en este navegador, así que no podemos continuar. Vuelve a entrar desde tu curso.'
          : 'No pudimos confirmar tu ingreso. Vuelve a entrar desde tu curso.';
    throw new AppError('lti-state-mismatch', 401, message, { relaunchUrl: relaunch, details: { step: 'platform-storage', reason } });
  });

  router.get('/api/status', async (_req, res) => {
    const identity = launchIdentity(res);
    const course = await stores.courses.get(identity.course);
    res.set('Cache-Control', 'no-store').json(await attendance.panel(identity.learner, identity.course, course));
  });

  router.post('/sence/start', async (req, res) => {
    const identity = launchIdentity(res);
    // A start that is refused (no RUN, course not configured, exempt…) writes nothing: the checks
    // run on the launch's identity and the stored course, and the launch is recorded only once the
    // start was accepted (issue #19 §9, found by the fuzz: a 422 had already rewritten both).
    const learner: Learner = { ...identity.learner, name: identity.name, email: identity.email, run: identity.run, runSource: identity.runSource, updatedAt: new Date(nowMs()) };
    // Issue #20 §11: a start already waiting for SENCE (another tab, a panel not yet refreshed) is
    // shown, with a button to continue it, instead of a second SENCE window the tool would not hear of.
    const body = (req.body ?? {}) as Record<string, unknown>;
    const continuing = Object.hasOwn(body, 'continuar') && body.continuar === '1';
    if (!continuing) {
      const pending = await attendance.pendingStart(identity.learner, identity.course);
      if (pending) {
        res.set('Cache-Control', 'no-store').render('sence-pending', { title: 'Ya tienes un ingreso a SENCE en curso', ltik: ltikOf(res), pending });
        return;
      }
    }
    const started = await attendance.start(learner, await stores.courses.get(identity.course), requestInfo(req));
    await recordLaunch(stores, identity);
    renderSenceRedirect(res, 'start', started);
  });

  router.post('/sence/close', async (req, res) => {
    const identity = launchIdentity(res);
    renderSenceRedirect(res, 'close', await attendance.close(identity.learner, identity.course, requestInfo(req)));
  });

  return router;
}
