/**
 * The one error handler: every AppError (and anything unexpected) becomes a Spanish page for
 * browsers or JSON for API clients, with its status, and a log line. 5xx details never leave the
 * server (STYLE habit 7: expose only when status < 500).
 */
import path from 'node:path';
import type { NextFunction, Request, Response } from 'express';
import { viewsDir } from '../paths';
import { AppError, toAppError } from '../errors';
import { storeUnavailableError } from '../store/store-unavailable';
import type { Logger } from './logger';
import { clientErrorOf } from './client-errors';
import { ejsViewEngine } from './view-engine';
import { addFrameAncestors, requestingOrigin } from './security-headers';

export function wantsJson(req: Request): boolean {
  if (req.path.startsWith('/api/') || req.originalUrl.includes('/api/')) return true;
  const accepts = req.accepts(['html', 'json']);
  return accepts === 'json';
}

export function renderError(logger: Logger, req: Request, res: Response, error: unknown): void {
  const err = clientErrorOf(error) ?? storeUnavailableError(error) ?? toAppError(error);
  logger.log(err.status >= 500 ? 'error' : 'warn', 'request failed', {
    code: err.code,
    status: err.status,
    method: req.method,
    path: req.path,
    ip: req.ip,
    ...(err.details ?? {}),
    ...(err.status >= 500 && err.cause instanceof Error ? { cause: err.cause.message, stack: err.cause.stack } : {}),
  });
  if (res.headersSent) {
    res.end();
    return;
  }
  const message = err.expose ? err.message : 'Ocurrió un error inesperado. Intenta nuevamente en unos minutos.';
  res.status(err.status);
  if (err.code === 'store-unavailable') res.set('Retry-After', '30');
  if (wantsJson(req)) {
    res.json({ error: { code: err.code, message, ...(err.expose && err.staffHint ? { staffHint: err.staffHint } : {}) } });
    return;
  }
  // An error page can be read where it appears (issue #19 §7): inside an LMS that is not (or no
  // longer) an active platform — a refused registration, an expired invitation, a deactivated
  // platform — the tool's own frame-ancestors would block it and show a broken frame. The error page
  // alone may be framed by the page that asked for it; it carries no ltik, and then nothing to act
  // on either (no relaunch link): only what happened and what to do next.
  const framedByRequester = addFrameAncestors(res, [requestingOrigin(req)]).length > 0;
  sendView(res, 'error', {
    title: 'No pudimos continuar',
    status: err.status,
    code: err.code,
    message,
    staffHint: err.expose ? err.staffHint : undefined,
    relaunchUrl: err.expose && !framedByRequester ? err.relaunchUrl : undefined,
  }, () => res.type('text').send(message));
}

/**
 * The same view engine as the host app's, for pages sent outside its render(): requests handled
 * inside ltijs's own Express 4 app reach us with its response object, whose render() does not know
 * our views. Its cache follows NODE_ENV as Express's own 'view cache' default does (on in
 * production): an error page or the platform-storage login page is not read and compiled again
 * on every request there.
 */
const pageViews = ejsViewEngine({ root: viewsDir, cached: () => process.env.NODE_ENV === 'production' });

export function sendView(res: Response, view: string, data: Record<string, unknown>, onError?: (err: unknown) => void): void {
  pageViews(path.join(viewsDir, `${view}.ejs`), { ...data }, (err, html) => {
    if (!err) {
      res.type('html').send(html);
      return;
    }
    if (onError) onError(err);
    else res.status(500).type('text').send('Ocurrió un error inesperado. Intenta nuevamente en unos minutos.');
  });
}

export function errorMiddleware(logger: Logger) {
  return (error: unknown, req: Request, res: Response, _next: NextFunction): void => {
    renderError(logger, req, res, error);
  };
}

export function notFoundMiddleware(req: Request, _res: Response, next: NextFunction): void {
  next(new AppError('not-found', 404, 'La página que buscas no existe.', { details: { path: req.path } }));
}
