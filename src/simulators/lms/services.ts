/**
 * LTI Advantage services of the simulated platform:
 * - POST /token: OAuth 2 client_credentials with a JWT client assertion (private_key_jwt) verified
 *   against the tool's JWKS (@see https://www.imsglobal.org/spec/security/v1p0/#using-json-web-tokens-with-oauth-2-0-client-credentials-grant);
 * - NRPS 2.0 memberships (@see https://www.imsglobal.org/spec/lti-nrps/v2p0);
 * - AGS 2.0 line items, scores and results (@see https://www.imsglobal.org/spec/lti-ags/v2p0),
 *   refusing scores the way Moodle 4.5 does (400 "Incorrect score received", 409 for a timestamp not
 *   later than the last one, compared in whole seconds).
 */
import { randomBytes } from 'node:crypto';
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { ROLE, SCOPE, rolesOf, serviceUrls } from './claims';
import { findUser, type SimContext } from './context';
import { SimError } from './errors';
import { verifyToolJwt } from './keys';
import type { NrpsBehaviour, RecordedScore } from './types';

const MEDIA = {
  lineItem: 'application/vnd.ims.lis.v2.lineitem+json',
  lineItemContainer: 'application/vnd.ims.lis.v2.lineitemcontainer+json',
  score: 'application/vnd.ims.lis.v1.score+json',
  resultContainer: 'application/vnd.ims.lis.v2.resultcontainer+json',
  membershipContainer: 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json',
} as const;

const ALL_SCOPES: readonly string[] = Object.values(SCOPE);
const ACCESS_TOKEN_TTL_SECONDS = 3600;
const ACTIVITY_PROGRESS = ['Initialized', 'Started', 'InProgress', 'Submitted', 'Completed'];
const GRADING_PROGRESS = ['FullyGraded', 'Pending', 'PendingManual', 'Failed', 'NotReady'];
const ISO_8601 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/;

interface AccessToken {
  scopes: string[];
  expiresAt: number;
}

interface LineItem {
  id: string;
  label: string;
  scoreMaximum: number;
  resourceLinkId?: string;
  resourceId?: string;
  tag?: string;
  startDateTime?: string;
  endDateTime?: string;
}

interface ServiceState {
  tokens: Map<string, AccessToken>;
  usedJtis: Map<string, number>;
  lineItems: Map<string, LineItem>;
  nextLineItem: number;
  /** Latest accepted score per line item number, then per user. */
  latest: Map<string, Map<string, RecordedScore>>;
}

function jsonError(res: Response, status: number, error: string, description: string): void {
  res.status(status).set('Cache-Control', 'no-store').json({ error, error_description: description });
}

function sendTyped(res: Response, status: number, mediaType: string, body: unknown): void {
  res.status(status).type(mediaType).send(JSON.stringify(body));
}

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/** The token endpoint. */
function tokenEndpoint(ctx: SimContext, state: ServiceState) {
  const tokenUrl = `${ctx.url}/token`;
  return async (req: Request, res: Response): Promise<void> => {
    const body = (req.body ?? {}) as Record<string, unknown>;
    const grantType = str(body.grant_type);
    if (grantType !== 'client_credentials') {
      jsonError(res, 400, grantType === undefined ? 'invalid_request' : 'unsupported_grant_type', 'grant_type must be client_credentials');
      return;
    }
    const assertionType = str(body.client_assertion_type);
    const assertion = str(body.client_assertion);
    if (assertionType === undefined || assertion === undefined || assertion === '') {
      jsonError(res, 400, 'invalid_request', 'client_assertion_type and client_assertion are required');
      return;
    }
    if (assertionType !== 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
      jsonError(res, 400, 'invalid_client', 'client_assertion_type must be urn:ietf:params:oauth:client-assertion-type:jwt-bearer');
      return;
    }
    let claims: Record<string, unknown>;
    try {
      // iss = sub = client id; aud must include the token URL (jsonwebtoken accepts a string or an array containing it).
      claims = await verifyToolJwt(assertion, ctx.toolKeys, { issuer: ctx.clientId, audience: tokenUrl });
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      jsonError(res, 401, 'invalid_client', err.message);
      return;
    }
    if (claims.sub !== ctx.clientId) {
      jsonError(res, 401, 'invalid_client', 'sub of the client assertion must be the client id');
      return;
    }
    const now = Math.floor(Date.now() / 1000);
    for (const [jti, exp] of state.usedJtis) if (exp < now) state.usedJtis.delete(jti);
    const jti = str(claims.jti);
    if (jti !== undefined) {
      if (state.usedJtis.has(jti)) {
        jsonError(res, 401, 'invalid_client', 'client assertion jti already used');
        return;
      }
      state.usedJtis.set(jti, typeof claims.exp === 'number' ? claims.exp : now + 600);
    }
    const requested = (str(body.scope) ?? '').split(' ').filter((s) => s !== '');
    const granted = requested.filter((s) => ALL_SCOPES.includes(s));
    if (granted.length === 0) {
      jsonError(res, 400, 'invalid_scope', `none of the requested scopes is available; available: ${ALL_SCOPES.join(' ')}`);
      return;
    }
    const accessToken = randomBytes(32).toString('base64url');
    state.tokens.set(accessToken, { scopes: granted, expiresAt: Date.now() + ACCESS_TOKEN_TTL_SECONDS * 1000 });
    res
      .status(200)
      .set({ 'Cache-Control': 'no-store', Pragma: 'no-cache' })
      .json({ access_token: accessToken, token_type: 'Bearer', expires_in: ACCESS_TOKEN_TTL_SECONDS, scope: granted.join(' ') });
  };
}

/** Bearer access token carrying at least one of `anyOf`. */
function requireScope(state: ServiceState, ...anyOf: string[]) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const m = /^Bearer\s+(\S+)$/i.exec(req.get('authorization') ?? '');
    const token = m?.[1] ? state.tokens.get(m[1]) : undefined;
    if (!token || token.expiresAt < Date.now()) {
      res.set('WWW-Authenticate', 'Bearer error="invalid_token"');
      jsonError(res, 401, 'invalid_token', 'a valid Bearer access token from /token is required');
      return;
    }
    if (!anyOf.some((s) => token.scopes.includes(s))) {
      res.set('WWW-Authenticate', `Bearer error="insufficient_scope", scope="${anyOf.join(' ')}"`);
      jsonError(res, 403, 'insufficient_scope', `this endpoint needs one of: ${anyOf.join(' ')}`);
      return;
    }
    next();
  };
}

function requireMediaType(type: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (!req.is(type)) {
      jsonError(res, 415, 'unsupported_media_type', `Content-Type must be ${type}`);
      return;
    }
    next();
  };
}

/** Parses a line item body (POST/PUT). */
function parseLineItem(ctx: SimContext, body: unknown, id: string): LineItem {
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new SimError(400, 'invalid_request', 'line item must be a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.label !== 'string' || b.label.trim() === '') throw new SimError(400, 'invalid_request', 'label is required');
  if (typeof b.scoreMaximum !== 'number' || !(b.scoreMaximum > 0)) throw new SimError(400, 'invalid_request', 'scoreMaximum must be a number > 0');
  const item: LineItem = { id, label: b.label, scoreMaximum: b.scoreMaximum };
  for (const k of ['resourceLinkId', 'resourceId', 'tag', 'startDateTime', 'endDateTime'] as const) {
    const v = b[k];
    if (v === undefined || v === null) continue;
    if (typeof v !== 'string') throw new SimError(400, 'invalid_request', `${k} must be a string`);
    item[k] = v;
  }
  if (item.resourceLinkId !== undefined && item.resourceLinkId !== ctx.course.resourceLinkId) {
    throw new SimError(400, 'invalid_request', `resourceLinkId ${item.resourceLinkId} is not a resource link of this course`);
  }
  return item;
}

/** Validates a score like Moodle's mod/lti/service/gradebookservices score resource. */
function parseScore(ctx: SimContext, body: unknown): RecordedScore & { userId: string; timestamp: string } {
  const bad = (why: string): SimError => new SimError(400, 'invalid_request', `Incorrect score received: ${why}`);
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw bad('not a JSON object');
  const b = body as Record<string, unknown>;
  if (typeof b.userId !== 'string' || b.userId === '') throw bad('userId is required');
  const user = findUser(ctx, b.userId);
  if (!user || user.role !== 'learner') throw bad(`user ${b.userId} is not gradable in this course`);
  if (typeof b.timestamp !== 'string' || !ISO_8601.test(b.timestamp) || Number.isNaN(Date.parse(b.timestamp))) throw bad('timestamp must be an ISO 8601 date-time');
  if (typeof b.activityProgress !== 'string' || !ACTIVITY_PROGRESS.includes(b.activityProgress)) throw bad(`activityProgress must be one of ${ACTIVITY_PROGRESS.join(', ')}`);
  if (typeof b.gradingProgress !== 'string' || !GRADING_PROGRESS.includes(b.gradingProgress)) throw bad(`gradingProgress must be one of ${GRADING_PROGRESS.join(', ')}`);
  if (b.scoreGiven !== undefined && (typeof b.scoreGiven !== 'number' || !Number.isFinite(b.scoreGiven) || b.scoreGiven < 0)) throw bad('scoreGiven must be a number >= 0');
  if (b.scoreGiven !== undefined && b.scoreMaximum === undefined) throw bad('scoreMaximum is required with scoreGiven');
  if (b.scoreMaximum !== undefined && (typeof b.scoreMaximum !== 'number' || !(b.scoreMaximum > 0))) throw bad('scoreMaximum must be a number > 0');
  if (b.comment !== undefined && typeof b.comment !== 'string') throw bad('comment must be a string');
  return {
    lineItemId: '',
    userId: b.userId,
    timestamp: b.timestamp,
    activityProgress: b.activityProgress,
    gradingProgress: b.gradingProgress,
    ...(typeof b.scoreGiven === 'number' ? { scoreGiven: b.scoreGiven } : {}),
    ...(typeof b.scoreMaximum === 'number' ? { scoreMaximum: b.scoreMaximum } : {}),
    ...(typeof b.comment === 'string' ? { comment: b.comment } : {}),
  };
}

function limitOf(req: Request): number | undefined {
  const raw = req.query.limit;
  if (typeof raw !== 'string') return undefined;
  const n = Number.parseInt(raw, 10);
  return Number.isInteger(n) && n > 0 ? n : undefined;
}

export function servicesRouter(ctx: SimContext, nrps: NrpsBehaviour = { failWith: null, delayMs: 0, pageSize: null, requests: 0 }): Router {
  const urls = serviceUrls(ctx.url, ctx.course);
  const itemUrl = (n: string): string => `${urls.lineItems}/${n}`;
  const state: ServiceState = {
    tokens: new Map(),
    usedJtis: new Map(),
    lineItems: new Map([['1', { id: itemUrl('1'), label: 'Asistencia SENCE', scoreMaximum: 100, resourceLinkId: ctx.course.resourceLinkId }]]),
    nextLineItem: 2,
    latest: new Map(),
  };
  const router = express.Router();
  const form = express.urlencoded({ extended: false, limit: '64kb' });
  const json = express.json({ type: ['application/json', 'application/*+json'], limit: '256kb' });

  router.post('/token', form, tokenEndpoint(ctx, state));

  // Every service URL names the course; another context id is 404.
  router.use('/api/courses/:ctx', (req: Request, res: Response, next: NextFunction) => {
    if (req.params.ctx !== ctx.course.contextId) {
      jsonError(res, 404, 'not_found', 'unknown context');
      return;
    }
    next();
  });

  // Test knobs first (a failing or slow LMS answers that way whatever the token).
  router.get('/api/courses/:ctx/memberships', async (_req: Request, res: Response, next: NextFunction) => {
    nrps.requests += 1;
    if (nrps.delayMs > 0) await new Promise((resolve) => setTimeout(resolve, nrps.delayMs));
    if (res.destroyed || res.writableEnded) return;
    if (nrps.failWith !== null) {
      jsonError(res, nrps.failWith, nrps.failWith === 401 ? 'invalid_token' : 'server_error', `simulated failure ${nrps.failWith}`);
      return;
    }
    next();
  });

  router.get('/api/courses/:ctx/memberships', requireScope(state, SCOPE.membershipReadOnly), (req: Request, res: Response) => {
    const role = typeof req.query.role === 'string' ? req.query.role : undefined;
    // Moodle 4.5.6 (REFERENCE §4.4): names and the username (ext_user_username) only where the tool
    // may share names; the ID number (lis_person_sourcedid) always.
    const shareNames = nrps.shareNames !== false;
    let members = ctx.users.map((u) => ({
      status: 'Active',
      ...(shareNames ? { name: u.name, given_name: u.givenName, family_name: u.familyName, ext_user_username: u.username ?? u.id } : {}),
      email: u.email,
      user_id: u.id,
      // Moodle sends the idnumber only when it is set.
      ...(u.sourcedId !== '' ? { lis_person_sourcedid: u.sourcedId } : {}),
      roles: rolesOf(u),
    }));
    if (role) members = members.filter((m) => m.roles.some((r) => r === role || r.endsWith(`#${role}`)));
    // Synthetic learners (nrps.extraLearners), made only for the page asked: a 100,000-member roster
    // costs the simulator one page at a time.
    const extra = role && role !== 'Learner' && !role.endsWith('#Learner') ? 0 : Math.max(0, nrps.extraLearners ?? 0);
    const synthetic = (i: number) => {
      const n = String(i + 1).padStart(6, '0');
      return { status: 'Active', name: `Estudiante Sintético ${n}`, given_name: 'Estudiante', family_name: `Sintético ${n}`, email: `sint-${n}@example.com`, user_id: `sint-${n}`, roles: [ROLE.learner] };
    };
    const syntheticRange = (from: number, to: number) => Array.from({ length: Math.max(0, Math.min(to, extra) - from) }, (_, k) => synthetic(from + k));
    // An LMS caps the page size it serves (nrps.pageSize), whatever limit the tool asked for.
    const asked = nrps.ignoreLimit ? undefined : limitOf(req);
    const limit = nrps.pageSize === null ? asked : Math.min(asked ?? nrps.pageSize, nrps.pageSize);
    const page = Math.max(1, Number.parseInt(typeof req.query.page === 'string' ? req.query.page : '1', 10) || 1);
    if (limit === undefined) {
      members = [...members, ...syntheticRange(0, extra)];
    } else {
      const total = members.length + extra;
      const start = (page - 1) * limit;
      const end = page * limit;
      members = [...members.slice(start, end), ...syntheticRange(Math.max(0, start - members.length), end - members.length)];
      if (page * limit < total) {
        const next = new URL(`${ctx.url}${req.originalUrl}`);
        next.searchParams.set('page', String(page + 1));
        res.set('Link', `<${next.toString()}>; rel="next"`);
      }
    }
    sendTyped(res, 200, MEDIA.membershipContainer, {
      id: `${ctx.url}${req.originalUrl}`,
      context: { id: ctx.course.contextId, label: ctx.course.label, title: ctx.course.title },
      members,
    });
  });

  router.get('/api/courses/:ctx/lineitems', requireScope(state, SCOPE.lineItem, SCOPE.lineItemReadOnly), (req: Request, res: Response) => {
    let items = [...state.lineItems.values()];
    const q = req.query;
    if (typeof q.resource_link_id === 'string') items = items.filter((i) => i.resourceLinkId === q.resource_link_id);
    if (typeof q.resource_id === 'string') items = items.filter((i) => i.resourceId === q.resource_id);
    if (typeof q.tag === 'string') items = items.filter((i) => i.tag === q.tag);
    const limit = limitOf(req);
    if (limit !== undefined) items = items.slice(0, limit);
    sendTyped(res, 200, MEDIA.lineItemContainer, items);
  });

  router.post('/api/courses/:ctx/lineitems', requireScope(state, SCOPE.lineItem), requireMediaType(MEDIA.lineItem), json, (req: Request, res: Response) => {
    const n = String(state.nextLineItem);
    const item = parseLineItem(ctx, req.body, itemUrl(n));
    state.nextLineItem += 1;
    state.lineItems.set(n, item);
    res.set('Location', item.id);
    sendTyped(res, 201, MEDIA.lineItem, item);
  });

  const findItem = (req: Request): [string, LineItem] => {
    const n = String(req.params.id);
    const item = state.lineItems.get(n);
    if (!item) throw new SimError(404, 'not_found', 'unknown line item');
    return [n, item];
  };

  router.get('/api/courses/:ctx/lineitems/:id', requireScope(state, SCOPE.lineItem, SCOPE.lineItemReadOnly), (req: Request, res: Response) => {
    sendTyped(res, 200, MEDIA.lineItem, findItem(req)[1]);
  });

  router.put('/api/courses/:ctx/lineitems/:id', requireScope(state, SCOPE.lineItem), requireMediaType(MEDIA.lineItem), json, (req: Request, res: Response) => {
    const [n, current] = findItem(req);
    const body = req.body as Record<string, unknown> | undefined;
    if (body && body.id !== undefined && body.id !== current.id) throw new SimError(400, 'invalid_request', 'the id of a line item cannot change');
    const item = parseLineItem(ctx, body, current.id);
    state.lineItems.set(n, item);
    sendTyped(res, 200, MEDIA.lineItem, item);
  });

  router.delete('/api/courses/:ctx/lineitems/:id', requireScope(state, SCOPE.lineItem), (req: Request, res: Response) => {
    const [n] = findItem(req);
    state.lineItems.delete(n);
    state.latest.delete(n);
    res.status(204).end();
  });

  router.post('/api/courses/:ctx/lineitems/:id/scores', requireScope(state, SCOPE.score), requireMediaType(MEDIA.score), json, (req: Request, res: Response) => {
    const [n, item] = findItem(req);
    const score = { ...parseScore(ctx, req.body), lineItemId: item.id };
    const perUser = state.latest.get(n) ?? new Map<string, RecordedScore>();
    const previous = perUser.get(score.userId);
    // Moodle keeps whole seconds and refuses a score whose timestamp is not later than the stored one.
    if (previous?.timestamp !== undefined && Math.floor(Date.parse(previous.timestamp) / 1000) >= Math.floor(Date.parse(score.timestamp) / 1000)) {
      jsonError(res, 409, 'conflict', `Refusing score with an earlier timestamp for item ${n} and user ${score.userId}`);
      return;
    }
    perUser.set(score.userId, score);
    state.latest.set(n, perUser);
    ctx.scores.push(score);
    res.status(204).end();
  });

  router.get('/api/courses/:ctx/lineitems/:id/results', requireScope(state, SCOPE.resultReadOnly), (req: Request, res: Response) => {
    const [n, item] = findItem(req);
    let results = [...(state.latest.get(n)?.values() ?? [])].map((s) => ({
      id: `${item.id}/results/${encodeURIComponent(s.userId)}`,
      scoreOf: item.id,
      userId: s.userId,
      ...(s.scoreGiven !== undefined ? { resultScore: s.scoreGiven } : {}),
      ...(s.scoreMaximum !== undefined ? { resultMaximum: s.scoreMaximum } : {}),
      ...(s.comment !== undefined ? { comment: s.comment } : {}),
    }));
    if (typeof req.query.user_id === 'string') results = results.filter((r) => r.userId === req.query.user_id);
    const limit = limitOf(req);
    if (limit !== undefined) results = results.slice(0, limit);
    sendTyped(res, 200, MEDIA.resultContainer, results);
  });

  // Service errors are JSON (OAuth style), never HTML.
  router.use('/api', (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (err instanceof SimError) {
      jsonError(res, err.status, err.code, err.message);
      return;
    }
    const status = (err as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500) {
      jsonError(res, status, 'invalid_request', (err as Error).message);
      return;
    }
    next(err);
  });

  return router;
}
