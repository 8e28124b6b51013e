/**
 * The Express 5 host app. Order matters: ltijs is mounted at /lti before any body parser
 * (REFERENCE §2), host routes for /lti/* come after it (they then see res.locals.token).
 */
import path from 'node:path';
import express, { type Express } from 'express';
import type { Config } from '../config';
import type { Stores } from '../store/ports';
import type { LtiRuntime } from '../lti/lti-runtime';
import type { AttendanceService } from '../application/attendance-service';
import { canvasDeveloperKey, toolUrls } from '../lti/tool-urls';
import { formatClock } from '../domain/time-format';
import { publicDir, viewsDir } from '../paths';
import { securityHeaders, originOf, setLtiHelmetHeaders } from './security-headers';
import { errorMiddleware, notFoundMiddleware } from './error-handler';
import type { Logger } from './logger';
import { learnerRoutes } from './routes/learner-routes';
import { bindLtikToCourse, launchIdentity, navigationPostAsGet } from './launch-context';
import { exposeStaffSection } from './staff-nav';
import { refuseLearner } from './staff-guard';
import type { UploadGate } from './upload-parser';
import { staffRoutes } from './routes/staff-routes';
import { deepLinkingRoutes } from './routes/deep-linking-routes';
import { senceCallbackRoutes } from './routes/sence-callback-routes';
import { coordinatorRoutes } from './routes/coordinator-routes';
import { staffHomeRoutes } from './routes/staff-home-routes';
import { RosterService } from '../application/roster-service';
import { AlertService } from '../application/alert-service';
import { NRPS_MAX_BYTES, nrpsRosterSource } from '../lti/nrps-roster-source';
import { ltiRequestShape, requestHygiene } from './request-shape';
import { ltikPlatformOriginCheck, noStore, originCheck } from './origin-check';
import { DEFAULT_RATE_LIMITS, rateLimits, type RateLimits } from './rate-limit';
import { canonicalCallbackUrl } from './callback-path';
import { OPS_PATHS, opsRoutes } from './routes/ops-routes';
import { mountFaultInjection } from './routes/fault-injection-routes';
import { requestContext } from './logger';
import { ltijsMongoState } from '../store/mongo/ltijs-connection';
import { hasLtikSession } from '../lti/lti-runtime';
import { ejsViewEngine } from './view-engine';
import { pathIs, series } from './series';

export interface AppDeps {
  config: Readonly<Config>;
  stores: Stores;
  lti: LtiRuntime;
  attendance: AttendanceService;
  logger: Logger;
  demo?: { lmsUrl: string; senceUrl: string } | null;
  now?: () => Date;
  /** The LMS roster (NRPS) must arrive within this (default ROSTER_TIMEOUT_MS). */
  rosterTimeoutMs?: number;
  /** Overrides of the per-minute rate limits (tests). */
  rateLimits?: Partial<RateLimits>;
  /** Which store is in use (GET /readyz reports it; on MongoDB it also checks ltijs's connection). */
  storeKind?: 'sqlite' | 'mongo';
  /** True once SIGTERM started the shutdown (GET /readyz then answers 503). */
  isStopping?: () => boolean;
}

/** How long the coordinator's report waits for the LMS's roster before showing the tool's own records. */
export const ROSTER_TIMEOUT_MS = 8000;

export function buildApp(deps: AppDeps): Express {
  const { config, stores, lti, attendance, logger } = deps;
  const app = express();
  app.disable('x-powered-by');
  // No ETag on the tool's pages (their answers are no-store; hashing every panel cost CPU). Static
  // files keep theirs (express.static sets its own).
  app.set('etag', false);
  app.set('trust proxy', config.trustProxy);
  app.set('view engine', 'ejs');
  app.set('views', viewsDir);
  // Compiled once per view when 'view cache' is on; partials included by absolute name (view-engine.ts).
  app.engine('ejs', ejsViewEngine({ root: viewsDir, cached: () => app.enabled('view cache') }));
  if (config.nodeEnv === 'production') app.set('view cache', true);
  app.locals.clock = formatClock;

  app.use(
    securityHeaders({
      platforms: lti.platformOrigins,
      sence: [config.senceBaseUrls.test, config.senceBaseUrls.production].map(originOf).filter((o): o is string => o !== null),
      extraFrameAncestors: config.frameAncestors,
    }),
  );
  // SENCE callback paths in one canonical form before the limits, the routes and the log read them.
  app.use(canonicalCallbackUrl);
  const limits = rateLimits({ ...DEFAULT_RATE_LIMITS, ...deps.rateLimits }, logger);
  app.use(['/cb', '/sence/window'], limits.callbacks);
  app.use('/lti/login', limits.login);
  app.use('/lti/register', limits.registration);
  app.use(requestHygiene());
  // Before the static files: they are logged too, at debug (logger.ts, requestLogLevel).
  app.use(requestContext(logger));
  app.use('/public', express.static(publicDir, { maxAge: config.nodeEnv === 'production' ? '1h' : 0 }));
  // Browsers ask for it on every page opened outside the LMS frame (issue #20: a 404 warning each time).
  app.get('/favicon.ico', (_req, res, next) => {
    res.sendFile(path.join(publicDir, 'favicon.ico'), { maxAge: '1d' }, (err) => (err ? next(err) : undefined));
  });
  // Entered only for its own paths (a router mounted for every path cost every panel view its walk).
  app.get(
    OPS_PATHS,
    opsRoutes({
      stores,
      storeKind: deps.storeKind ?? 'sqlite',
      ltijsConnection: () => (deps.storeKind === 'mongo' ? ltijsMongoState() : null),
      isStopping: deps.isStopping,
    }),
  );
  if (config.faultInjection === 'crash') mountFaultInjection(app);
  app.get('/', (_req, res) => {
    res.render('home', { demo: deps.demo ?? null });
  });
  app.get('/setup', (_req, res) => {
    res.render('setup', { title: 'Registrar Asistencia SENCE en su plataforma', urls: toolUrls(config.publicUrl) });
  });

  // LTI: parameter shapes checked before ltijs sees anything (issue #7), then the runtime's own
  // steps (the login, the launch, the ltik: lti.steps)…
  app.use(['/sence', '/cb'], noStore);
  const sameSiteOnly = originCheck({ publicUrl: config.publicUrl, platforms: lti.platformOrigins });
  app.use('/sence', sameSiteOnly);
  // …then the host routes that need a validated launch. A request whose ltik the runtime already
  // resolved is served by them directly; everything else (login, launch, keys, registration, a
  // missing or bad ltik) passes through ltijs first, as before.
  const ltiHost = express.Router();
  // ltijs's helmet adds COEP require-corp and COOP same-origin: they isolate the panel's SENCE
  // window from the LMS frame and break popups and clicks inside LMS iframes. Our CSP covers framing.
  ltiHost.use(
    series(
      (_req, res, next) => {
        res.removeHeader('Cross-Origin-Embedder-Policy');
        res.removeHeader('Cross-Origin-Opener-Policy');
        next();
      },
      (req, res, next) => {
        if ((req.method === 'GET' || req.method === 'HEAD') && pathIs(req, '/canvas.json')) {
          res.json(canvasDeveloperKey(config.publicUrl));
          return;
        }
        next();
      },
      // The ltik is resolved now: a state-changing request comes from its own platform or the tool.
      ltikPlatformOriginCheck({ publicUrl: config.publicUrl, originsOf: lti.originsOfPlatform }),
      bindLtikToCourse,
      navigationPostAsGet,
      exposeStaffSection,
    ),
  );
  // The coordinator's side (issue #9): staff home (before the learner's panel), report, learner
  // pages, exports, actions (after the existing staff routes).
  const now = deps.now ?? (() => new Date());
  const rosterTimeoutMs = deps.rosterTimeoutMs ?? ROSTER_TIMEOUT_MS;
  const roster = new RosterService(stores, nrpsRosterSource(lti.provider, { timeoutMs: rosterTimeoutMs }), { timeoutSeconds: Math.ceil(rosterTimeoutMs / 1000), maxRosterBytes: NRPS_MAX_BYTES }, now);
  const coordinator = { stores, roster, alerts: new AlertService(stores), logger, now };
  ltiHost.use(staffHomeRoutes(coordinator));
  ltiHost.use(learnerRoutes({ stores, attendance, logger, config }));
  ltiHost.use(staffRoutes({ stores, config, now: deps.now }));
  ltiHost.use(coordinatorRoutes(coordinator));
  ltiHost.use(deepLinkingRoutes({ provider: lti.provider, launchUrl: toolUrls(config.publicUrl).launch }));

  // The upload is authenticated before its file is read (issue #19 §5): the Origin rule on its
  // headers, then the ltik field the page sends before the file — a staff member's, from its platform.
  const platformOrigin = ltikPlatformOriginCheck({ publicUrl: config.publicUrl, originsOf: lti.originsOfPlatform });
  const uploadGate: UploadGate = {
    checkHeaders: sameSiteOnly,
    async checkLtik(req, res, ltik) {
      await lti.authenticateLtik(ltik, res);
      await new Promise<void>((resolve, reject) => platformOrigin(req, res, (err?: unknown) => (err ? reject(err) : resolve())));
      const identity = launchIdentity(res);
      if (!identity.isStaff) await refuseLearner(stores, now(), req, res, identity);
    },
  };
  // Everything under /lti up to the host routes in ONE mounted router: each mount strips and
  // restores the /lti prefix, and every change of req.url re-parses it (a measurable share of a
  // panel view with five mounts, issue #8).
  // The steps before the host routes are one series (web/series.ts), not one layer each.
  const ltiFront = express.Router();
  ltiFront.use(
    series(noStore, ltiRequestShape({ uploadGate }), sameSiteOnly, lti.steps, (_req, res, next) => {
      // Not resolved by the runtime: leave this router, on to ltijs (below).
      if (!hasLtikSession(res)) return next('router');
      setLtiHelmetHeaders(res);
      next();
    }),
  );
  ltiFront.use(ltiHost);
  // A resolved request no host route answers is a 404 here (ltijs has no page of its own for it).
  ltiFront.use(notFoundMiddleware);
  app.use('/lti', ltiFront);
  app.use('/lti', lti.app);
  app.use('/lti', ltiHost);

  // SENCE callbacks and the SENCE window's buttons: outside /lti, no ltik, no cookie.
  app.use(senceCallbackRoutes({ attendance, now: deps.now }));

  app.use(notFoundMiddleware);
  app.use(errorMiddleware(logger));
  return app;
}
