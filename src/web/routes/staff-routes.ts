/**
 * Staff pages under /lti/staff (instructors and OTEC coordinators; the role comes only from the
 * signed launch): course SENCE settings, OTECs and the course's audit log (the old attendance page
 * is gone, issue #20: the report holds it).
 */
import { describeAuditReason, eventLabel, hasOriginWarning } from '../event-labels';
import { Router, type NextFunction, type Request, type Response } from 'express';
import { randomUUID } from 'node:crypto';
import { AppError } from '../../errors';
import type { Config } from '../../config';
import type { Stores } from '../../store/ports';
import type { AuditEvent, Course, LearnerKey, Otec } from '../../domain/types';
import { CALLBACK_PATH_MAX_LENGTH, LIMIT_MIN, maxSessionLimitMinutes, validateCourseSettings, validateOtecInput } from '../../domain/course-settings';
import { isSharedOtec, otecsOfPlatform, saveOtecAsPlatformAdmin, sharedOtecCommand, unlinkOtecAsPlatformAdmin } from '../../application/otec-tenancy';
import { learnerKeyId, lookUpLearners } from '../../application/learner-lookup';
import { formatSantiagoDateTime } from '../../domain/time-format';
import { launchIdentity, ltikOf, requestInfo } from '../launch-context';
import { refuseLearner } from '../staff-guard';

export interface StaffDeps {
  stores: Stores;
  config: Pick<Config, 'publicUrl' | 'tokenKey' | 'defaultSessionLimitMinutes' | 'defaultWarningMinutes' | 'ltikMaxAgeMinutes'>;
  now?: () => Date;
}

export function staffRoutes(deps: StaffDeps): Router {
  const router = Router();
  const { stores, config } = deps;
  const now = deps.now ?? (() => new Date());

  // Role from the signed launch only; a learner gets a clear 403 and an audit entry.
  router.use('/staff', async (req: Request, res: Response, next: NextFunction) => {
    const identity = launchIdentity(res);
    // One counted entry per learner, course and window, rate-limited (issue #19): src/web/staff-guard.ts.
    if (!identity.isStaff) await refuseLearner(stores, now(), req, res, identity);
    next();
  });

  const renderSettings = async (res: Response, status: number, extra: Record<string, unknown>) => {
    const identity = launchIdentity(res);
    // Read only: re-showing the form (also after a refused save) must not write anything.
    const [stored, otecs] = await Promise.all([stores.courses.get(identity.course), otecsOfPlatform(stores, identity.course)]);
    const course: Course = stored ?? { ...identity.course, title: identity.courseTitle, settings: null, updatedAt: now() };
    res.status(status).render('staff-settings', {
      title: 'Configuración SENCE del curso',
      identity,
      ltik: ltikOf(res),
      course,
      // Course staff see only their platform's OTECs, never a token (not even its last characters).
      otecs: otecs.map((o) => publicOtec(o, identity.isAdmin)),
      isAdmin: identity.isAdmin,
      values: settingsValues(course, config),
      errors: {},
      otecErrors: {},
      otecValues: {},
      saved: null,
      callbackUrlLength: config.publicUrl.length + CALLBACK_PATH_MAX_LENGTH,
      sessionLimitRange: { min: LIMIT_MIN, max: maxSessionLimitMinutes(config.ltikMaxAgeMinutes) },
      ...extra,
    });
  };

  router.get('/staff', (_req, res) => renderSettings(res, 200, {}));

  router.post('/staff/settings', async (req, res) => {
    const identity = launchIdentity(res);
    const otecs = await otecsOfPlatform(stores, identity.course);
    const input = (req.body ?? {}) as Record<string, unknown>;
    const result = validateCourseSettings(input, {
      otecIds: otecs.map((o) => o.id),
      publicUrl: config.publicUrl,
      defaults: { sessionLimitMinutes: config.defaultSessionLimitMinutes, warningMinutes: config.defaultWarningMinutes },
      ltikMaxAgeMinutes: config.ltikMaxAgeMinutes,
    });
    if (!result.ok) {
      await audit(stores, now(), req, identity.learner, identity.course, 'settings-rejected', false, Object.keys(result.errors).join(', '));
      await renderSettings(res, 400, { values: stringValues(input), errors: result.errors });
      return;
    }
    await stores.courses.saveSettings(identity.course, result.settings);
    await audit(stores, now(), req, identity.learner, identity.course, 'settings-saved', true, `line ${result.settings.lineaCapacitacion}, ${result.settings.environment}`);
    await renderSettings(res, 200, { saved: 'Configuración guardada.' });
  });

  // OTECs are managed by the LMS administrators of the platforms they are linked to (issue #7).
  const requireAdmin = async (req: Request, res: Response, what: string) => {
    const identity = launchIdentity(res);
    if (identity.isAdmin) return identity;
    await audit(stores, now(), req, identity.learner, identity.course, 'otec-refused', false, `not an LMS administrator: ${what}`);
    throw new AppError('otec-forbidden', 403, 'Solo un administrador de la plataforma (LMS) puede agregar, modificar o quitar OTEC. Como docente, elija el OTEC del curso en la lista.', {
      staffHint: 'Pida al administrador de su plataforma (Moodle: administrador del sitio) que agregue el OTEC desde esta misma página, o al operador de Asistencia SENCE: npm run cli -- otec add.',
    });
  };

  router.post('/staff/otecs', async (req, res) => {
    const identity = await requireAdmin(req, res, 'save otec');
    const input = (req.body ?? {}) as Record<string, unknown>;
    const result = validateOtecInput(input);
    if (!result.ok) {
      await audit(stores, now(), req, identity.learner, identity.course, 'settings-rejected', false, `otec: ${Object.keys(result.errors).join(', ')}`);
      // The token typed is never sent back to the page.
      await renderSettings(res, 400, { otecErrors: result.errors, otecValues: { name: String(input.name ?? ''), rut: String(input.rut ?? '') } });
      return;
    }
    const at = now();
    let saved;
    try {
      saved = await saveOtecAsPlatformAdmin(stores, config.tokenKey, identity.course, result.value, at);
    } catch (err) {
      if (err instanceof AppError && err.code === 'otec-forbidden') {
        const stored = (await stores.otecs.list()).find((o) => o.rut === result.value.rut);
        const why = stored && isSharedOtec(stored) ? 'is linked to several platforms' : 'belongs to another platform';
        await audit(stores, at, req, identity.learner, identity.course, 'otec-refused', false, `otec ${result.value.rut} ${why}`);
      }
      throw err;
    }
    const { otec, created } = saved;
    await audit(stores, at, req, identity.learner, identity.course, 'otec-saved', true, `otec ${otec.rut} ${created ? 'created' : 'updated'}`);
    await renderSettings(res, 200, { saved: created ? `OTEC ${otec.name} agregado.` : `OTEC ${otec.name} actualizado.` });
  });

  router.post('/staff/otecs/:id/unlink', async (req, res) => {
    const identity = await requireAdmin(req, res, 'unlink otec');
    const otec = await unlinkOtecAsPlatformAdmin(stores, identity.course, String(req.params.id), now());
    await audit(stores, now(), req, identity.learner, identity.course, 'otec-removed', true, `otec ${otec.rut} unlinked from ${identity.course.issuer}`);
    await renderSettings(res, 200, { saved: `OTEC ${otec.name} quitado de esta plataforma.` });
  });

  // The old "Sesiones" page and its CSV (issue #20): the report, the learner's page and the report's
  // exports hold everything they showed. 410 with links, not a redirect: a redirect would lose the
  // ltik, which travels in the body of the navigation POST, never in a URL.
  router.get(['/staff/attendance', '/staff/attendance.csv'], (_req, res) => {
    res.status(410).render('staff-gone', { title: 'Página retirada', identity: launchIdentity(res), ltik: ltikOf(res) });
  });

  // The course's audit log (issue #7): filters, the learner on every row, repeated entries counted,
  // callbacks whose Origin/Referer named another site marked "origen no verificado" (issue #20 §5).
  router.get('/staff/audit', async (req, res) => {
    const identity = launchIdentity(res);
    const q = req.query as Record<string, unknown>;
    const resultado = q.resultado === 'aceptados' || q.resultado === 'rechazados' ? q.resultado : 'todos';
    const sub = typeof q.estudiante === 'string' && q.estudiante !== '' && q.estudiante.length <= 255 ? q.estudiante : null;
    const learner = sub ? { issuer: identity.course.issuer, clientId: identity.course.clientId, sub } : undefined;
    // Pages of AUDIT_PAGE_SIZE (issue #19); one row more tells whether there is a next page.
    const page = auditPageNumber(q.pagina);
    const found = await stores.audit.list({
      course: identity.course,
      limit: AUDIT_PAGE_SIZE + 1,
      offset: (page - 1) * AUDIT_PAGE_SIZE,
      ...(resultado === 'todos' ? {} : { accepted: resultado === 'aceptados' }),
      ...(learner ? { learner } : {}),
    });
    const entries = found.slice(0, AUDIT_PAGE_SIZE);
    const pageHref = (n: number) => {
      const params = new URLSearchParams();
      if (resultado !== 'todos') params.set('resultado', resultado);
      if (sub) params.set('estudiante', sub);
      params.set('pagina', String(n));
      return `/lti/staff/audit?${params.toString()}`;
    };
    const sessions = await stores.attendance.listCourseSessions(identity.course);
    const people = await learnerDirectory(stores, [...entries.map((e) => e.learner).filter((l): l is LearnerKey => l !== null), ...sessions.map((s) => s.learner)]);
    res.render('staff-audit', {
      title: 'Registro de auditoría',
      identity,
      ltik: ltikOf(res),
      filter: { resultado, estudiante: sub ?? '' },
      pager: {
        page,
        prevHref: page > 1 ? pageHref(page - 1) : null,
        nextHref: found.length > AUDIT_PAGE_SIZE ? pageHref(page + 1) : null,
        firstHref: page > 1 ? pageHref(1) : null,
      },
      learners: [...new Map(sessions.map((s) => [s.learner.sub, people.get(learnerKeyId(s.learner))])).entries()].map(([value, p]) => ({ value, label: p ? `${p.name}${p.run ? ` (${p.run})` : ''}` : value })),
      entries: entries.map((e) => {
        const p = e.learner ? people.get(learnerKeyId(e.learner)) : undefined;
        const d = e.details as { originVerified?: unknown; origin?: unknown; referer?: unknown };
        return {
          ...e,
          atText: formatSantiagoDateTime(e.at),
          eventText: eventLabel(e.event),
          reasonText: describeAuditReason(e),
          lastAtText: (e.count ?? 1) > 1 && e.lastAt ? formatSantiagoDateTime(e.lastAt) : null,
          learnerName: p?.name ?? (e.learner ? e.learner.sub : ''),
          learnerRun: p?.run ?? '',
          originWarning: hasOriginWarning(e),
          // Callbacks keep their Origin/Referer, also when there was none (shown quietly, issue #20 §5).
          hasProvenance: Object.hasOwn(d, 'origin') || Object.hasOwn(d, 'referer'),
          origin: typeof d.origin === 'string' ? d.origin : null,
          referer: typeof d.referer === 'string' ? d.referer : null,
        };
      }),
    });
  });

  return router;
}

function publicOtec(o: Otec, withTokenHint: boolean) {
  // A shared OTEC (several platforms) is changed only through the CLI (issue #19): the command shown.
  return { id: o.id, name: o.name, rut: o.rut, tokenHint: withTokenHint ? o.tokenHint : null, sharedCommand: isSharedOtec(o) ? sharedOtecCommand(o) : null };
}

function settingsValues(course: Course, config: StaffDeps['config']): Record<string, string> {
  const s = course.settings;
  return {
    otecId: s?.otecId ?? '',
    lineaCapacitacion: String(s?.lineaCapacitacion ?? 3),
    codSence: s?.codSence ?? '',
    codigoCurso: s?.codigoCurso ?? '',
    requiredHours: s ? String(s.requiredHours) : '',
    environment: s?.environment ?? 'test',
    sessionLimitMinutes: String(s?.sessionLimitMinutes ?? config.defaultSessionLimitMinutes),
    warningMinutes: String(s?.warningMinutes ?? config.defaultWarningMinutes),
  };
}

function stringValues(input: Record<string, unknown>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(input)) if (k !== 'ltik' && typeof v === 'string') out[k] = v;
  return out;
}

/** Rows per page of the audit page (issue #19: paginated). */
export const AUDIT_PAGE_SIZE = 50;
/** Deepest page reachable (offset bounded: a skip of millions is slow on either store). */
export const AUDIT_MAX_PAGE = 2000;

/** `pagina` from the query: a whole number from 1 to AUDIT_MAX_PAGE; anything else is page 1. */
function auditPageNumber(raw: unknown): number {
  if (typeof raw !== 'string' || !/^\d{1,6}$/.test(raw)) return 1;
  const n = Number(raw);
  return n >= 1 && n <= AUDIT_MAX_PAGE ? n : 1;
}

/** Name (the sub when unknown) and RUN of each learner behind `keys`, by learnerKeyId. */
async function learnerDirectory(stores: Stores, keys: LearnerKey[]): Promise<Map<string, { name: string; run: string | null }>> {
  const found = await lookUpLearners(stores.learners, keys);
  const out = new Map<string, { name: string; run: string | null }>();
  for (const key of keys) {
    const id = learnerKeyId(key);
    if (out.has(id)) continue;
    const learner = found.get(id);
    out.set(id, { name: learner?.name ?? key.sub, run: learner?.run ?? null });
  }
  return out;
}

async function audit(stores: Stores, at: Date, req: Request, learner: LearnerKey, course: { issuer: string; clientId: string; contextId: string }, event: AuditEvent, accepted: boolean, reason: string) {
  await stores.audit.record({ id: randomUUID(), at, event, accepted, reason, sourceIp: requestInfo(req).sourceIp, learner, course, sessionId: null, details: {} });
}
