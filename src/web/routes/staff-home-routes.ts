/**
 * The staff home (issue #9, item 8): what an instructor sees on launch — the course's SENCE state in
 * one screen (configured or not and what is missing, learners by status, open sessions now, errors
 * to act on) with the way to every coordinator page. Mounted before the learner routes; learners
 * and deep-linking launches go on to them.
 */
import { Router, type NextFunction, type Request, type Response } from 'express';
import { LEARNER_STATUSES, STATUS_DESCRIPTIONS, STATUS_LABELS } from '../../domain/course-report';
import { launchIdentity, launchRecords } from '../launch-context';
import { loadCoordinatorContext } from '../coordinator-context';
import { common, type StaffReportDeps } from './staff-report-routes';
import { actionText } from '../report-view';
import { defaultAction } from '../../domain/enrollment';

export function staffHomeRoutes(deps: StaffReportDeps): Router {
  const router = Router();
  // The launch itself (a POST answered directly, issue #6) and the tool's own links land here.
  const home = async (req: Request, res: Response, next: NextFunction) => {
    const identity = launchIdentity(res);
    const context = res.locals.context as { messageType?: string } | undefined;
    const pendingStorageCheck = (res.locals as { platformStorage?: unknown }).platformStorage !== undefined;
    if (!identity.isStaff || context?.messageType === 'LtiDeepLinkingRequest' || pendingStorageCheck) {
      next();
      return;
    }
    await launchRecords(req, deps.stores, identity);
    const ctx = await loadCoordinatorContext(deps, res);
    const settings = ctx.course?.settings ?? null;
    const missing: string[] = [];
    if (!settings) {
      missing.push('Elegir el OTEC, la línea de capacitación, los códigos SENCE (CodSence y CodigoCurso) y las horas requeridas.');
    } else {
      const otec = await deps.stores.otecs.get(settings.otecId);
      if (!otec) missing.push('El OTEC elegido ya no existe: elija otro en la configuración.');
    }
    const open = ctx.report.rows.filter((r) => r.status === 'sesion-abierta');
    const alerts = deps.alerts ? await deps.alerts.openAlerts(ctx.identity.course) : [];
    res.render('staff-home', {
      ...common(ctx),
      settings,
      missing,
      defaultActionText: settings ? actionText(defaultAction(settings)) : null,
      total: ctx.report.rows.length,
      counts: ctx.report.counts,
      statuses: LEARNER_STATUSES.map((s) => ({ value: s, label: STATUS_LABELS[s], description: STATUS_DESCRIPTIONS[s] })),
      openNow: open.map((r) => ({ name: r.name, href: ctx.links.href(`/lti/staff/learners/${encodeURIComponent(r.sub)}`) })),
      toFix: ctx.report.counts['con-error'] + ctx.report.counts['sin-run'],
      alerts,
    });
  };
  router.get('/', home);
  router.post('/', home);
  return router;
}
