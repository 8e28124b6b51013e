/**
 * The coordinator's report (issue #9): /lti/staff/report (roster via NRPS merged with the tool's
 * records, filters, charts), its print-friendly page, and a learner's page. Staff only.
 */
import { Router, type Request } from 'express';
import { AppError } from '../../errors';
import { LEARNER_STATUSES, pageReport, parseReportQuery, REPORT_PAGE_SIZE, STATUS_DESCRIPTIONS, STATUS_LABELS, type ReportRow } from '../../domain/course-report';
import { formatAccredited, formatSantiagoDateTime } from '../../domain/time-format';
import { describeSenceError } from '../../domain/sence-error-catalogue';
import { defaultAction } from '../../domain/enrollment';
import { staffOnly } from '../staff-guard';
import { loadCoordinatorContext, type CoordinatorContext, type CoordinatorDeps } from '../coordinator-context';
import { rowView, actionText, LINE_LABELS } from '../report-view';
import { percentChart, sessionsPerDayChart, statusChart } from '../charts';
import { describeAuditReason, eventLabel, hasOriginWarning, sessionStateLabel } from '../event-labels';
import type { AlertService } from '../../application/alert-service';

export interface StaffReportDeps extends CoordinatorDeps {
  alerts?: AlertService | null;
}

export function rosterLine(ctx: CoordinatorContext): string {
  if (ctx.roster.ageMinutes === null) return 'Lista de participantes del LMS: no disponible.';
  const age = ctx.roster.ageMinutes;
  return `Lista de participantes del LMS actualizada ${age === 0 ? 'hace menos de 1 min' : `hace ${age} min`}.`;
}

export function staffReportRoutes(deps: StaffReportDeps): Router {
  const router = Router();
  const guard = staffOnly(deps.stores, deps.now);
  router.use('/staff', guard);

  router.get('/staff/report', async (req: Request, res) => {
    const ctx = await loadCoordinatorContext(deps, res, { refresh: req.query.actualizar === '1' });
    const query = parseReportQuery(req.query as Record<string, unknown>);
    // One page of the filtered rows; the chips count the search (and action) over the whole roster.
    const paged = pageReport(ctx.report.rows, query);
    const pageHref = (n: number) => ctx.links.href('/lti/staff/report', { estado: query.status, accion: query.codigoCurso, q: query.search, orden: query.sort, pagina: String(n) });
    const actions = [...new Set(ctx.report.rows.map((r) => r.action?.codigoCurso).filter((c): c is string => Boolean(c)))].sort();
    const sessions = ctx.report.rows.flatMap((r) => r.sessions);
    const alerts = deps.alerts ? await deps.alerts.openAlerts(ctx.identity.course) : [];
    // Issue #20 §5: the rows (of this page) credited by an answer from another site get the warning.
    const warned = await deps.stores.attendance.sessionsWithUnverifiedOrigin(paged.rows.flatMap((r) => r.sessions.map((s) => s.id)));
    const settings = ctx.course?.settings ?? null;
    const filtered = ['q', 'estado', 'accion', 'orden', 'pagina'].some((k) => Object.hasOwn(req.query, k));
    res.render('staff-report', {
      title: 'Reporte de asistencia SENCE',
      ...common(ctx),
      rows: paged.rows.map((r) => ({ ...rowView(r, ctx.links), originWarning: r.sessions.some((s) => warned.has(s.id)) })),
      total: paged.searchTotal,
      counts: paged.searchCounts,
      matching: paged.matching,
      pager: {
        page: paged.page,
        pageCount: paged.pageCount,
        first: paged.matching === 0 ? 0 : (paged.page - 1) * REPORT_PAGE_SIZE + 1,
        last: (paged.page - 1) * REPORT_PAGE_SIZE + paged.rows.length,
        prevHref: paged.page > 1 ? pageHref(paged.page - 1) : null,
        nextHref: paged.page < paged.pageCount ? pageHref(paged.page + 1) : null,
      },
      query,
      // After a search (or a chip, a sort, a page), focus goes to the results (issue #20, item 7).
      focusResults: filtered,
      courseAction: settings ? { ...defaultAction(settings), lineLabel: LINE_LABELS[settings.lineaCapacitacion] ?? null } : null,
      actions,
      statuses: LEARNER_STATUSES.map((s) => ({ value: s, label: STATUS_LABELS[s], description: STATUS_DESCRIPTIONS[s] })),
      charts: [statusChart(ctx.report.counts), percentChart(ctx.report.rows), sessionsPerDayChart(sessions, deps.now())],
      alerts,
    });
  });

  router.get('/staff/report/print', async (_req, res) => {
    const ctx = await loadCoordinatorContext(deps, res);
    const settings = ctx.course?.settings ?? null;
    res.render('staff-report-print', {
      title: 'Reporte de asistencia SENCE (para imprimir)',
      ...common(ctx),
      rows: ctx.report.rows.map((r) => rowView(r, ctx.links)),
      counts: ctx.report.counts,
      statuses: LEARNER_STATUSES.map((s) => ({ value: s, label: STATUS_LABELS[s] })),
      generatedAt: formatSantiagoDateTime(deps.now()),
      defaultActionText: settings ? actionText(defaultAction(settings)) : 'sin configurar',
      environmentText: settings ? (settings.environment === 'production' ? 'producción (rce)' : 'pruebas (rcetest)') : '—',
      requiredHours: settings?.requiredHours ?? null,
    });
  });

  router.get('/staff/learners/:sub', async (req, res) => {
    const ctx = await loadCoordinatorContext(deps, res);
    const sub = String(req.params.sub);
    const row = ctx.report.rows.find((r) => r.sub === sub);
    if (!row) throw new AppError('not-found', 404, 'Este estudiante no está en la lista del curso ni tiene registros en la herramienta.');
    res.render('staff-learner', {
      title: `Estudiante: ${row.name}`,
      ...common(ctx),
      learner: learnerPage(row, ctx),
      audit: await learnerAudit(deps, ctx, row),
      settings: ctx.course?.settings ?? null,
      lineLabels: LINE_LABELS,
      saved: typeof req.query.guardado === 'string' ? 'Cambios guardados.' : null,
      errors: {},
      values: null,
    });
  });

  return router;
}

/** What every coordinator view gets. */
export function common(ctx: CoordinatorContext) {
  return {
    identity: ctx.identity,
    links: ctx.links,
    ltik: ctx.links.ltik,
    courseTitle: ctx.courseTitle,
    configured: Boolean(ctx.course?.settings),
    rosterLine: rosterLine(ctx),
    rosterProblem: ctx.roster.problem,
    rosterTruncated: ctx.roster.truncatedNotice,
  };
}

export function learnerPage(row: ReportRow, ctx: CoordinatorContext) {
  const view = rowView(row, ctx.links);
  const enrollment = ctx.enrollments.find((e) => e.sub === row.sub) ?? null;
  return {
    ...view,
    email: row.email,
    exempt: row.exempt,
    enrollment,
    sessions: row.sessions.map((s) => ({
      id: s.id,
      startText: s.openedAt ? formatSantiagoDateTime(s.openedAt) : `${formatSantiagoDateTime(s.createdAt)} (pedido)`,
      closeText: s.endedAt ? formatSantiagoDateTime(s.endedAt) : '—',
      durationText: formatAccredited(s.accreditedSeconds),
      stateText: sessionStateLabel(s.state),
      reason: s.endReason,
      idSesionSence: s.idSesionSence ?? '—',
      codigoCurso: s.sent.CodigoCurso,
      errors: s.lastErrorCodes.map(describeSenceError),
    })),
  };
}

async function learnerAudit(deps: CoordinatorDeps, ctx: CoordinatorContext, row: ReportRow) {
  const sessionIds = new Set(row.sessions.map((s) => s.id));
  const entries = await deps.stores.audit.list({ course: ctx.identity.course, limit: 2000 });
  return entries
    .filter((e) => e.learner?.sub === row.sub || (e.sessionId !== null && sessionIds.has(e.sessionId)))
    .map((e) => ({
      atText: formatSantiagoDateTime(e.at),
      label: eventLabel(e.event),
      text: describeAuditReason(e),
      accepted: e.accepted,
      sourceIp: e.sourceIp ?? '',
      originWarning: hasOriginWarning(e),
    }));
}
