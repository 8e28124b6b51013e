/**
 * ltijs 5.9.9, set up once and mounted at /lti in the Express 5 host (REFERENCE §1–2), with the
 * two steps of every launch done by the tool itself: the OIDC login (crypto-random state and nonce,
 * kept server-side) and the launch (our checks, then ltijs's own records and ltik, written as ltijs
 * writes them: launch-records.ts). ltijs still serves its key set, dynamic registration, its
 * services (Names and Roles, Deep Linking) and any request the tool does not resolve itself (a
 * missing or bad ltik: its errors become our Spanish pages). Bodies are parsed once by the host (then
 * flagged `_body` so ltijs's body-parser 1.x does not re-read the stream: "stream is not readable").
 */
import { createPublicKey, randomBytes, type KeyObject } from 'node:crypto';
import express, { type Express, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import cookieParser from 'cookie-parser';
import jwt from 'jsonwebtoken';
import { Provider as lti, type Platform, type PlatformRegistration } from 'ltijs';
import type { Database as SqliteDatabase } from 'better-sqlite3';
import type { Config } from '../config';
import { AppError, type ErrorCode } from '../errors';
import type { LoginStateStore } from '../store/ports';
import { SqliteLtijsPlugin } from './sqlite-ltijs-plugin';
import { LaunchSessionCache } from './launch-session-cache';
import { KeySetCache } from './keyset-cache';
import { checkLaunch } from './launch-verification';
import { ltijsLaunchRecords } from './launch-records';
import { dynamicRegistrationHandler, LEGACY_CONSUMER_KEY_HINT, type RegistrationStores } from './dynamic-registration';
import { ltikKeyFor, useParsedLtikKey } from './ltik-key';
import { ltikExpired, relaunchQuery, stateStorageKey, storageTargetOf } from './platform-storage';
import { originOf } from '../web/security-headers';
import { sendView } from '../web/error-handler';
import { pathIs, series } from '../web/series';

export type ErrorRenderer = (req: Request, res: Response, error: unknown) => void;

export interface LtiRuntimeDeps {
  config: Readonly<Config>;
  logins: LoginStateStore;
  sqlite: SqliteDatabase | null;
  renderError: ErrorRenderer;
  keyCache?: KeySetCache;
  now?: () => number;
  /** Invitations and audit for dynamic registration (absent in the CLI: registration is refused). */
  registration?: RegistrationStores | null;
}

export interface LtiRuntime {
  /**
   * Mount both at '/lti' with app.use (in this order) before any host body parser; host routes for
   * /lti/* go after them. `app` must be mounted with app.use on the host app itself (not inside a
   * Router): Express then restores the host's req/res prototypes when ltijs hands the request on.
   * `steps` is one middleware (a series, not a Router: web/series.ts).
   */
  steps: RequestHandler;
  app: Express;
  provider: typeof lti;
  keyCache: KeySetCache;
  registerPlatform(p: PlatformRegistration): Promise<void>;
  /** True when a registered, active platform has this issuer and client id. */
  isActivePlatform(issuer: string, clientId: string): boolean;
  /**
   * Verifies an ltik as every request's (signature, age, active platform, its launch records) and
   * puts its launch in res.locals; throws the Spanish AppError otherwise (401). The upload reads its
   * ltik field with this before the file part (web/upload-parser.ts, issue #19 §5).
   */
  authenticateLtik(ltik: string, res: Response): Promise<void>;
  /** Origins of the registered platforms (CSP frame-ancestors / form-action), refreshed periodically. */
  platformOrigins(): string[];
  /** Origins of one active platform (its issuer's and its authorization endpoint's); [] when not active. */
  originsOfPlatform(issuer: string, clientId: string): readonly string[];
  refreshPlatformOrigins(): Promise<void>;
  sweep(): void;
  close(): Promise<void>;
}

/** Set on res.locals when the request's ltik was resolved by the tool itself (ltikSession). */
export const LTIK_SESSION = 'ltikSession';

/** Whether this request's ltik was already validated and resolved (host routes may serve it without ltijs). */
export function hasLtikSession(res: Response): boolean {
  return (res.locals as Record<string, unknown>)[LTIK_SESSION] === true;
}

/** What ltijs's sessionValidator would put in res.locals.token: the id token record plus its context. */
type LaunchSession = Record<string, unknown> & { platformContext: unknown };

/** Resolved ltiks kept in memory (launch-session-cache.ts): how many, and for how long. */
const LAUNCH_SESSION_CACHE_ENTRIES = 2000;
const LAUNCH_SESSION_CACHE_MS = 30_000;

interface LtikClaims {
  iat?: unknown;
  platformUrl?: unknown;
  clientId?: unknown;
  deploymentId?: unknown;
  contextId?: unknown;
  user?: unknown;
}

/** A login waits this long for its launch (the state cookie, where a browser keeps it, lives 1 minute as with ltijs). */
const LOGIN_LIFETIME_MS = 10 * 60_000;
const STATE_COOKIE_MAX_AGE_MS = 60_000;

/**
 * ltijs error names (res.locals.err.details.message) → our stable codes and Spanish texts. Only a
 * missing or bad ltik still reaches ltijs (launches never do), so only its session errors remain.
 */
const LTIJS_ERRORS: Record<string, { code: ErrorCode; status: number; message: string }> = {
  NO_LTIK_OR_IDTOKEN_FOUND: { code: 'lti-missing-ltik', status: 401, message: 'Tu sesión en la herramienta no es válida. Vuelve a entrar desde tu curso.' },
  IDTOKEN_NOT_FOUND_DB: { code: 'lti-session-expired', status: 401, message: 'Tu sesión en la herramienta expiró. Vuelve a entrar desde tu curso.' },
  CONTEXTTOKEN_NOT_FOUND_DB: { code: 'lti-session-expired', status: 401, message: 'Tu sesión en la herramienta expiró. Vuelve a entrar desde tu curso.' },
};

const UNREGISTERED_HINT =
  'Registre la plataforma (npm run cli -- platform add …) o use el registro dinámico. En Moodle, si la actividad tiene una "clave de consumidor" LTI 1.1 (resourcekey), Moodle la envía como client_id; en Moodle 4.5 ese campo está oculto: elimine la actividad y vuelva a crearla.';

export async function setupLti(deps: LtiRuntimeDeps): Promise<LtiRuntime> {
  const { config } = deps;
  const now = deps.now ?? Date.now;
  const keyCache = deps.keyCache ?? new KeySetCache();
  const plugin = deps.sqlite ? new SqliteLtijsPlugin(deps.sqlite) : null;
  // ltik sign/verify: the HS256 secret parsed once, not on every request (see ltik-key.ts).
  useParsedLtikKey(config.ltiKey);

  lti.setup(
    config.ltiKey,
    plugin ? { plugin } : { url: config.mongodbUri ?? '', connection: {} },
    {
      appRoute: '/',
      loginRoute: '/login',
      keysetRoute: '/keys',
      dynRegRoute: '/register',
      cors: false,
      devMode: false,
      // No session cookie: after the launch the ltik alone authenticates (our guard adds its expiry
      // and binds it to an active platform; docs/architecture.md, "Launch and session without cookies").
      ltiaas: true,
      tokenMaxAge: config.tokenMaxAgeSeconds,
      // Inside an LMS iframe the cookies are cross-site: SameSite=None needs Secure (HTTPS).
      cookies: config.secureCookies ? { secure: true, sameSite: 'None' } : { secure: false, sameSite: 'Lax' },
      dynReg: {
        url: `${config.publicUrl}/lti`,
        name: 'Asistencia SENCE',
        description: 'Registro de asistencia SENCE (RCE) para cursos e-learning',
        redirectUris: [`${config.publicUrl}/lti`],
        customParameters: { rut: '$User.username' },
        autoActivate: false,
        useDeepLinking: true,
      },
    },
  );

  const getPlatform = lti.getPlatform.bind(lti);
  // The ltik's key as ltijs signs and verifies it (parsed once: ltik-key.ts).
  const ltikKey = ltikKeyFor(config.ltiKey);
  // ltijs's cookie options (setup above), for the state cookie the login sets and the launch clears.
  const cookieOptions = { httpOnly: true, signed: true, secure: config.secureCookies, sameSite: config.secureCookies ? 'none' : 'lax' } as const;

  lti.whitelist('/canvas.json', { route: '/storage-check', method: 'POST' });

  lti.onInvalidToken((_req: Request, res: Response, next: NextFunction) => {
    const err = (res.locals as { err?: { details?: { message?: string; description?: string } } }).err;
    const name = err?.details?.message ?? '';
    const mapped = (Object.hasOwn(LTIJS_ERRORS, name) ? LTIJS_ERRORS[name] : undefined) ?? { code: 'lti-invalid-token' as ErrorCode, status: 401, message: 'No pudimos validar tu ingreso desde la plataforma del curso. Vuelve a entrar desde tu curso.' };
    next(new AppError(mapped.code, mapped.status, mapped.message, { details: { ltijs: name } }));
  });
  lti.onSessionTimeout((_req: Request, _res: Response, next: NextFunction) => {
    next(new AppError('lti-session-expired', 401, 'Tu sesión en la herramienta expiró o no coincide con este navegador. Vuelve a entrar desde tu curso.'));
  });
  const unregisteredLogin = () =>
    new AppError('lti-unregistered-platform', 400, 'Esta plataforma (o este client_id) no está registrada en Asistencia SENCE. Avísale al administrador de tu plataforma.', { staffHint: UNREGISTERED_HINT });
  const inactiveLogin = (req: Request) => {
    const p = { ...(req.query as Record<string, unknown>), ...((req.body as Record<string, unknown> | undefined) ?? {}) };
    const issuer = typeof p.iss === 'string' ? p.iss : 'URL';
    const clientId = typeof p.client_id === 'string' ? p.client_id : 'ID';
    return new AppError('lti-inactive-platform', 401, 'Esta plataforma está registrada pero aún no está activada en Asistencia SENCE. Avísale al administrador.', { staffHint: `El operador de Asistencia SENCE la activa con: npm run cli -- platform activate --issuer ${issuer} --client-id ${clientId}` });
  };
  // The tool answers logins itself (below); ltijs's handlers stay for anything that still reaches it.
  lti.onUnregisteredPlatform((req: Request, res: Response) => deps.renderError(req, res, unregisteredLogin()));
  lti.onInactivePlatform((req: Request, res: Response) => deps.renderError(req, res, inactiveLogin(req)));

  // deploy() adds a SIGINT handler that calls process.exit(); main.ts owns shutdown, so drop it.
  const sigintBefore = new Set(process.listeners('SIGINT'));
  await lti.deploy({ serverless: true, silent: true });

  // Dynamic registration ("Add LTI Advantage" in Moodle): behind an operator's invitation (issue #7).
  lti.onDynamicRegistration(dynamicRegistrationHandler({ config, provider: lti, stores: deps.registration ?? null, renderError: deps.renderError, refreshPlatformOrigins: () => refreshPlatformOrigins() }));
  for (const l of process.listeners('SIGINT')) if (!sigintBefore.has(l)) process.removeListener('SIGINT', l);

  let origins: string[] = [];
  let activePlatforms = new Set<string>();
  let originsByPlatform = new Map<string, readonly string[]>();
  const platformKey = (issuer: string, clientId: string) => `${issuer}\u0000${clientId}`;
  const refreshPlatformOrigins = async () => {
    const platforms = (await lti.getAllPlatforms()) || [];
    const list: string[] = [];
    const active = new Set<string>();
    const byPlatform = new Map<string, readonly string[]>();
    for (const p of platforms) {
      // Only active platforms may frame the tool or receive its forms (issue #7).
      if (!(await p.platformActive())) continue;
      const o = originOf(await p.platformUrl());
      const a = originOf(await p.platformAuthEndpoint());
      if (o) list.push(o);
      if (a) list.push(a);
      const key = platformKey(await p.platformUrl(), await p.platformClientId());
      active.add(key);
      byPlatform.set(key, [...new Set([o, a].filter((x): x is string => x !== null))]);
    }
    origins = [...new Set(list)];
    activePlatforms = active;
    originsByPlatform = byPlatform;
  };
  await refreshPlatformOrigins();
  const originTimer = setInterval(() => void refreshPlatformOrigins().catch(() => undefined), 60_000);
  originTimer.unref();

  /** The platform's record and its key for `kid` (an AppError when unregistered, inactive or keyless). */
  const resolvePlatformKey = async (issuer: string, clientId: string, kid: string | undefined): Promise<{ platform: Platform; key: KeyObject }> => {
    const platform = await getPlatform(issuer, clientId);
    if (!platform || Array.isArray(platform)) {
      throw new AppError('lti-unregistered-platform', 401, 'Esta plataforma (o este client_id) no está registrada en Asistencia SENCE.', { staffHint: UNREGISTERED_HINT });
    }
    if (!(await platform.platformActive())) {
      throw new AppError('lti-inactive-platform', 401, 'Esta plataforma aún no está activada en Asistencia SENCE.');
    }
    const auth = await platform.platformAuthConfig();
    if (auth.method === 'JWK_SET') {
      if (!kid) throw new AppError('lti-bad-signature', 401, 'El lanzamiento no indica con qué llave fue firmado.');
      return { platform, key: await keyCache.getKey(auth.key, kid) };
    }
    if (auth.method === 'JWK_KEY') {
      const jwk = typeof auth.key === 'string' ? JSON.parse(auth.key) : auth.key;
      return { platform, key: createPublicKey({ key: jwk, format: 'jwk' }) };
    }
    return { platform, key: createPublicKey(auth.key) };
  };

  /**
   * OIDC login initiation (LTI 1.3 Core §5.1.1, OIDC third-party login), answered by the tool: the
   * platform of `iss` (and `client_id`) must be registered and active; the state and the nonce are
   * crypto-random (ltijs drew its nonces from Math.random) and kept server-side with the login, which
   * the launch consumes once. The browser then goes to the platform's authorization endpoint: a 302,
   * or, when the platform offers LTI Platform Storage (`lti_storage_target`), a page that first puts
   * the state in the platform's storage in this browser. A state cookie is still set (where the
   * browser keeps it, the launch checks it; a cross-site iframe usually gets none).
   */
  const oidcLogin: RequestHandler = (req, res, next) => {
    const params = { ...(req.query as Record<string, unknown>), ...((req.body as Record<string, unknown> | undefined) ?? {}) };
    void (async () => {
      // ltiRequestShape let only single strings through, and refused a login without these three.
      const issuer = String(params.iss);
      const targetLinkUri = String(params.target_link_uri);
      const clientIdParam = typeof params.client_id === 'string' && params.client_id !== '' ? params.client_id : null;
      const found = clientIdParam ? await getPlatform(issuer, clientIdParam) : await getPlatform(issuer);
      const platform = Array.isArray(found) ? found[0] : found;
      if (!platform) throw unregisteredLogin();
      if (!(await platform.platformActive())) throw inactiveLogin(req);

      const state = randomBytes(25).toString('hex');
      const nonce = randomBytes(24).toString('base64url');
      const queryAt = targetLinkUri.indexOf('?');
      const query = new URLSearchParams({
        response_type: 'id_token',
        response_mode: 'form_post',
        id_token_signed_response_alg: 'RS256',
        scope: 'openid',
        client_id: clientIdParam ?? (await platform.platformClientId()),
        redirect_uri: queryAt === -1 ? targetLinkUri : targetLinkUri.slice(0, queryAt),
        login_hint: String(params.login_hint),
        nonce,
        prompt: 'none',
        state,
      });
      // Passed on as given when present (ltijs skipped empty ones too).
      if (typeof params.lti_message_hint === 'string' && params.lti_message_hint !== '') query.set('lti_message_hint', params.lti_message_hint);
      if (typeof params.lti_deployment_id === 'string' && params.lti_deployment_id !== '') query.set('lti_deployment_id', params.lti_deployment_id);
      const authEndpoint = await platform.platformAuthEndpoint();
      const location = `${authEndpoint}${authEndpoint.includes('?') ? '&' : '?'}${query.toString()}`;

      const storageTarget = storageTargetOf(params);
      const relaunch = relaunchQuery(params);
      await deps.logins.save({
        state,
        nonce,
        issuer,
        clientId: clientIdParam,
        storageTarget,
        relaunchQuery: storageTarget ? relaunch : null,
        linkQuery: queryAt === -1 ? null : targetLinkUri.slice(queryAt + 1) || null,
        expiresAt: new Date(now() + LOGIN_LIFETIME_MS),
      });
      // res.cookie signs with the request's secret (cookie-parser's place for it).
      (req as unknown as { secret: string }).secret = config.ltiKey;
      res.cookie(`state${state}`, issuer, { ...cookieOptions, maxAge: STATE_COOKIE_MAX_AGE_MS });
      if (!storageTarget) {
        res.redirect(location);
        return;
      }
      res.status(200).set('Cache-Control', 'no-store');
      sendView(res, 'platform-storage-login', {
        title: 'Entrando a Asistencia SENCE',
        storage: { target: storageTarget, origin: new URL(location).origin, key: stateStorageKey(state), value: state },
        next: location,
        relaunchUrl: `${config.publicUrl}/lti/login?${relaunch}`,
      });
    })().catch((error: unknown) => {
      if (error instanceof AppError) return deps.renderError(req, res, error);
      next(error);
    });
  };

  /**
   * The launch (the platform's id_token form_post), answered by the tool: our checks
   * (launch-verification.ts: the login's state consumed once, its nonce, the signature with the cached
   * platform key, audience, age, the required LTI claims); then what ltijs did after its own check —
   * the state cookie cleared, the id token and context records stored, the ltik signed
   * (launch-records.ts) — and the request goes on, authenticated, to the host's routes (the panel).
   */
  const launch: RequestHandler = (req, res, next) => {
    // Every id_token is ours: the shape guard let only form POSTs carry one.
    if (!carriesIdToken(req)) return next();
    const body = req.body as Record<string, unknown>;
    const state = typeof body.state === 'string' ? body.state : undefined;
    const idToken = typeof body.id_token === 'string' ? body.id_token : undefined;
    void (async () => {
      const login = state ? await deps.logins.consume(state, new Date(now())) : null;
      let platform: Platform | null = null;
      const result = await checkLaunch({
        idToken,
        state,
        login,
        resolveKey: async (issuer, clientId, kid) => {
          const resolved = await resolvePlatformKey(issuer, clientId, kid);
          platform = resolved.platform;
          return resolved.key;
        },
        maxAgeSeconds: config.tokenMaxAgeSeconds,
        nowSeconds: Math.floor(now() / 1000),
      });
      if (!result.ok) {
        const status = result.code === 'lti-missing-state' ? 400 : result.code === 'lti-keyset-unavailable' ? 502 : 401;
        throw new AppError(result.code, status, launchMessage(result.code), {
          staffHint: result.code === 'lti-unregistered-platform' ? UNREGISTERED_HINT : result.code === 'lti-wrong-audience' ? LEGACY_CONSUMER_KEY_HINT : undefined,
          details: { step: result.step, reason: result.reason },
        });
      }
      const issuer = String(result.claims.iss);
      // A state cookie that came (first-party window, browsers allowing it) must match the login's
      // issuer; the server-side binding above stands in for one that did not.
      const cookies = req.signedCookies as Record<string, unknown>;
      const cookieName = `state${state}`;
      if (cookieName in cookies && cookies[cookieName] !== issuer) {
        throw new AppError('lti-state-mismatch', 401, 'El ingreso no corresponde al que inició este navegador. Vuelve a entrar desde tu curso.', {
          details: { step: 'state-cookie' },
        });
      }
      // A good check resolved the key, so the platform (of this issuer and client id) was loaded.
      const launchPlatform = platform as Platform | null;
      if (!launchPlatform || !login) throw new Error('launch check passed without its login or platform');
      if (login.storageTarget) {
        const authEndpoint = await launchPlatform.platformAuthEndpoint();
        (res.locals as { platformStorage?: unknown }).platformStorage = {
          target: login.storageTarget,
          origin: originOf(authEndpoint) ?? '',
          key: stateStorageKey(state!),
          state: state!,
          relaunchQuery: login.relaunchQuery,
        };
      }
      const records = ltijsLaunchRecords({
        claims: result.claims,
        clientId: await launchPlatform.platformClientId(),
        platformKid: await launchPlatform.platformKid(),
        path: req.path,
        state: state!,
      });
      const db = lti.Database;
      await Promise.all([
        db.Replace(false, 'idtoken', records.idTokenQuery, records.idToken),
        db.Replace(false, 'contexttoken', records.contextTokenQuery, records.contextToken),
      ]);
      res.clearCookie(cookieName, cookieOptions);
      // The target_link_uri's own query, kept with the login, is the launch request's query too.
      const linkQuery: Record<string, string> = {};
      if (login.linkQuery) {
        const query = req.query as Record<string, unknown>;
        for (const [name, value] of new URLSearchParams(login.linkQuery)) {
          query[name] = value;
          linkQuery[name] = value;
        }
      }
      const locals = res.locals as Record<string, unknown>;
      const context = JSON.parse(JSON.stringify(records.contextToken)) as Record<string, unknown>;
      const token = JSON.parse(JSON.stringify(records.idToken)) as LaunchSession;
      token.platformContext = context;
      locals.query = linkQuery;
      locals.context = context;
      locals.token = token;
      locals.ltik = jwt.sign(records.ltikClaims, ltikKey, { algorithm: 'HS256' });
      locals[LTIK_SESSION] = true;
      next();
    })().catch(next);
  };

  /**
   * The ltik of a launch authenticates every later request (no cookie). ltijs signs it without an
   * expiry and would accept it forever: refuse it past LTIK_MAX_AGE_MINUTES, and once its platform
   * is removed or deactivated. A bad signature is left to ltijs (its usual 401).
   *
   * A good ltik is then resolved here, as ltijs's sessionValidator would (its id token and context
   * records), and the request is marked authenticated: the host's /lti routes serve it without
   * passing through ltijs's own Express 4 app (helmet, four body parsers, cookie parser, query
   * re-parse, the same verification again), which was most of the cost of a panel view (issue #8).
   * Anything else (no ltik, a bad one, records not found, ltijs's reserved routes, the launch
   * itself) still goes to ltijs, with its errors.
   */
  const ltikSession: RequestHandler = (req, res, next) => {
    if (pathIs(req, '/login') || pathIs(req, '/keys') || pathIs(req, '/register')) return next();
    if (carriesIdToken(req)) return next();
    const ltik = presentedLtik(req);
    if (!ltik) return next();
    const verified = verifyLtik(ltik);
    if (verified === null) return next();
    if (verified instanceof AppError) return next(verified);
    const { claims, hit } = verified;
    if (hit) {
      useSession(res, ltik, hit.session);
      return next();
    }
    void loadLaunchSession(claims)
      .then((session) => {
        if (session) useSession(res, ltik, sessions.set(ltik, { claims, session }).session);
        next();
      })
      .catch(next);
  };

  /**
   * The ltik's claims (and its cached launch, if any) when its signature holds; an AppError when it
   * is too old or its platform is not active; null when it is no ltik of this tool at all.
   */
  const verifyLtik = (ltik: string): { claims: LtikClaims; hit: { claims: LtikClaims; session: LaunchSession } | undefined } | AppError | null => {
    // The same ltik string verified before (same key) needs no second HMAC: its claims are cached
    // with its records. Age and platform are checked on every request all the same.
    const hit = sessions.get(ltik);
    let claims: LtikClaims;
    if (hit) {
      claims = hit.claims;
    } else {
      try {
        claims = jwt.verify(ltik, ltikKey, { algorithms: ['HS256'] }) as LtikClaims;
      } catch {
        return null;
      }
    }
    const nowSeconds = Math.floor(now() / 1000);
    if (ltikExpired(claims.iat, nowSeconds, config.ltikMaxAgeMinutes)) {
      return new AppError('lti-session-expired', 401, `Tu sesión en la herramienta expiró (dura ${formatHours(config.ltikMaxAgeMinutes)}). Vuelve a abrir la actividad desde tu curso.`, {
        details: { ltikAgeSeconds: typeof claims.iat === 'number' ? nowSeconds - claims.iat : null },
      });
    }
    if (!activePlatforms.has(platformKey(String(claims.platformUrl), String(claims.clientId)))) {
      return new AppError('lti-inactive-platform', 401, 'La plataforma de este curso ya no está activa en Asistencia SENCE. Avísale al administrador de tu plataforma.');
    }
    return { claims, hit };
  };

  /** ltikSession's checks for an ltik read outside the usual steps (the upload's field): resolved, or thrown. */
  const authenticateLtik = async (ltik: string, res: Response): Promise<void> => {
    const verified = verifyLtik(ltik);
    if (verified instanceof AppError) throw verified;
    let session = verified?.hit?.session ?? null;
    if (verified && !session) {
      const loaded = await loadLaunchSession(verified.claims);
      if (loaded) session = sessions.set(ltik, { claims: verified.claims, session: loaded }).session;
    }
    if (!session) throw new AppError('lti-missing-ltik', 401, LTIJS_ERRORS.NO_LTIK_OR_IDTOKEN_FOUND!.message);
    useSession(res, ltik, session);
  };

  const useSession = (res: Response, ltik: string, session: LaunchSession) => {
    const locals = res.locals as Record<string, unknown>;
    locals.context = session.platformContext;
    locals.token = session;
    locals.ltik = ltik;
    locals[LTIK_SESSION] = true;
  };
  const sessions = new LaunchSessionCache<{ claims: LtikClaims; session: LaunchSession }>(LAUNCH_SESSION_CACHE_ENTRIES, LAUNCH_SESSION_CACHE_MS, now);

  /** What ltijs's sessionValidator puts in res.locals.token for a valid ltik, or null (then ltijs answers). */
  const loadLaunchSession = async (claims: LtikClaims): Promise<LaunchSession | null> => {
    if (typeof claims.user !== 'string' && typeof claims.user !== 'number') return null;
    const db = lti.Database as unknown as { Get: (key: false, collection: string, query: Record<string, unknown>) => Promise<Array<Record<string, unknown>> | false | undefined> };
    const [idTokens, contextTokens] = await Promise.all([
      db.Get(false, 'idtoken', { iss: claims.platformUrl, clientId: claims.clientId, deploymentId: claims.deploymentId, user: claims.user }),
      db.Get(false, 'contexttoken', { contextId: claims.contextId, user: claims.user }),
    ]);
    if (!idTokens || !idTokens[0] || !contextTokens || !contextTokens[0]) return null;
    const token = JSON.parse(JSON.stringify(idTokens[0])) as LaunchSession;
    token.platformContext = JSON.parse(JSON.stringify(contextTokens[0]));
    return token;
  };

  // A launch's cookies parsed with ltijs's secret: the launch step checks a state cookie that came.
  // Other requests need none.
  const parseCookies = cookieParser(config.ltiKey);
  const steps = series(
    // Parse form bodies once; flag them so ltijs's own body-parser 1.x skips the consumed stream.
    express.urlencoded({ extended: false, limit: '64kb', parameterLimit: 200 }),
    (req, _res, next) => {
      if (req.body !== undefined) (req as unknown as { _body: boolean })._body = true;
      next();
    },
    (req, res, next) => (carriesIdToken(req) ? parseCookies(req, res, next) : next()),
    (req, res, next) => (pathIs(req, '/login') ? oidcLogin(req, res, next) : next()),
    launch,
    ltikSession,
  );

  return {
    steps,
    app: lti.app as unknown as Express,
    provider: lti,
    keyCache,
    isActivePlatform: (issuer, clientId) => activePlatforms.has(platformKey(issuer, clientId)),
    authenticateLtik,
    async registerPlatform(p) {
      await lti.registerPlatform(p);
      if (p.authConfig.method === 'JWK_SET') keyCache.invalidate(p.authConfig.key);
      await refreshPlatformOrigins();
    },
    platformOrigins: () => origins,
    originsOfPlatform: (issuer, clientId) => originsByPlatform.get(platformKey(issuer, clientId)) ?? [],
    refreshPlatformOrigins,
    sweep() {
      plugin?.sweep();
    },
    async close() {
      clearInterval(originTimer);
      await lti.close({ silent: true });
    },
  };
}

/** A body with an id_token: the launch itself (ltijs's step), never a request the ltik authenticates. */
export function carriesIdToken(req: Request): boolean {
  return (req.body as Record<string, unknown> | undefined)?.id_token !== undefined;
}

/** The ltik presented: `Authorization: Bearer`, then the body's `ltik`, then the query's (ltijs, for the requests it still resolves, looks at the query first). */
function presentedLtik(req: Request): string | null {
  const auth = req.headers.authorization;
  if (typeof auth === 'string' && /^Bearer\s+/i.test(auth)) return auth.replace(/^Bearer\s+/i, '').trim() || null;
  const fromBody = (req.body as Record<string, unknown> | undefined)?.ltik;
  if (typeof fromBody === 'string' && fromBody !== '') return fromBody;
  const fromQuery = (req.query as Record<string, unknown>).ltik;
  return typeof fromQuery === 'string' && fromQuery !== '' ? fromQuery : null;
}

function formatHours(minutes: number): string {
  const h = Math.floor(minutes / 60);
  const m = minutes % 60;
  return m === 0 ? `${h} horas` : `${h} h ${m} min`;
}

function launchMessage(code: ErrorCode): string {
  switch (code) {
    case 'lti-missing-state':
      return 'El ingreso llegó sin su código de estado (state). Vuelve a entrar desde tu curso.';
    case 'lti-replayed-launch':
      return 'Este ingreso ya se usó o expiró. Vuelve a entrar desde tu curso.';
    case 'lti-nonce-mismatch':
      return 'El ingreso no corresponde al que inició este navegador (nonce distinto). Vuelve a entrar desde tu curso.';
    case 'lti-bad-signature':
      return 'La firma del ingreso no es válida. Vuelve a entrar desde tu curso; si el problema sigue, avísale al administrador de la plataforma.';
    case 'lti-wrong-audience':
      return 'El ingreso fue emitido para otra herramienta (audiencia distinta).';
    case 'lti-token-expired':
      return 'El ingreso expiró. Vuelve a entrar desde tu curso.';
    case 'lti-token-not-yet-valid':
      return 'El ingreso tiene una fecha futura: revisa la hora del servidor de la plataforma.';
    case 'lti-unregistered-platform':
      return 'Esta plataforma (o este client_id) no está registrada en Asistencia SENCE.';
    case 'lti-inactive-platform':
      return 'Esta plataforma aún no está activada en Asistencia SENCE.';
    case 'lti-keyset-unavailable':
      return 'No pudimos verificar el ingreso con la plataforma del curso. Intenta nuevamente en unos minutos.';
    default:
      return 'No pudimos validar tu ingreso desde la plataforma del curso. Vuelve a entrar desde tu curso.';
  }
}
