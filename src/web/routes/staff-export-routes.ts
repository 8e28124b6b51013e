/**
 * Exports (issue #9, item 4): the report and the session log as CSV (Excel in Spanish) and XLSX.
 * Staff only, like every coordinator route.
 */
import { Router, type Response } from 'express';
import { staffOnly } from '../staff-guard';
import { loadCoordinatorContext, type CoordinatorDeps } from '../coordinator-context';
import { reportTable, sessionsTable, type Table } from '../../domain/export-table';
import { toCsv, toXlsx } from '../exports/table-writers';
import { santiagoDay } from '../charts';

const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

function fileName(kind: string, contextId: string, now: Date, ext: string): string {
  const safe = contextId.normalize('NFD').replace(/[^A-Za-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 40) || 'curso';
  return `asistencia-sence-${kind}-${safe}-${santiagoDay(now)}.${ext}`;
}

async function send(res: Response, table: Table, name: string, format: 'csv' | 'xlsx', title: string): Promise<void> {
  res.set('Cache-Control', 'no-store');
  res.set('X-Content-Type-Options', 'nosniff');
  res.attachment(name);
  if (format === 'csv') {
    res.type('text/csv; charset=utf-8').send(toCsv(table));
  } else {
    res.type(XLSX_TYPE).send(await toXlsx(table, { title }));
  }
}

export function staffExportRoutes(deps: CoordinatorDeps): Router {
  const router = Router();
  router.use('/staff/export', staffOnly(deps.stores, deps.now));
  for (const format of ['csv', 'xlsx'] as const) {
    router.get(`/staff/export/report.${format}`, async (_req, res) => {
      const ctx = await loadCoordinatorContext(deps, res);
      await send(res, reportTable(ctx.report.rows), fileName('reporte', ctx.identity.course.contextId, deps.now(), format), format, `Reporte de asistencia SENCE — ${ctx.courseTitle ?? ''}`);
    });
    router.get(`/staff/export/sessions.${format}`, async (_req, res) => {
      const ctx = await loadCoordinatorContext(deps, res);
      await send(res, sessionsTable(ctx.report.rows), fileName('sesiones', ctx.identity.course.contextId, deps.now(), format), format, `Sesiones SENCE — ${ctx.courseTitle ?? ''}`);
    });
  }
  return router;
}
