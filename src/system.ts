/**
 * Composition root as a function: stores, ltijs, use cases, the web app, and in demo mode the LMS
 * simulator and the SENCE emulator beside it. main.ts and the integration tests both start the
 * whole system through here, so tests run the same wiring as production.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Config } from './config';
import type { Stores } from './store/ports';
import { openStores, type OpenedStores } from './store/open-stores';
import { sweepLtijsExpired } from './store/mongo/ltijs-expiry';
import { disconnectLtijsMongo } from './store/mongo/ltijs-connection';
import { SqliteLtijsPlugin } from './lti/sqlite-ltijs-plugin';
import { startSweeper, type Sweeper, type SweepTask } from './sweeps';
import { setupLti, type LtiRuntime } from './lti/lti-runtime';
import type { KeySetCache } from './lti/keyset-cache';
import { AttendanceService } from './application/attendance-service';
import { buildApp } from './web/build-app';
import type { RateLimits } from './web/rate-limit';
import { renderError } from './web/error-handler';
import { AppError } from './errors';
import { migrateLegacyOtecs } from './application/otec-tenancy';
import { consoleLogger, type Logger } from './web/logger';
import { toolUrls } from './lti/tool-urls';
import { seedDemo } from './demo-seed';
import { startLmsSimulator, type LmsSimulator, type LmsSimulatorOptions, type RegisteredPlatform } from './simulators/lms';
import { startSenceEmulator, type SenceEmulator } from './simulators/sence';
import { AlertDigestJob } from './application/alert-digest';
import { smtpMailer } from './mail/smtp-mailer';

export interface SystemOptions {
  logger?: Logger;
  /** Clock of the attendance rules (tests move it; LTI token checks always use the real clock). */
  now?: () => Date;
  keyCache?: KeySetCache;
  /** Overrides for the LMS simulator (tests add users, change keys…). */
  lms?: Partial<Omit<LmsSimulatorOptions, 'tool' | 'port'>>;
  /** How long the coordinator's report waits for the LMS roster (NRPS), in ms. */
  rosterTimeoutMs?: number;
  /** Seed the demo OTEC and course settings (default: true in demo mode). */
  seedDemo?: boolean;
  /** Overrides of the per-minute rate limits (src/web/rate-limit.ts), for tests. */
  rateLimits?: Partial<RateLimits>;
  /** Dynamic registration's clock (invitation expiry) and outbound timeout (default 5 s), for tests. */
  registration?: { now?: () => Date; outboundTimeoutMs?: number };
  /**
   * Demo mode: start the LMS simulator and the SENCE emulator here (default true). A worker of
   * `npm start`'s cluster passes false: the primary runs them once (src/cluster/primary.ts).
   */
  simulators?: boolean;
  /**
   * With the simulators elsewhere: the demo LMS to register and seed for, once (the primary hands it
   * to its first worker only, so workers never race to register it).
   */
  demoPlatform?: RegisteredPlatform;
}

export interface RunningSystem {
  url: string;
  config: Readonly<Config>;
  stores: Stores;
  storeKind: 'sqlite' | 'mongo';
  lti: LtiRuntime;
  attendance: AttendanceService;
  app: Express;
  server: Server;
  lms: LmsSimulator | null;
  sence: SenceEmulator | null;
  /** The daily alert digest (null when SMTP_URL is unset); it runs every 15 minutes on its own. */
  alertDigest: AlertDigestJob | null;
  sweeper: Sweeper;
  /** True once shutdown() started (GET /readyz answers 503 from then on). */
  readonly stopping: boolean;
  /** Closes everything at once (tests): open connections are cut. */
  close(): Promise<void>;
  /**
   * SIGTERM: stops accepting connections, lets requests in flight finish for up to `graceMs`
   * (then cuts what is left), stops the sweeps, closes ltijs and the stores.
   */
  shutdown(graceMs: number): Promise<{ forced: boolean }>;
}

/**
 * Which sockets have a request in flight, so a shutdown closes idle keep-alive sockets at once and
 * busy ones as soon as their response is sent, never one in the middle of a request.
 */
function trackConnections(server: Server): { drain(): void; settled(): Promise<void> } {
  const inFlight = new Map<Socket, number>();
  let draining = false;
  let active = 0;
  const waiters: Array<() => void> = [];
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    active += 1;
    if (draining) res.shouldKeepAlive = false;
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      active -= 1;
      if (draining && left === 0) socket.end();
      if (active === 0) for (const wake of waiters.splice(0)) wake();
    });
  });
  return {
    drain() {
      draining = true;
      for (const [socket, count] of inFlight) {
        if (count === 0) socket.end();
      }
    },
    /** Resolves when no request is in flight (the server's own close callback may come earlier). */
    settled() {
      if (active === 0) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push(resolve));
    },
  };
}

/**
 * What the periodic sweep removes: expired logins, ltijs's expired records (its SQLite tables
 * through a second plugin object over the same connection, or its MongoDB collections, which have
 * no TTL index on FerretDB), and sessions past their limit or attempt TTL (attendance.sweep, which
 * already takes the oldest active sessions a bounded number at a time).
 */
function sweepTasks(opened: OpenedStores, attendance: AttendanceService, auditRetentionDays: number): Record<string, SweepTask> {
  const tasks: Record<string, SweepTask> = {
    // Login states are written with the LTI runtime's clock (real time, as the LMS's id_token is
    // checked), so their expiry is judged by it too, not by the attendance clock (`at`): with that
    // clock moved ahead (tests of long sessions) a sweep deleted a login the learner was finishing.
    logins: (_at, batch) => opened.stores.logins.deleteExpired(new Date(), batch),
    // Platform Storage's pending launches, written with the same real clock as the logins.
    pendingLaunches: (_at, batch) => opened.stores.pendingLaunches.deleteExpired(new Date(), batch),
  };
  if (opened.sqlite) {
    const plugin = new SqliteLtijsPlugin(opened.sqlite);
    tasks.ltijs = async (_at, batch) => plugin.sweep(batch);
  }
  if (opened.mongo) {
    const conn = opened.mongo;
    // ltijs's lifetimes are real time (as its TTL indexes would apply them), not the attendance clock.
    tasks.ltijs = (_at, batch) => sweepLtijsExpired(conn, new Date(), batch);
  }
  // Audit retention (issue #19): entries last seen more than AUDIT_RETENTION_DAYS ago, in batches
  // (no TTL index: FerretDB 1.x has none, and the SQLite store needs the sweep anyway).
  tasks.audit = (at, batch) => opened.stores.audit.deleteOlderThan(new Date(at.getTime() - auditRetentionDays * 24 * 3600 * 1000), batch);
  tasks.attendance = async () => {
    await attendance.sweep();
    return 0; // one pass per sweep
  };
  return tasks;
}

/** How often the alert digest job looks for courses due (it sends at most once per course and day). */
export const ALERT_DIGEST_INTERVAL_MS = 15 * 60_000;

/**
 * Last resort (issue #7): a promise rejected inside a library (ltijs's Express 4 app does not await
 * its async middleware) is logged instead of stopping the process. The causes are fixed where they
 * start (src/web/request-shape.ts); this only keeps one missed case from taking the tool down.
 */
let rejectionLogger: Logger | null = null;
function logUnhandledRejections(logger: Logger): void {
  if (rejectionLogger === null) {
    process.on('unhandledRejection', (reason: unknown) => {
      rejectionLogger?.log('error', 'unhandled promise rejection', {
        error: reason instanceof Error ? reason.message : String(reason),
        stack: reason instanceof Error ? reason.stack : undefined,
      });
    });
  }
  rejectionLogger = logger;
}

/**
 * The tool's HTTP server with its own limits (issue #19 §5, docs/security.md): headers, the whole
 * request as received (a stalled or dribbling body is cut), idle keep-alive, and a connection cap
 * per process. Node checks the two request timeouts every `connectionsCheckingInterval` (30 s by
 * default, which would let a 20 s timeout run to 50 s): here a quarter of the shorter one, at most 5 s.
 */
export function listenWithLimits(app: Express, config: Readonly<Config>): Promise<Server> {
  const { headersTimeoutMs, requestTimeoutMs, keepAliveTimeoutMs, maxConnections } = config.http;
  const server = createServer(
    { headersTimeout: headersTimeoutMs, requestTimeout: requestTimeoutMs, connectionsCheckingInterval: Math.min(5000, Math.max(250, Math.floor(headersTimeoutMs / 4))) },
    app,
  );
  server.keepAliveTimeout = keepAliveTimeoutMs;
  server.maxConnections = maxConnections;
  return new Promise<Server>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** "port 3000 is in use (PORT)" instead of a TypeError when a port is taken. */
export function portInUse(err: unknown, port: number, variable: string): unknown {
  const code = (err as { code?: string } | null)?.code;
  if (code === 'EADDRINUSE') {
    return new AppError('startup-failure', 500, `el puerto ${port} ya está en uso (${variable}): cierre el otro proceso o elija otro puerto con ${variable}.`, { cause: err });
  }
  if (code === 'EACCES') {
    return new AppError('startup-failure', 500, `no hay permiso para escuchar en el puerto ${port} (${variable}).`, { cause: err });
  }
  return err;
}

/**
 * The demo's LMS simulator and SENCE emulator, on their configured ports (a busy port is named like
 * the tool's own). Nothing stays half-started: a simulator that did start is closed on failure.
 * startSystem runs them beside the tool; `npm start`'s cluster primary runs them once for all workers.
 */
export async function startDemoSimulators(
  config: Readonly<Config>,
  lmsOptions: Partial<Omit<LmsSimulatorOptions, 'tool' | 'port'>> = {},
): Promise<{ lms: LmsSimulator; sence: SenceEmulator }> {
  const urls = toolUrls(config.publicUrl);
  const lms = await startLmsSimulator({
    ...lmsOptions,
    port: config.lmsSimulatorPort,
    ...(config.lmsSimulatorPublicUrl ? { publicUrl: config.lmsSimulatorPublicUrl } : { publicHost: '127.0.0.1' }),
    tool: { loginUrl: urls.login, launchUrl: urls.launch, jwksUrl: urls.keys, deepLinkUrl: urls.launch },
  }).catch((err: unknown) => {
    throw portInUse(err, config.lmsSimulatorPort, 'LMS_SIMULATOR_PORT');
  });
  try {
    const sence = await startSenceEmulator({ port: config.senceEmulatorPort }).catch((err: unknown) => {
      throw portInUse(err, config.senceEmulatorPort, 'SENCE_EMULATOR_PORT');
    });
    return { lms, sence };
  } catch (err) {
    await lms.close().catch(() => undefined);
    throw err;
  }
}

export async function startSystem(config: Readonly<Config>, options: SystemOptions = {}): Promise<RunningSystem> {
  const logger = options.logger ?? consoleLogger;
  logUnhandledRejections(logger);
  const now = options.now ?? (() => new Date());
  const opened = await openStores({
    mongodbUri: config.mongodbUri,
    sqliteFile: config.sqliteFile,
    walCheckpointer: { onError: (error) => logger.log('error', 'the SQLite WAL checkpointer stopped; SQLite checkpoints on its own again', { cause: error.message }) },
  });
  const { stores } = opened;
  // OTECs stored before issue #7 are linked to the platforms of the courses that use them.
  for (const m of await migrateLegacyOtecs(stores, now())) {
    logger.log('info', 'otec linked to the platforms of its courses (migration)', { rut: m.otec.rut, platforms: m.platforms.map((p) => `${p.issuer} ${p.clientId}`) });
  }
  const lti = await setupLti({
    config,
    logins: stores.logins,
    sqlite: opened.sqlite,
    renderError: (req, res, err) => renderError(logger, req, res, err),
    keyCache: options.keyCache,
    registration: { invites: stores.invites, audit: stores.audit, ...options.registration },
  }).catch(async (err: unknown) => {
    await stores.close().catch(() => undefined); // the stores (and a WAL checkpointer) do not outlive a failed start
    throw err;
  });
  const attendance = new AttendanceService(stores, config, now);

  let lms: LmsSimulator | null = null;
  let sence: SenceEmulator | null = null;
  /**
   * Closes what was started — the simulators, ltijs and its MongoDB connection, the stores — in that
   * order. `quietly`: past a failing step (a start that failed reports its own error instead).
   */
  const closeStarted = async (quietly = false): Promise<void> => {
    const steps: Array<() => Promise<unknown> | undefined> = [
      () => lms?.close(),
      () => sence?.close(),
      () => lti.close(),
      () => (opened.kind === 'mongo' ? disconnectLtijsMongo() : undefined),
      () => stores.close(),
    ];
    for (const step of steps) {
      if (quietly) await Promise.resolve().then(step).catch(() => undefined);
      else await step();
    }
  };
  // The demo LMS lives on another site than the tool (127.0.0.1 vs localhost), as a real LMS does:
  // what a newcomer sees is what browsers do to a cross-site iframe.
  const demoLinks = config.demo
    ? { lmsUrl: config.lmsSimulatorPublicUrl ?? `http://127.0.0.1:${config.lmsSimulatorPort}`, senceUrl: `http://localhost:${config.senceEmulatorPort}` }
    : null;
  let stopping = false;
  const app = buildApp({
    config, stores, lti, attendance, logger, demo: demoLinks, now,
    rosterTimeoutMs: options.rosterTimeoutMs, rateLimits: options.rateLimits, storeKind: opened.kind, isStopping: () => stopping,
  });
  let server: Server;
  try {
    server = await listenWithLimits(app, config);
  } catch (err) {
    await closeStarted(true);
    throw portInUse(err, config.port, 'PORT');
  }
  const connections = trackConnections(server);
  const port = (server.address() as AddressInfo).port;
  const url = `http://localhost:${port}`;

  if (config.demo && options.simulators === false) {
    if (options.demoPlatform) {
      try {
        await lti.registerPlatform(options.demoPlatform);
        const demoLms = { issuer: options.demoPlatform.url, clientId: options.demoPlatform.clientId } as LmsSimulator;
        if (options.seedDemo ?? true) await seedDemo({ stores, config, lms: demoLms, now: now() });
      } catch (err) {
        server.closeAllConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await closeStarted(true);
        throw err;
      }
    }
  } else if (config.demo) {
    try {
      ({ lms, sence } = await startDemoSimulators(config, options.lms));
      await lti.registerPlatform(lms.platform);
      if (options.seedDemo ?? true) await seedDemo({ stores, config, lms, now: now() });
    } catch (err) {
      // Nothing stays half-started: the tool's port, the simulator that did start and the stores
      // are closed before the error is reported.
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeStarted(true);
      throw err;
    }
  }

  const alertDigest = config.alertMail
    ? new AlertDigestJob(stores, smtpMailer(config.alertMail.smtpUrl), { from: config.alertMail.from, digestHour: config.alertMail.digestHour }, logger, now)
    : null;
  const digestTimer = alertDigest
    ? setInterval(() => {
        alertDigest.runOnce().catch((err: unknown) => logger.log('error', 'alert digest run failed', { error: (err as Error).message }));
      }, ALERT_DIGEST_INTERVAL_MS)
    : null;
  digestTimer?.unref();

  const sweeper = startSweeper({ tasks: sweepTasks(opened, attendance, config.auditRetentionDays), now, logger });

  const closeRest = async (): Promise<void> => {
    if (digestTimer) clearInterval(digestTimer);
    await sweeper.stop();
    await closeStarted();
  };

  return {
    url,
    config,
    stores,
    storeKind: opened.kind,
    sweeper,
    lti,
    attendance,
    app,
    server,
    lms,
    sence,
    alertDigest,
    get stopping() {
      return stopping;
    },
    async close() {
      stopping = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await closeRest();
    },
    async shutdown(graceMs) {
      stopping = true;
      let forced = false;
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      // Keep-alive sockets with no request in flight close now, the others right after their
      // response (counted per socket by trackConnections).
      connections.drain();
      const timer = setTimeout(() => {
        forced = true;
        server.closeAllConnections();
      }, graceMs);
      await closed;
      await connections.settled(); // the stores stay open until every response has been sent
      clearTimeout(timer);
      await closeRest();
      return { forced };
    },
  };
}
