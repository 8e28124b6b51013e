import { loadConfig, OFFICIAL_SENCE_BASE_URLS } from '../../src/config';
import { AppError } from '../../src/errors';

const prodEnv = {
  NODE_ENV: 'production',
  PUBLIC_URL: 'https://asistencia.otec.cl',
  LTI_KEY: 'a-long-random-secret-for-ltijs',
  TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32),
};

function errorOf(env: Record<string, string>): AppError {
  try {
    loadConfig(env);
  } catch (e) {
    return e as AppError;
  }
  throw new Error('expected loadConfig to throw');
}

describe('loadConfig', () => {
  it('gives a demo configuration on a fresh machine, announcing the development defaults', () => {
    const c = loadConfig({});
    expect(c).toMatchObject({ nodeEnv: 'development', port: 3000, publicUrl: 'http://localhost:3000', demo: true, mongodbUri: null, sqliteFile: './data/asistencia.sqlite' });
    expect(c.devDefaults).toEqual(expect.arrayContaining(['LTI_KEY', 'TOKEN_ENCRYPTION_KEY', 'DEMO']));
    // A demo never reaches SENCE: both environments point at the built-in emulator.
    expect(c.senceBaseUrls.test).toBe('http://localhost:3002/rcetest/Registro');
    expect(c.senceBaseUrls.production).toBe('http://localhost:3002/rce/Registro');
    expect(Object.isFrozen(c)).toBe(true);
  });

  it('uses the official SENCE URLs in production, demo off, secure cookies behind https', () => {
    const c = loadConfig(prodEnv);
    expect(c).toMatchObject({ demo: false, secureCookies: true, devDefaults: [] });
    expect(c.senceBaseUrls).toEqual(OFFICIAL_SENCE_BASE_URLS);
  });

  it.each([
    [{ ...prodEnv, LTI_KEY: '' }, 'LTI_KEY'],
    [{ ...prodEnv, TOKEN_ENCRYPTION_KEY: '' }, 'TOKEN_ENCRYPTION_KEY'],
    [{ ...prodEnv, TOKEN_ENCRYPTION_KEY: 'not-hex' }, 'TOKEN_ENCRYPTION_KEY'],
    [{ ...prodEnv, TOKEN_ENCRYPTION_KEY: '00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff' }, 'TOKEN_ENCRYPTION_KEY'],
    [{ ...prodEnv, DEMO: 'true' }, 'DEMO'],
    [{ ...prodEnv, PORT: 'eighty' }, 'PORT'],
    [{ ...prodEnv, PORT: '70000' }, 'PORT'],
    [{ ...prodEnv, PUBLIC_URL: 'asistencia.otec.cl' }, 'PUBLIC_URL'],
    [{ ...prodEnv, PUBLIC_URL: 'https://a-very-long-subdomain-name.for-the-attendance-tool.otec-example.cl' }, 'PUBLIC_URL'],
    [{ ...prodEnv, MONGODB_URI: 'postgres://db' }, 'MONGODB_URI'],
    [{ ...prodEnv, SENCE_RCE_TEST_URL: 'ftp://sence' }, 'SENCE_RCE_TEST_URL'],
    [{ NODE_ENV: 'staging' }, 'NODE_ENV'],
    [{ DEMO: 'maybe' }, 'DEMO'],
  ])('refuses %o naming %s', (env, variable) => {
    const err = errorOf(env as Record<string, string>);
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe('config-invalid');
    expect(err.message.startsWith(variable)).toBe(true);
  });

  it('keeps the ltik alive through a SENCE session: LTIK_MAX_AGE_MINUTES ≥ SESSION_LIMIT_MINUTES + 60', () => {
    expect(loadConfig({}).ltikMaxAgeMinutes).toBe(360);
    expect(loadConfig({ SESSION_LIMIT_MINUTES: '180', LTIK_MAX_AGE_MINUTES: '240' }).ltikMaxAgeMinutes).toBe(240);
    const err = errorOf({ SESSION_LIMIT_MINUTES: '180', LTIK_MAX_AGE_MINUTES: '239' });
    expect(err.message).toBe("LTIK_MAX_AGE_MINUTES must be at least SESSION_LIMIT_MINUTES + 60 (240): the panel's session has to outlive a SENCE session");
    expect(errorOf({ SESSION_LIMIT_MINUTES: '400' }).message).toContain('LTIK_MAX_AGE_MINUTES must be at least SESSION_LIMIT_MINUTES + 60 (460)');
  });

  it('keeps the session defaults within what the course form accepts: limit 30–720, warning 1–60 and below the limit', () => {
    expect(loadConfig({ SESSION_LIMIT_MINUTES: '30', SESSION_WARNING_MINUTES: '29' })).toMatchObject({ defaultSessionLimitMinutes: 30, defaultWarningMinutes: 29 });
    expect(loadConfig({ SESSION_LIMIT_MINUTES: '720', LTIK_MAX_AGE_MINUTES: '780', SESSION_WARNING_MINUTES: '60' })).toMatchObject({ defaultSessionLimitMinutes: 720, defaultWarningMinutes: 60 });
    expect(errorOf({ SESSION_LIMIT_MINUTES: '29' }).message).toBe('SESSION_LIMIT_MINUTES must be between 30 and 720, got 29');
    expect(errorOf({ SESSION_LIMIT_MINUTES: '721', LTIK_MAX_AGE_MINUTES: '800' }).message).toBe('SESSION_LIMIT_MINUTES must be between 30 and 720, got 721');
    expect(errorOf({ SESSION_WARNING_MINUTES: '0' }).message).toBe('SESSION_WARNING_MINUTES must be between 1 and 60, got 0');
    expect(errorOf({ SESSION_WARNING_MINUTES: '61' }).message).toBe('SESSION_WARNING_MINUTES must be between 1 and 60, got 61');
    expect(errorOf({ SESSION_LIMIT_MINUTES: '30', SESSION_WARNING_MINUTES: '30' }).message).toBe('SESSION_WARNING_MINUTES must be less than SESSION_LIMIT_MINUTES (30)');
  });

  it('places the demo LMS on another site than the tool unless LMS_SIMULATOR_PUBLIC_URL says where', () => {
    expect(loadConfig({}).lmsSimulatorPublicUrl).toBeNull();
    expect(loadConfig({ LMS_SIMULATOR_PUBLIC_URL: 'http://lms.test:8080/' }).lmsSimulatorPublicUrl).toBe('http://lms.test:8080');
    expect(errorOf({ LMS_SIMULATOR_PUBLIC_URL: 'ftp://x' }).message).toContain('LMS_SIMULATOR_PUBLIC_URL');
  });

  it('REGISTRATION_ALLOW_PRIVATE: off in production unless the operator sets it, on elsewhere (issue #19 §3)', () => {
    expect(loadConfig(prodEnv).registrationAllowPrivate).toBe(false);
    expect(loadConfig({ ...prodEnv, REGISTRATION_ALLOW_PRIVATE: 'true' }).registrationAllowPrivate).toBe(true);
    expect(loadConfig({}).registrationAllowPrivate).toBe(true);
    expect(loadConfig({ NODE_ENV: 'test', REGISTRATION_ALLOW_PRIVATE: 'false' }).registrationAllowPrivate).toBe(false);
    expect(errorOf({ REGISTRATION_ALLOW_PRIVATE: 'quizás' }).message).toContain('REGISTRATION_ALLOW_PRIVATE must be true or false');
  });
  // Issue #20, item 14: a demo (public development keys) listened on every interface.
  describe('HOST (issue #20)', () => {
    it('a demo or development keys listen on 127.0.0.1 only, unless HOST says otherwise', () => {
      expect(loadConfig({}).host).toBe('127.0.0.1');
      expect(loadConfig({ DEMO: 'false' }).host).toBe('127.0.0.1'); // still the development keys
      expect(loadConfig({ HOST: '0.0.0.0' }).host).toBe('0.0.0.0');
      expect(loadConfig({ HOST: ' 192.168.1.20 ' }).host).toBe('192.168.1.20');
    });

    it('production keeps every interface (a container is reached from outside), and so does a development set-up with its own keys', () => {
      expect(loadConfig(prodEnv).host).toBe('0.0.0.0');
      expect(loadConfig({ ...prodEnv, PUBLIC_URL: 'http://localhost:3000' }).host).toBe('0.0.0.0');
      expect(loadConfig({ ...prodEnv, NODE_ENV: 'development', DEMO: 'false' }).host).toBe('0.0.0.0');
      expect(loadConfig({ ...prodEnv, HOST: '127.0.0.1' }).host).toBe('127.0.0.1');
    });
  });

  // Issue #20, item 15: human-readable logs in development, JSON in production (and tests, which read them).
  describe('LOG_FORMAT and LOG_LEVEL (issue #20)', () => {
    it('text in development, JSON in production and in tests, at info level', () => {
      expect(loadConfig({}).log).toEqual({ format: 'text', level: 'info' });
      expect(loadConfig(prodEnv).log).toEqual({ format: 'json', level: 'info' });
      expect(loadConfig({ NODE_ENV: 'test' }).log).toEqual({ format: 'json', level: 'info' });
    });

    it('LOG_FORMAT and LOG_LEVEL change them', () => {
      expect(loadConfig({ LOG_FORMAT: 'json', LOG_LEVEL: 'debug' }).log).toEqual({ format: 'json', level: 'debug' });
      expect(loadConfig({ ...prodEnv, LOG_FORMAT: ' TEXT ', LOG_LEVEL: 'Warn' }).log).toEqual({ format: 'text', level: 'warn' });
    });

    it.each([
      [{ LOG_FORMAT: 'pretty' }, 'LOG_FORMAT', 'LOG_FORMAT must be json or text, got "pretty"'],
      [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', 'LOG_LEVEL must be debug, info, warn or error, got "verbose"'],
    ])('refuses %j naming the variable', (env, variable, message) => {
      const err = errorOf(env);
      expect(err.details).toEqual({ variable });
      expect(err.message).toBe(message);
    });
  });
});
