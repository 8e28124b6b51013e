/**
 * Cross-site request refusal (issue #7, finding 8). A state-changing request (POST, PUT, PATCH,
 * DELETE) under /lti or /sence must come from a page of the tool itself or of a registered (active)
 * platform: a page elsewhere that got hold of a leaked ltik cannot post staff forms. Browsers send
 * `Origin` on every cross-site POST; a request without it (not a browser, or a same-origin request
 * of an old browser) passes. `Origin: null` is what a browser sends for the tool's OWN forms too,
 * because our pages say `Referrer-Policy: no-referrer`; such a request passes only when the browser
 * also says `Sec-Fetch-Site: same-origin` (a header pages cannot set), so a sandboxed frame or
 * another site's page posting with `Origin: null` is refused.
 * Exempt: the LTI launch itself (carries a signed id_token, posted by the platform) and the OIDC
 * login initiation (the platform's page, verified by the OIDC flow). SENCE's callbacks (/cb) are
 * not checked here: they are recorded with their Origin and marked instead (finding 7).
 */
import type { NextFunction, Request, Response } from 'express';
import { AppError } from '../errors';
import { originOf } from './security-headers';
import { carriesIdToken } from '../lti/lti-runtime';

const STATE_CHANGING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function originCheck(options: { publicUrl: string; platforms: () => string[] }) {
  const own = originOf(options.publicUrl);
  return (req: Request, _res: Response, next: NextFunction): void => {
    if (!STATE_CHANGING.has(req.method)) return next();
    const origin = req.headers.origin;
    if (origin === undefined) return next();
    const body = req.body as Record<string, unknown> | undefined;
    const isLaunch = body !== undefined && body !== null && typeof body === 'object' && 'id_token' in body;
    const isLogin = req.baseUrl === '/lti' && req.path === '/login';
    if (isLaunch || isLogin) return next();
    if (origin === own || options.platforms().includes(origin)) return next();
    if (req.headers['sec-fetch-site'] === 'same-origin') return next();
    next(new AppError('origin-refused', 403, 'Esta acción solo se puede hacer desde las páginas de Asistencia SENCE o de tu plataforma. Vuelve a entrar desde tu curso.', { details: { origin: origin.slice(0, 200) } }));
  };
}

/**
 * The same check narrowed once the ltik is resolved (issue #19): a state-changing request carrying
 * an ltik of platform A may come from the tool's own pages or from A's origins only — not from
 * another active platform B, whose pages could otherwise post A's staff forms with an ltik leaked
 * to them. Mounted after the ltik is resolved (the host routes' first step); `originCheck` above
 * already refused every origin that is no platform's at all.
 */
export function ltikPlatformOriginCheck(options: { publicUrl: string; originsOf: (issuer: string, clientId: string) => readonly string[] }) {
  const own = originOf(options.publicUrl);
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!STATE_CHANGING.has(req.method)) return next();
    const origin = req.headers.origin;
    if (origin === undefined || origin === own) return next();
    const token = (res.locals as { token?: { iss?: unknown; clientId?: unknown } }).token;
    if (!token || carriesIdToken(req)) return next();
    // `Origin: null` passed the first check only with Sec-Fetch-Site: same-origin (the tool's own page).
    if (origin === 'null' && req.headers['sec-fetch-site'] === 'same-origin') return next();
    if (options.originsOf(String(token.iss), String(token.clientId)).includes(origin)) return next();
    next(new AppError('origin-refused', 403, 'Esta acción solo se puede hacer desde las páginas de Asistencia SENCE o de tu plataforma. Vuelve a entrar desde tu curso.', { details: { origin: origin.slice(0, 200), step: 'ltik-platform' } }));
  };
}

/** Personal pages, exports and callbacks are never stored by browsers or proxies. */
export function noStore(req: Request, res: Response, next: NextFunction): void {
  if (!(req.baseUrl === '/lti' && (req.path === '/keys' || req.path === '/canvas.json'))) res.setHeader('Cache-Control', 'no-store');
  next();
}
