/**
 * Composition root as a function: stores, ltijs, use cases, the web app, and in demo mode the LMS
 * simulator and the SENCE emulator beside it. main.ts and the integration tests both start the
 * whole system through here, so tests run the same wiring as production.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Express } from 'express';
import type { Config } from './config';
import type { Stores } from './store/ports';
import { openStores } from './store/open-stores';
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
import { startLmsSimulator, type LmsSimulator, type LmsSimulatorOptions } from './simulators/lms';
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
  close(): Promise<void>;
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

/** "port 3000 is in use (PORT)" instead of a TypeError when a port is taken. */
export function portInUse(err: unknown, port: number, variable: string): unknown {
  const code = (err as { code?: string } | null)?.code;
  if (code === 'EADDRINUSE') {
    return new AppError('startup-failure', 500, `el puerto ${port} ya está en uso (${variable}): cierra el otro proceso o elige otro puerto con ${variable}.`, { cause: err });
  }
  if (code === 'EACCES') {
    return new AppError('startup-failure', 500, `no hay permiso para escuchar en el puerto ${port} (${variable}).`, { cause: err });
  }
  return err;
}

export async function startSystem(config: Readonly<Config>, options: SystemOptions = {}): Promise<RunningSystem> {
  const logger = options.logger ?? consoleLogger;
  logUnhandledRejections(logger);
  const now = options.now ?? (() => new Date());
  const opened = await openStores({ mongodbUri: config.mongodbUri, sqliteFile: config.sqliteFile });
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
    registration: { invites: stores.invites, audit: stores.audit },
  });
  const attendance = new AttendanceService(stores, config, now);

  let lms: LmsSimulator | null = null;
  let sence: SenceEmulator | null = null;
  // The demo LMS lives on another site than the tool (127.0.0.1 vs localhost), as a real LMS does:
  // what a newcomer sees is what browsers do to a cross-site iframe.
  const demoLinks = config.demo
    ? { lmsUrl: config.lmsSimulatorPublicUrl ?? `http://127.0.0.1:${config.lmsSimulatorPort}`, senceUrl: `http://localhost:${config.senceEmulatorPort}` }
    : null;
  const app = buildApp({ config, stores, lti, attendance, logger, demo: demoLinks, now, rosterTimeoutMs: options.rosterTimeoutMs, rateLimits: options.rateLimits });
  let server: Server;
  try {
    server = await new Promise<Server>((resolve, reject) => {
      // Express 5 calls this callback with the error too (busy port): the server then has no address.
      const s = app.listen(config.port, config.host, (err?: Error) => (err ? reject(err) : resolve(s)));
    });
  } catch (err) {
    await lti.close().catch(() => undefined);
    await stores.close().catch(() => undefined);
    throw portInUse(err, config.port, 'PORT');
  }
  const port = (server.address() as AddressInfo).port;
  const url = `http://localhost:${port}`;

  if (config.demo) {
    const urls = toolUrls(config.publicUrl);
    lms = await startLmsSimulator({
      ...options.lms,
      port: config.lmsSimulatorPort,
      ...(config.lmsSimulatorPublicUrl ? { publicUrl: config.lmsSimulatorPublicUrl } : { publicHost: '127.0.0.1' }),
      tool: { loginUrl: urls.login, launchUrl: urls.launch, jwksUrl: urls.keys, deepLinkUrl: urls.launch },
    }).catch((err: unknown) => {
      throw portInUse(err, config.lmsSimulatorPort, 'LMS_SIMULATOR_PORT');
    });
    sence = await startSenceEmulator({ port: config.senceEmulatorPort }).catch((err: unknown) => {
      throw portInUse(err, config.senceEmulatorPort, 'SENCE_EMULATOR_PORT');
    });
    await lti.registerPlatform(lms.platform);
    if (options.seedDemo ?? true) await seedDemo({ stores, config, lms, now: now() });
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

  const sweepTimer = setInterval(() => {
    lti.sweep();
    stores.logins.deleteExpired(now()).catch(() => undefined);
    attendance.sweep().catch((err: unknown) => logger.log('error', 'sweep failed', { error: (err as Error).message }));
  }, 60_000);
  sweepTimer.unref();

  return {
    url,
    config,
    stores,
    storeKind: opened.kind,
    lti,
    attendance,
    app,
    server,
    lms,
    sence,
    alertDigest,
    async close() {
      clearInterval(sweepTimer);
      if (digestTimer) clearInterval(digestTimer);
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await lms?.close();
      await sence?.close();
      await lti.close();
      await stores.close();
    },
  };
}
