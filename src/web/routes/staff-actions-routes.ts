/**
 * Per-learner SENCE action and exempt marks (issue #9, items 5 and 6): the actions page, the CSV
 * upload (`RUN;CodigoCurso`, validated row by row, nothing stored unless every row is valid), and
 * the learner page's form. Staff only.
 */
import { randomUUID } from 'node:crypto';
import { Router, type Request } from 'express';
import { AppError } from '../../errors';
import { staffOnly } from '../staff-guard';
import { loadCoordinatorContext, type CoordinatorContext, type CoordinatorDeps } from '../coordinator-context';
import { navigateTo, requestInfo } from '../launch-context';
import { EXEMPT_CODE, MAX_UPLOAD_ROWS, enrollmentsFromUpload, parseActionUpload, type UploadResult } from '../../domain/action-upload';
import { codSenceProblem, codigoCursoProblem, defaultAction, type LearnerEnrollment } from '../../domain/enrollment';
import type { TrainingLine } from '../../domain/types';
import { actionText, LINE_LABELS } from '../report-view';
import { common, learnerPage } from './staff-report-routes';

async function audit(deps: CoordinatorDeps, req: Request, ctx: CoordinatorContext, event: 'enrollment-saved' | 'enrollment-rejected', accepted: boolean, reason: string, details: Record<string, unknown> = {}) {
  await deps.stores.audit.record({
    id: randomUUID(), at: deps.now(), event, accepted, reason, sourceIp: requestInfo(req).sourceIp,
    learner: ctx.identity.learner, course: ctx.identity.course, sessionId: null, details,
  });
}

function actionsPage(ctx: CoordinatorContext, extra: { upload?: UploadResult | null; saved?: string | null; fileName?: string | null } = {}) {
  const settings = ctx.course?.settings ?? null;
  const rows = ctx.report.rows;
  const own = rows.filter((r) => r.exempt || r.actionSource === 'learner');
  return {
    title: 'Acciones SENCE y exentos',
    ...common(ctx),
    settings,
    defaultActionText: settings ? actionText(defaultAction(settings)) : null,
    exemptCode: EXEMPT_CODE,
    maxRows: MAX_UPLOAD_ROWS,
    assigned: own.map((r) => ({ name: r.name, run: r.run ?? 'sin RUN', text: r.exempt ? 'exento (no SENCE)' : actionText(r.action), href: ctx.links.href(`/lti/staff/learners/${encodeURIComponent(r.sub)}`) })),
    exemptCount: ctx.report.counts.exento,
    upload: extra.upload ?? null,
    saved: extra.saved ?? null,
    fileName: extra.fileName ?? null,
  };
}

export function staffActionsRoutes(deps: CoordinatorDeps): Router {
  const router = Router();
  const guard = staffOnly(deps.stores, deps.now);
  router.use('/staff/actions', guard);
  router.use('/staff/learners', guard);

  router.get('/staff/actions', async (_req, res) => {
    const ctx = await loadCoordinatorContext(deps, res);
    res.render('staff-actions', actionsPage(ctx));
  });

  // The file was read before ltijs by src/web/upload-parser.ts (its ltik travels in the multipart body).
  router.post('/staff/actions/upload', async (req, res) => {
    const ctx = await loadCoordinatorContext(deps, res);
    const settings = ctx.course?.settings;
    if (!settings) {
      throw new AppError('course-not-configured', 409, 'Primero configure SENCE en el curso (acción por defecto): las acciones de cada estudiante se validan contra ella.');
    }
    const file = (req as Request & { file?: { buffer: Buffer; originalname: string } }).file;
    if (!file) throw new AppError('upload-invalid', 400, 'No se recibió ningún archivo. Elija un archivo CSV con filas «RUN;CodigoCurso».');
    const learners = ctx.report.rows.flatMap((r) => (r.run ? [{ sub: r.sub, run: r.run, name: r.name }] : []));
    const result = parseActionUpload(file.buffer, { learners, settings });
    const fileName = file.originalname.slice(0, 120);
    if (!result.valid) {
      const bad = result.rows.filter((r) => r.errors.length > 0).length;
      await audit(deps, req, ctx, 'enrollment-rejected', false, result.fileErrors.length ? `archivo «${fileName}» rechazado: ${result.fileErrors.join(' ')}` : `archivo «${fileName}» rechazado: ${bad} de ${result.rows.length} fila(s) con errores; no se guardó nada`, { rows: result.rows.length, bad });
      res.status(400).render('staff-actions', actionsPage(ctx, { upload: result, fileName }));
      return;
    }
    const records = enrollmentsFromUpload(result, ctx.identity.course, deps.now());
    await deps.stores.enrollments.saveMany(records);
    const exempt = records.filter((r) => r.exempt).length;
    await audit(deps, req, ctx, 'enrollment-saved', true, `archivo «${fileName}»: ${records.length} estudiante(s) actualizados (${exempt} exento(s))`, { rows: records.length, exempt });
    const after = await loadCoordinatorContext(deps, res);
    res.render('staff-actions', actionsPage(after, { upload: result, fileName, saved: `Se guardaron ${records.length} fila(s) del archivo «${fileName}».` }));
  });

  router.post('/staff/learners/:sub/enrollment', async (req, res) => {
    const ctx = await loadCoordinatorContext(deps, res);
    const sub = String(req.params.sub);
    const row = ctx.report.rows.find((r) => r.sub === sub);
    if (!row) throw new AppError('not-found', 404, 'Este estudiante no está en la lista del curso ni tiene registros en la herramienta.');
    const settings = ctx.course?.settings;
    if (!settings) throw new AppError('course-not-configured', 409, 'Primero configure SENCE en el curso: la acción de cada estudiante se valida contra esa configuración.');
    const body = (req.body ?? {}) as Record<string, unknown>;
    const str = (k: string) => (typeof body[k] === 'string' ? (body[k] as string).trim() : '');
    const exempt = str('exempt') === '1';
    const mode = str('mode') === 'own' ? 'own' : 'default';
    const line = Number(str('lineaCapacitacion'));
    const values = { exempt, mode, codigoCurso: str('codigoCurso').slice(0, 60), codSence: str('codSence').slice(0, 20), lineaCapacitacion: str('lineaCapacitacion') };
    const errors: Record<string, string> = {};
    let action: LearnerEnrollment['action'] = null;
    if (mode === 'own') {
      if (![1, 3, 6].includes(line)) errors.lineaCapacitacion = 'Elija la línea de capacitación 1, 3 o 6.';
      else {
        const l = line as TrainingLine;
        const codigo = codigoCursoProblem(values.codigoCurso, l, settings.environment);
        const sence = codSenceProblem(values.codSence, l, settings.environment);
        if (codigo) errors.codigoCurso = `Código de la acción: ${codigo}.`;
        if (sence) errors.codSence = `Código SENCE: ${sence}.`;
        if (!codigo && !sence) action = { codigoCurso: values.codigoCurso, codSence: l === 1 ? '' : values.codSence, lineaCapacitacion: l };
      }
    }
    if (Object.keys(errors).length) {
      await audit(deps, req, ctx, 'enrollment-rejected', false, `${row.name}: ${Object.values(errors).join(' ')}`);
      res.status(400).render('staff-learner', {
        title: `Estudiante: ${row.name}`, ...common(ctx), learner: learnerPage(row, ctx), audit: [], settings, lineLabels: LINE_LABELS, saved: null, errors, values,
      });
      return;
    }
    await deps.stores.enrollments.saveMany([{ course: ctx.identity.course, sub, run: row.run, action, exempt, updatedAt: deps.now() }]);
    await audit(deps, req, ctx, 'enrollment-saved', true, `${row.name}: ${exempt ? 'exento' : action ? `acción ${action.codigoCurso}` : 'acción del curso'}`);
    navigateTo(res, ctx.links.href(`/lti/staff/learners/${encodeURIComponent(sub)}`, { guardado: '1' }));
  });

  return router;
}
