/**
 * Request shape guards (issue #7, findings 1–3).
 *
 * `requestHygiene` (whole app, first): a path that does not percent-decode is a 400, and a body
 * with a Content-Encoding (gzip, deflate…) is a 415 — nothing here needs compressed bodies, and
 * a broken stream must not reach a parser.
 *
 * `ltiRequestShape` (mounted at /lti BEFORE ltijs): parses the body once (form or JSON, bounded),
 * then checks every parameter ltijs or a store query uses: exactly one string of bounded length.
 * Arrays (duplicated parameters), objects (`{"$ne":1}`) and nested values are refused with 400
 * before ltijs sees them — ltijs queries its store with the raw value in its error paths, and a
 * rejected query there is never caught. The id_token launch is accepted only as
 * application/x-www-form-urlencoded (the OIDC form_post encoding), where the tool's own launch
 * checks run; any other encoding is a 415.
 */
import { receiveFile, UPLOAD_PATH, type UploadGate } from './upload-parser';
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { AppError } from '../errors';
import { carriesIdToken } from '../lti/lti-runtime';
import { namesInheritedMember } from '../domain/inherited-names';
import { guarded } from './guarded-callback';

/**
 * Parameters ltijs (or a store query) reads, with the longest value accepted. A Map, not an object:
 * the names looked up in it come from the request, and `{}['toString']` is a function (issue #19 §1).
 */
export const LTI_PARAMETER_LIMITS: ReadonlyMap<string, number> = new Map([
  ['id_token', 32_768],
  ['state', 512],
  ['ltik', 4096],
  ['iss', 1024],
  ['login_hint', 1024],
  ['lti_message_hint', 2048],
  ['client_id', 256],
  ['target_link_uri', 2048],
  ['lti_deployment_id', 256],
  ['lti_storage_target', 64],
  ['openid_configuration', 2048],
  ['registration_token', 4096],
  ['invite', 128],
  ['JWT', 32_768],
]);

/**
 * Parameters whose characters are restricted too: ltijs builds a cookie NAME from `state`
 * ('state' + state), and the cookie library throws on anything outside the token characters —
 * inside ltijs's async error path, where nothing catches it. The tool's own states are hex.
 */
export const LTI_PARAMETER_PATTERNS: ReadonlyMap<string, RegExp> = new Map([
  ['state', /^[A-Za-z0-9._~-]*$/],
  ['invite', /^[A-Za-z0-9_-]*$/],
]);

/** Body limits under /lti (a Moodle id_token with custom claims stays far below). */
export const LTI_BODY_LIMIT = '64kb';
export const LTI_PARAMETER_COUNT_LIMIT = 200;

const REQUIRED_FOR_LOGIN = ['iss', 'login_hint', 'target_link_uri'] as const;

function malformed(names: string[]): AppError {
  return new AppError(
    'request-malformed',
    400,
    `La solicitud trae parámetros repetidos o con un formato no válido (${names.join(', ')}). Vuelve a entrar desde tu curso.`,
    { details: { parameters: names } },
  );
}

function hasBody(req: Request): boolean {
  return req.headers['transfer-encoding'] !== undefined || (req.headers['content-length'] !== undefined && req.headers['content-length'] !== '0');
}

export function requestHygiene(): RequestHandler {
  return (req: Request, _res: Response, next: NextFunction) => {
    try {
      decodeURIComponent(req.path);
    } catch {
      next(new AppError('bad-request', 400, 'La dirección no es válida (codificación con % incorrecta).'));
      return;
    }
    const encoding = String(req.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
    if (encoding !== 'identity' && encoding !== '' && hasBody(req)) {
      next(new AppError('unsupported-media-type', 415, 'El contenido comprimido (Content-Encoding) no se acepta: envía el formulario sin comprimir.', { details: { encoding: encoding.slice(0, 40) } }));
      return;
    }
    next();
  };
}

/**
 * Express 5's `req.query` is a getter that parses the query string again on every read (a long
 * ltik, read by this guard, the ltik check, the course binding and the routes): parse it once and
 * keep the result as the request's own value. ltijs's Express 4 app then uses it as is too (its
 * query middleware only parses when `req.query` is unset), so nothing re-reads the query with `qs`.
 */
export function pinQuery(req: Request): void {
  if (Object.prototype.hasOwnProperty.call(req, 'query')) return;
  Object.defineProperty(req, 'query', { value: req.query, writable: true, configurable: true, enumerable: true });
}

/** Names whose value is not one bounded string (or, for other names, is a nested object). */
export function badParameters(params: unknown): string[] {
  if (params === undefined || params === null) return [];
  if (typeof params !== 'object' || Array.isArray(params)) return ['(cuerpo)'];
  const bad: string[] = [];
  for (const [name, value] of Object.entries(params as Record<string, unknown>)) {
    const limit = LTI_PARAMETER_LIMITS.get(name);
    if (namesInheritedMember(name)) {
      // `toString`, `__proto__`, `constructor.prototype`…: no parameter of the tool, ltijs or an LMS
      // is named so, and ltijs and its libraries look names up in plain objects (issue #19 §1).
      bad.push(name.slice(0, 40));
    } else if (limit !== undefined) {
      if (typeof value !== 'string' || value.length > limit || LTI_PARAMETER_PATTERNS.get(name)?.test(value) === false) bad.push(name);
    } else if (value !== null && typeof value === 'object') {
      // Other parameters may repeat (a form's checkboxes) but never nest.
      if (!Array.isArray(value) || value.some((v) => v !== null && typeof v === 'object')) bad.push(name.slice(0, 40));
    }
  }
  return bad;
}

/**
 * ltijs's own Express 4 app parses the query string again with `qs` (extended), where
 * `client_id[$ne]=1` or `iss[]=a` become objects and arrays. The host's parser keeps them as plain
 * keys: refuse any such key whose base name is an LTI parameter.
 */
export function bracketedLtiKeys(query: unknown): string[] {
  if (query === null || typeof query !== 'object') return [];
  const bad: string[] = [];
  for (const key of Object.keys(query as Record<string, unknown>)) {
    const base = key.split(/[[\].]/)[0] ?? key;
    if (base !== key && LTI_PARAMETER_LIMITS.has(base)) bad.push(base);
  }
  return bad;
}

/** `uploadGate`: the upload's Origin and ltik checks, run before its file is read (upload-parser.ts). */
export function ltiRequestShape(options: { uploadGate?: UploadGate } = {}): RequestHandler {
  const form = express.urlencoded({ extended: false, limit: LTI_BODY_LIMIT, parameterLimit: LTI_PARAMETER_COUNT_LIMIT });
  const json = express.json({ limit: LTI_BODY_LIMIT, strict: true });
  // The upload's fields are shaped like every body's, before its file is read (upload-parser.ts).
  const uploadGate: UploadGate | undefined = options.uploadGate && {
    ...options.uploadGate,
    checkFields: (fields: unknown) => {
      const bad = badParameters(fields);
      return bad.length ? malformed(bad) : null;
    },
  };
  const check: RequestHandler = (req, _res, next) => {
    // Flag the parsed body so ltijs's own body-parser 1.x does not read the consumed stream again.
    if (req.body !== undefined) (req as unknown as { _body: boolean })._body = true;
    const isForm = req.is('application/x-www-form-urlencoded') === 'application/x-www-form-urlencoded';
    const body = req.body as unknown;
    // The same test the launch step uses: whatever it would take for a launch is checked here first.
    const launchBody = carriesIdToken(req);
    if (launchBody && !isForm) {
      next(new AppError('unsupported-media-type', 415, 'El ingreso desde la plataforma solo se acepta como formulario (application/x-www-form-urlencoded). Vuelve a entrar desde tu curso.', { details: { contentType: String(req.headers['content-type'] ?? '').slice(0, 80) } }));
      return;
    }
    // OIDC form_post: a launch is a POST. Any other method never reaches the launch checks (nor ltijs's).
    if (launchBody && req.method !== 'POST') {
      next(new AppError('bad-request', 405, 'El ingreso desde la plataforma solo se acepta como formulario enviado con POST. Vuelve a entrar desde tu curso.', { details: { method: req.method } }));
      return;
    }
    const bad = [...new Set([...badParameters(req.query), ...bracketedLtiKeys(req.query), ...badParameters(body)])];
    if (bad.length) {
      next(malformed(bad));
      return;
    }
    if (req.path === '/login') {
      const params = { ...(req.query as Record<string, unknown>), ...((body as Record<string, unknown> | undefined) ?? {}) };
      const missing = REQUIRED_FOR_LOGIN.filter((n) => typeof params[n] !== 'string' || params[n] === '');
      if (missing.length) {
        next(new AppError('lti-missing-login-parameters', 400, `El inicio de sesión LTI llegó sin ${missing.join(', ')}. Entra a la herramienta desde tu curso.`, { details: { missing } }));
        return;
      }
    }
    next();
  };
  return (req, res, next) => {
    pinQuery(req);
    if (hasBody(req) && req.method === 'POST' && req.path === UPLOAD_PATH && req.is('multipart/form-data')) {
      receiveFile(req, res, (err?: unknown) => guarded(next, (pass) => (err ? pass(err) : check(req, res, pass))), uploadGate);
      return;
    }
    if (hasBody(req)) {
      const type = req.is(['application/x-www-form-urlencoded', 'application/json']);
      if (!type) {
        next(new AppError('unsupported-media-type', 415, 'Esta dirección solo acepta formularios (application/x-www-form-urlencoded) o JSON.', { details: { contentType: String(req.headers['content-type'] ?? '').slice(0, 80) } }));
        return;
      }
      const parser = type === 'application/json' ? json : form;
      parser(req, res, (err?: unknown) => guarded(next, (pass) => (err ? pass(err) : check(req, res, pass))));
      return;
    }
    check(req, res, next);
  };
}
