/**
 * Where SENCE sends the learner's browser back (UrlRetoma / UrlError). A cross-site POST: no
 * cookie is relied on; the one-time token in the URL names the attempt (ARCHITECTURE §4.4).
 * Also the buttons of the SENCE window ("Cerrar Sesión Sence", "Volver a intentar").
 */
import express, { Router, type Request, type Response } from 'express';
import { AppError } from '../../errors';
import { CALLBACK_PATHS, type AttendanceService, type CallbackKind, type CallbackResult } from '../../application/attendance-service';
import { formatAccredited } from '../../domain/time-format';
import { clockStatus } from '../../domain/attendance-rules';
import { requestInfo } from '../launch-context';
import { renderSenceRedirect } from '../sence-redirect';

const TOKEN_PATTERN = /^([A-Za-z0-9_-]{12})\.([A-Za-z0-9_-]{22})$/;

export function senceCallbackRoutes(deps: { attendance: AttendanceService; now?: () => Date }): Router {
  const router = Router();
  const now = deps.now ?? (() => new Date());
  const form = express.urlencoded({ extended: false, limit: '32kb', parameterLimit: 60 });

  const receive = (kind: CallbackKind) => async (req: Request, res: Response) => {
    const match = TOKEN_PATTERN.exec(String(req.params.token ?? ''));
    const result = await deps.attendance.receiveCallback({
      kind,
      attemptId: match?.[1] ?? '',
      token: match?.[2] ?? '',
      body: req.body ?? {},
      // Origin and Referer are recorded and checked against SENCE's origin (issue #7, finding 7).
      info: { ...requestInfo(req), origin: req.get('origin') ?? null, referer: req.get('referer') ?? null },
    });
    renderResult(res, result, now());
  };
  router.post(`${CALLBACK_PATHS.retoma}:token`, form, receive('retoma'));
  router.post(`${CALLBACK_PATHS.error}:token`, form, receive('error'));
  // A GET here is someone opening the link by hand: explain instead of a bare 404.
  router.get([`${CALLBACK_PATHS.retoma}:token`, `${CALLBACK_PATHS.error}:token`], () => {
    throw new AppError('bad-request', 405, 'Esta dirección solo recibe la respuesta de SENCE. Vuelve a tu curso para ver tu asistencia.');
  });

  // The SENCE window's buttons, authorised by the window key rendered with a valid callback's page.
  const windowKey = (req: Request) => String((req.body as { k?: string } | undefined)?.k ?? '');
  router.post('/sence/window/:id/close', form, async (req, res) => {
    renderSenceRedirect(res, 'close', await deps.attendance.closeFromWindow(String(req.params.id), windowKey(req), requestInfo(req)));
  });
  router.post('/sence/window/:id/retry', form, async (req, res) => {
    renderSenceRedirect(res, 'start', await deps.attendance.retryStartFromWindow(String(req.params.id), windowKey(req), requestInfo(req)));
  });
  return router;
}

function renderResult(res: Response, result: CallbackResult, now: Date): void {
  const s = result.session;
  const base = { sessionId: s.id, windowKey: result.windowKey, errors: result.errors, reason: s.endReason, retry: null as string | null };
  res.set('Cache-Control', 'no-store');
  if (result.phase === 'start' && result.outcome === 'success') {
    const hours = s.limitMinutes / 60;
    res.render('sence-result', {
      ...base,
      ok: true,
      kind: 'start-ok',
      title: 'Asistencia correctamente ingresada',
      limitText: Number.isInteger(hours) ? `${hours} horas` : `${s.limitMinutes} minutos`,
      elapsedSeconds: clockStatus(s, now).elapsedSeconds,
    });
  } else if (result.phase === 'close' && result.outcome === 'success') {
    res.render('sence-result', { ...base, ok: true, kind: 'close-ok', title: 'Sesión correctamente cerrada', accreditedText: formatAccredited(s.accreditedSeconds) });
  } else if (result.phase === 'start') {
    res.render('sence-result', { ...base, ok: false, kind: 'error', title: 'Error en el inicio de asistencia Sence', retry: 'retry' });
  } else {
    res.render('sence-result', {
      ...base,
      ok: false,
      kind: 'error',
      title: 'Error en el cierre de asistencia Sence',
      retry: s.state === 'open' ? 'close' : null,
    });
  }
}
