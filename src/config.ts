/**
 * Environment variables -> one typed, frozen Config, validated at start. Errors name the variable.
 * Development defaults (keys, demo mode) are announced loudly and refused when NODE_ENV=production.
 */
import { AppError } from './errors';
import { CALLBACK_PATH_MAX_LENGTH, LIMIT_MAX, LIMIT_MIN, LTIK_MARGIN_MINUTES, SENCE_URL_MAX_LENGTH, WARNING_MAX, WARNING_MIN } from './domain/course-settings';

export type NodeEnv = 'production' | 'development' | 'test';

export interface Config {
  nodeEnv: NodeEnv;
  /** Port the tool listens on (PORT, default 3000; 0 = any free port). */
  port: number;
  /**
   * Interface to bind (HOST). Default 127.0.0.1 while a demo or a development key is in use (issue
   * #20: those keys are public), else 0.0.0.0 (always in production: a container is reached from outside).
   */
  host: string;
  /** Public base URL of the tool, no trailing slash (PUBLIC_URL, default http://localhost:PORT). */
  publicUrl: string;
  /** True when publicUrl is https: cookies become SameSite=None; Secure. */
  secureCookies: boolean;
  /** ltijs encryption key (LTI_KEY). */
  ltiKey: string;
  /** 32-byte key for AES-256-GCM of OTEC tokens and callback-token MACs (TOKEN_ENCRYPTION_KEY, 64 hex chars). */
  tokenKey: Buffer;
  /** MONGODB_URI: when set, MongoDB is the store (ltijs too); else SQLite. */
  mongodbUri: string | null;
  /** SQLITE_FILE (default ./data/asistencia.sqlite). */
  sqliteFile: string;
  /** DEMO: run the LMS simulator and SENCE emulator beside the tool (default on, off in production). */
  demo: boolean;
  lmsSimulatorPort: number;
  /**
   * LMS_SIMULATOR_PUBLIC_URL: where browsers reach the demo LMS; null = http://127.0.0.1:<its port>,
   * a different site than the tool's http://localhost:PORT, as a real LMS is.
   */
  lmsSimulatorPublicUrl: string | null;
  senceEmulatorPort: number;
  /** Base URLs of SENCE's RCE (…/Registro), per environment. */
  senceBaseUrls: { test: string; production: string };
  /** Minutes a start/close attempt waits for SENCE's callback before it is abandoned. */
  attemptTtlMinutes: number;
  defaultSessionLimitMinutes: number;
  defaultWarningMinutes: number;
  /** Maximum id_token age in seconds (ltijs tokenMaxAge). */
  tokenMaxAgeSeconds: number;
  /** LTIK_MAX_AGE_MINUTES: how long the ltik of a launch authenticates (outlives a 3-hour SENCE session). */
  ltikMaxAgeMinutes: number;
  /** Extra origins allowed to frame the tool (FRAME_ANCESTORS, space separated). */
  frameAncestors: string[];
  /** TRUST_PROXY: number of proxy hops to trust for req.ip / req.secure. */
  trustProxy: number;
  /**
   * REGISTRATION_ALLOW_PRIVATE: may dynamic registration reach private, loopback, link-local… addresses
   * (issue #19 §3)? Default false in production, true otherwise (the simulators live on 127.0.0.1).
   */
  registrationAllowPrivate: boolean;
  /** Daily alert digest by e-mail (SMTP_URL, ALERT_FROM, ALERT_DIGEST_HOUR); null = off (SMTP_URL unset). */
  alertMail: { smtpUrl: string; from: string; digestHour: number } | null;
  /** AUDIT_RETENTION_DAYS: audit entries last seen longer ago are deleted by the periodic sweep (issue #19). */
  auditRetentionDays: number;
  /**
   * The HTTP server's own limits (issue #19 §5; docs/security.md): HTTP_HEADERS_TIMEOUT_SECONDS,
   * HTTP_REQUEST_TIMEOUT_SECONDS (the whole request as received, body included: a dribbling upload
   * is cut), HTTP_KEEP_ALIVE_TIMEOUT_SECONDS (idle keep-alive; longer than the proxy's), and
   * HTTP_MAX_CONNECTIONS (per process: each worker of `npm start` has its own).
   */
  http: { headersTimeoutMs: number; requestTimeoutMs: number; keepAliveTimeoutMs: number; maxConnections: number };
  /** Which development defaults are in use (for the start-up warning). */
  devDefaults: string[];
  /**
   * FAULT_INJECTION=crash (tests only, refused in production): POST /fault-injection/crash throws an
   * uncaught exception in the worker that serves it (the supervision test, issue #19 §1).
   */
  faultInjection: 'crash' | null;
  /** LOG_FORMAT (json | text; text in development, json otherwise) and LOG_LEVEL (default info). */
  log: LogSettings;
}

export interface LogSettings {
  format: 'json' | 'text';
  level: 'debug' | 'info' | 'warn' | 'error';
}

export const OFFICIAL_SENCE_BASE_URLS = Object.freeze({
  test: 'https://sistemas.sence.cl/rcetest/Registro',
  production: 'https://sistemas.sence.cl/rce/Registro',
});

const DEV_LTI_KEY = 'dev-only-lti-key-change-me';
const DEV_TOKEN_KEY = '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff';

type Env = Record<string, string | undefined>;

function fail(variable: string, problem: string): never {
  throw new AppError('config-invalid', 500, `${variable} ${problem}`, { details: { variable } });
}

function integer(env: Env, name: string, fallback: number, min: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  if (!/^\d+$/.test(raw.trim())) fail(name, `must be a whole number, got "${raw}"`);
  const value = Number(raw.trim());
  if (value < min || value > max) fail(name, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function url(env: Env, name: string, fallback: string): string {
  const raw = (env[name] ?? '').trim() || fallback;
  let parsed: URL;
  try {
    parsed = new URL(raw);
  } catch {
    return fail(name, `must be an absolute http(s) URL, got "${raw}"`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') fail(name, `must use http or https, got "${raw}"`);
  return raw.replace(/\/+$/, '');
}

function bool(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name]?.trim().toLowerCase();
  if (raw === undefined || raw === '') return fallback;
  if (['1', 'true', 'yes', 'on'].includes(raw)) return true;
  if (['0', 'false', 'no', 'off'].includes(raw)) return false;
  return fail(name, `must be true or false, got "${env[name]}"`);
}

export function loadConfig(env: Env = process.env): Readonly<Config> {
  const nodeEnvRaw = (env.NODE_ENV ?? 'development').trim();
  if (!['production', 'development', 'test'].includes(nodeEnvRaw)) {
    fail('NODE_ENV', `must be production, development or test, got "${nodeEnvRaw}"`);
  }
  const nodeEnv = nodeEnvRaw as NodeEnv;
  const production = nodeEnv === 'production';
  const devDefaults: string[] = [];

  const port = integer(env, 'PORT', 3000, 0, 65535);
  const publicUrl = url(env, 'PUBLIC_URL', `http://localhost:${port}`);
  // Callback URLs are PUBLIC_URL + '/cb/ok/' + 12-char attempt id + '.' + 22-char token.
  const maxPublicUrl = SENCE_URL_MAX_LENGTH - CALLBACK_PATH_MAX_LENGTH;
  if (publicUrl.length > maxPublicUrl) {
    fail('PUBLIC_URL', `must be at most ${maxPublicUrl} characters (got ${publicUrl.length}): SENCE limits UrlRetoma/UrlError to ${SENCE_URL_MAX_LENGTH} characters and the callback path adds ${CALLBACK_PATH_MAX_LENGTH}`);
  }

  // Production must be HTTPS (cookies SameSite=None; Secure, tokens in URLs): only a local address
  // may stay on http, with the start-up warning (a proxy on the same machine, a smoke test).
  if (production && !publicUrl.startsWith('https:')) {
    const host = new URL(publicUrl).hostname;
    if (!['localhost', '127.0.0.1', '[::1]', '::1'].includes(host)) {
      fail('PUBLIC_URL', `must use https when NODE_ENV=production (got "${publicUrl}"); only http://localhost is accepted, with a warning`);
    }
    devDefaults.push('PUBLIC_URL sin HTTPS (solo localhost)');
  }

  let ltiKey = (env.LTI_KEY ?? '').trim();
  if (!ltiKey) {
    if (production) fail('LTI_KEY', 'is required in production (a long random secret)');
    ltiKey = DEV_LTI_KEY;
    devDefaults.push('LTI_KEY');
  } else if (ltiKey.length < 16) fail('LTI_KEY', 'must be at least 16 characters');

  let tokenKeyHex = (env.TOKEN_ENCRYPTION_KEY ?? '').trim();
  if (!tokenKeyHex) {
    if (production) fail('TOKEN_ENCRYPTION_KEY', 'is required in production (64 hex characters: openssl rand -hex 32)');
    tokenKeyHex = DEV_TOKEN_KEY;
    devDefaults.push('TOKEN_ENCRYPTION_KEY');
  } else if (!/^[0-9a-fA-F]{64}$/.test(tokenKeyHex)) {
    fail('TOKEN_ENCRYPTION_KEY', 'must be 64 hex characters (32 bytes): openssl rand -hex 32');
  }
  if (production && (ltiKey === DEV_LTI_KEY || tokenKeyHex === DEV_TOKEN_KEY)) {
    fail(ltiKey === DEV_LTI_KEY ? 'LTI_KEY' : 'TOKEN_ENCRYPTION_KEY', 'must not be the development default in production');
  }

  const mongodbUri = (env.MONGODB_URI ?? '').trim() || null;
  if (mongodbUri && !/^mongodb(\+srv)?:\/\//.test(mongodbUri)) {
    fail('MONGODB_URI', 'must start with mongodb:// or mongodb+srv://');
  }
  const sqliteFile = (env.SQLITE_FILE ?? '').trim() || './data/asistencia.sqlite';

  const demo = bool(env, 'DEMO', !production);
  if (demo && production) fail('DEMO', 'cannot be on when NODE_ENV=production (the simulators are for demos and tests)');
  if (demo) devDefaults.push('DEMO');

  // A demo or a development key (public, in this repository) listens on this machine only (issue #20).
  const devKeys = devDefaults.includes('LTI_KEY') || devDefaults.includes('TOKEN_ENCRYPTION_KEY');
  const host = (env.HOST ?? '').trim() || (!production && (demo || devKeys) ? '127.0.0.1' : '0.0.0.0');

  const lmsSimulatorPort = integer(env, 'LMS_SIMULATOR_PORT', 3001, 0, 65535);
  const senceEmulatorPort = integer(env, 'SENCE_EMULATOR_PORT', 3002, 0, 65535);
  const lmsSimulatorPublicUrl = (env.LMS_SIMULATOR_PUBLIC_URL ?? '').trim() ? url(env, 'LMS_SIMULATOR_PUBLIC_URL', '') : null;

  // In demo mode both environments go to the built-in emulator: a demo never reaches SENCE.
  const emulator = `http://localhost:${senceEmulatorPort}`;
  const senceBaseUrls = {
    test: url(env, 'SENCE_RCE_TEST_URL', demo ? `${emulator}/rcetest/Registro` : OFFICIAL_SENCE_BASE_URLS.test),
    production: url(env, 'SENCE_RCE_PRODUCTION_URL', demo ? `${emulator}/rce/Registro` : OFFICIAL_SENCE_BASE_URLS.production),
  };

  // The defaults a new course's form shows: within the bounds the form itself accepts.
  const defaultSessionLimitMinutes = integer(env, 'SESSION_LIMIT_MINUTES', 180, LIMIT_MIN, LIMIT_MAX);
  const defaultWarningMinutes = integer(env, 'SESSION_WARNING_MINUTES', 10, WARNING_MIN, WARNING_MAX);
  if (defaultWarningMinutes >= defaultSessionLimitMinutes) {
    fail('SESSION_WARNING_MINUTES', `must be less than SESSION_LIMIT_MINUTES (${defaultSessionLimitMinutes})`);
  }
  // A learner keeps the panel open through a whole SENCE session and closes it at the end: the
  // launch's ltik must still work then, with at least an hour of margin.
  const ltikMaxAgeMinutes = integer(env, 'LTIK_MAX_AGE_MINUTES', 360, 60, 24 * 60);
  if (ltikMaxAgeMinutes < defaultSessionLimitMinutes + LTIK_MARGIN_MINUTES) {
    fail('LTIK_MAX_AGE_MINUTES', `must be at least SESSION_LIMIT_MINUTES + ${LTIK_MARGIN_MINUTES} (${defaultSessionLimitMinutes + LTIK_MARGIN_MINUTES}): the panel's session has to outlive a SENCE session`);
  }
  const smtpUrl = (env.SMTP_URL ?? '').trim() || null;
  let alertMail: Config['alertMail'] = null;
  if (smtpUrl) {
    if (!/^smtps?:\/\/[^\s]+$/.test(smtpUrl)) fail('SMTP_URL', 'must be an smtp:// or smtps:// URL (e.g. smtps://user:password@smtp.example.cl:465)');
    const from = (env.ALERT_FROM ?? '').trim();
    if (!from) fail('ALERT_FROM', 'is required when SMTP_URL is set (the sender of the alert e-mails, e.g. "Asistencia SENCE <alertas@otec.cl>")');
    if (!/^([^<>\r\n]*<)?[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+>?$/.test(from)) fail('ALERT_FROM', `must be an e-mail address, optionally with a name ("Asistencia SENCE <alertas@otec.cl>"), got "${from}"`);
    alertMail = Object.freeze({ smtpUrl, from, digestHour: integer(env, 'ALERT_DIGEST_HOUR', 8, 0, 23) });
  }

  const headersTimeoutSeconds = integer(env, 'HTTP_HEADERS_TIMEOUT_SECONDS', 20, 1, 300);
  const requestTimeoutSeconds = integer(env, 'HTTP_REQUEST_TIMEOUT_SECONDS', 60, 1, 3600);
  if (headersTimeoutSeconds > requestTimeoutSeconds) {
    fail('HTTP_HEADERS_TIMEOUT_SECONDS', `must not be longer than HTTP_REQUEST_TIMEOUT_SECONDS (${requestTimeoutSeconds}): the whole request includes its headers`);
  }
  const http = Object.freeze({
    headersTimeoutMs: headersTimeoutSeconds * 1000,
    requestTimeoutMs: requestTimeoutSeconds * 1000,
    keepAliveTimeoutMs: integer(env, 'HTTP_KEEP_ALIVE_TIMEOUT_SECONDS', 130, 1, 3600) * 1000,
    maxConnections: integer(env, 'HTTP_MAX_CONNECTIONS', 1000, 10, 100_000),
  });

  const faultRaw = (env.FAULT_INJECTION ?? '').trim();
  if (faultRaw !== '' && faultRaw !== 'crash') fail('FAULT_INJECTION', `must be empty or "crash", got "${faultRaw.slice(0, 40)}"`);
  if (faultRaw !== '' && production) fail('FAULT_INJECTION', 'cannot be set when NODE_ENV=production (it is for tests)');
  if (faultRaw !== '') devDefaults.push('FAULT_INJECTION');

  return Object.freeze({
    nodeEnv,
    port,
    host,
    publicUrl,
    secureCookies: publicUrl.startsWith('https:'),
    ltiKey,
    tokenKey: Buffer.from(tokenKeyHex, 'hex'),
    mongodbUri,
    sqliteFile,
    demo,
    lmsSimulatorPort,
    lmsSimulatorPublicUrl,
    senceEmulatorPort,
    senceBaseUrls: Object.freeze(senceBaseUrls),
    attemptTtlMinutes: integer(env, 'ATTEMPT_TTL_MINUTES', 30, 1, 24 * 60),
    defaultSessionLimitMinutes,
    defaultWarningMinutes,
    tokenMaxAgeSeconds: integer(env, 'LTI_TOKEN_MAX_AGE_SECONDS', 60, 5, 600),
    ltikMaxAgeMinutes,
    frameAncestors: (env.FRAME_ANCESTORS ?? '').split(/\s+/).filter(Boolean),
    trustProxy: integer(env, 'TRUST_PROXY', 0, 0, 10),
    registrationAllowPrivate: bool(env, 'REGISTRATION_ALLOW_PRIVATE', !production),
    alertMail,
    auditRetentionDays: integer(env, 'AUDIT_RETENTION_DAYS', 730, 30, 3650),
    http,
    devDefaults: Object.freeze(devDefaults) as unknown as string[],
    faultInjection: faultRaw === 'crash' ? 'crash' : null,
    log: logSettings(env),
  });
}

/**
 * LOG_FORMAT and LOG_LEVEL (issue #20): one-line text for a person in development, JSON lines in
 * production and tests (machines read them). Also read on its own by the logger used before (or
 * without) a full configuration.
 */
export function logSettings(env: Env = process.env): Readonly<LogSettings> {
  const nodeEnv = (env.NODE_ENV ?? 'development').trim();
  const formatRaw = (env.LOG_FORMAT ?? '').trim().toLowerCase();
  if (formatRaw !== '' && formatRaw !== 'json' && formatRaw !== 'text') fail('LOG_FORMAT', `must be json or text, got "${(env.LOG_FORMAT ?? '').trim().slice(0, 20)}"`);
  const levelRaw = (env.LOG_LEVEL ?? '').trim().toLowerCase();
  const levels: ReadonlyArray<LogSettings['level']> = ['debug', 'info', 'warn', 'error'];
  const level = levels.find((l) => l === levelRaw);
  if (levelRaw !== '' && !level) fail('LOG_LEVEL', `must be debug, info, warn or error, got "${(env.LOG_LEVEL ?? '').trim().slice(0, 20)}"`);
  return Object.freeze({
    format: formatRaw === 'json' || formatRaw === 'text' ? formatRaw : nodeEnv === 'development' ? 'text' : 'json',
    level: level ?? 'info',
  });
}
