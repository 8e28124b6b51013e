/**
 * LMS simulator: a real, minimal LTI 1.3 platform ("a tiny Moodle") on its own HTTP server, for
 * demo mode and tests. It launches the tool (OIDC third-party initiated login → /auth → form_post
 * id_token), serves its JWKS, an OAuth2 token endpoint, NRPS and AGS, and accepts deep-linking
 * responses. It stands alone: nothing from the tool, no ltijs.
 *
 * Routes: GET / · GET /course?user=<id> · GET|POST /auth · GET /jwks · POST /token ·
 * /api/courses/:ctx/{memberships,lineitems[/:id[/scores|/results]]} · POST /deep-linking/return
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request, type Response } from 'express';
import { authorizationEndpoint, claimsFor, signIdToken } from './auth';
import { findUser, type SimContext } from './context';
import { deepLinkingReturn } from './deep-linking';
import { DEMO_COURSE, DEMO_USERS } from './demo-data';
import { SimError } from './errors';
import { parseAutoPostForm, sendErrorPage } from './html';
import { generateSigningKey, ToolKeySet } from './keys';
import { MessageHints } from './message-hint';
import { coursePage, homePage, loginInitiationFields } from './pages';
import { servicesRouter } from './services';
import { dynamicRegistrationRouter, newDynamicRegistrationState, startRegistration, type DynamicRegistrationState } from './dynamic-registration';
import type { LmsSimulator, LmsSimulatorOptions, NrpsBehaviour, SimUser } from './types';

export type {
  IdTokenTamper,
  LmsSimulator,
  LmsSimulatorOptions,
  LtiMessageType,
  NrpsBehaviour,
  RecordedDeepLinkResponse,
  RecordedScore,
  RegisteredPlatform,
  SimCourse,
  SimUser,
  ToolUrls,
} from './types';
export { DEMO_COURSE, DEMO_USERS } from './demo-data';
export { escapeHtml } from './html';
export { CLAIM, DL_CLAIM, ROLE, SCOPE } from './claims';
export type { ToolRegistrationRecord } from './dynamic-registration';

function checkOptions(o: LmsSimulatorOptions): void {
  if (!Number.isInteger(o.port) || o.port < 0 || o.port > 65535) throw new TypeError('options.port must be an integer 0–65535');
  for (const k of ['loginUrl', 'launchUrl', 'jwksUrl', 'deepLinkUrl'] as const) {
    const v = o.tool[k];
    if (v === undefined && k === 'deepLinkUrl') continue;
    let parsed: URL;
    try {
      parsed = new URL(String(v));
    } catch {
      throw new TypeError(`options.tool.${k} must be an absolute URL`);
    }
    if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new TypeError(`options.tool.${k} must be http(s)`);
  }
  const ids = new Set<string>();
  for (const u of o.users ?? []) {
    if (u.id === '' || ids.has(u.id)) throw new TypeError(`options.users: user ids must be unique and non-empty ("${u.id}")`);
    ids.add(u.id);
  }
  if (o.users && o.users.length === 0) throw new TypeError('options.users must not be empty');
}

function buildApp(ctx: SimContext, nrps: NrpsBehaviour, registration: DynamicRegistrationState): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  const form = express.urlencoded({ extended: false, limit: '256kb' });

  app.get('/', homePage(ctx));
  app.get('/course', coursePage(ctx));
  app.get('/auth', authorizationEndpoint(ctx));
  app.post('/auth', form, authorizationEndpoint(ctx));
  app.get('/jwks', (_req: Request, res: Response) => {
    res.set('Cache-Control', 'public, max-age=300').json({ keys: [ctx.key.publicJwk] });
  });
  app.post('/deep-linking/return', form, deepLinkingReturn(ctx));
  app.use(servicesRouter(ctx, nrps));
  app.use(dynamicRegistrationRouter(ctx, registration));

  app.use((req: Request, res: Response) => {
    if (req.path.startsWith('/api/')) res.status(404).json({ error: 'not_found', error_description: 'no such endpoint' });
    else sendErrorPage(res, 404, 'Página no encontrada', `El simulador no tiene la página ${req.path}.`);
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    const status = err instanceof SimError ? err.status : typeof (err as { status?: unknown }).status === 'number' ? (err as { status: number }).status : 500;
    const message = status < 500 || err instanceof SimError ? (err as Error).message : 'Error interno del simulador.';
    if (status >= 500 && !(err instanceof SimError)) console.error('[lms-simulator]', err);
    if (res.headersSent) return;
    if (req.path.startsWith('/api/') || req.path === '/token') res.status(status).json({ error: status < 500 ? 'invalid_request' : 'server_error', error_description: message });
    else sendErrorPage(res, status, status < 500 ? 'Solicitud inválida' : 'Error del simulador', message);
  });
  return app;
}

function listen(server: http.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve((server.address() as AddressInfo).port);
    });
  });
}

export async function startLmsSimulator(options: LmsSimulatorOptions): Promise<LmsSimulator> {
  checkOptions(options);
  const bits = options.keyBits ?? 2048;
  const [key, foreignKey] = await Promise.all([generateSigningKey(bits), generateSigningKey(bits)]);
  const server = http.createServer();
  const port = await listen(server, options.port, options.host ?? '127.0.0.1');
  const publicHost = options.publicHost ?? 'localhost';
  const hostForUrl = publicHost.includes(':') && !publicHost.startsWith('[') ? `[${publicHost}]` : publicHost;
  const url = (options.publicUrl ?? `http://${hostForUrl}:${port}`).replace(/\/+$/, '');

  const ctx: SimContext = {
    url,
    publicHost,
    clientId: options.clientId ?? 'asistencia-sence-demo',
    deploymentId: options.deploymentId ?? '1',
    tool: { ...options.tool },
    users: [...(options.users ?? DEMO_USERS)],
    course: { ...(options.course ?? DEMO_COURSE) },
    key,
    foreignKey,
    toolKeys: new ToolKeySet(options.tool.jwksUrl),
    hints: new MessageHints(),
    scores: [],
    deepLinkResponses: [],
    pendingTamper: null,
    deepLinkData: new Map(),
  };
  const nrps: NrpsBehaviour = { failWith: null, delayMs: 0, pageSize: null, requests: 0 };
  const registration = newDynamicRegistrationState();
  server.on('request', buildApp(ctx, nrps, registration));

  const userOrThrow = (userId: string): SimUser => {
    const user = findUser(ctx, userId);
    if (!user) throw new Error(`Unknown simulator user "${userId}"`);
    return user;
  };

  return {
    url,
    issuer: url,
    clientId: ctx.clientId,
    deploymentId: ctx.deploymentId,
    platform: {
      url,
      name: 'Simulador LMS',
      clientId: ctx.clientId,
      authenticationEndpoint: `${url}/auth`,
      accesstokenEndpoint: `${url}/token`,
      authConfig: { method: 'JWK_SET', key: `${url}/jwks` },
    },
    users: ctx.users,
    course: ctx.course,
    nrps,
    scores: ctx.scores,
    deepLinkResponses: ctx.deepLinkResponses,
    toolRegistrations: registration.registrations,
    startDynamicRegistration(toolUrl) {
      return startRegistration(ctx, registration, toolUrl);
    },
    tamperNextIdToken(t) {
      ctx.pendingTamper = t;
    },
    signIdToken(claims, opts) {
      return signIdToken(ctx, claims, {
        signWithForeignKey: opts?.foreignKey === true,
        ...(opts?.kid !== undefined ? { header: { kid: opts.kid } } : {}),
      });
    },
    launchClaims(userId, nonce, opts) {
      return claimsFor(ctx, userOrThrow(userId), nonce, opts?.messageType ?? 'LtiResourceLinkRequest');
    },
    loginInitiation(userId, opts) {
      return loginInitiationFields(ctx, userOrThrow(userId), opts?.messageType ?? 'LtiResourceLinkRequest', opts?.platformStorage ?? 'off');
    },
    async authorize(authUrl) {
      const res = await fetch(authUrl, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
      const body = await res.text();
      return { status: res.status, html: body, ...parseAutoPostForm(body) };
    },
    close() {
      return new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      });
    },
  };
}

