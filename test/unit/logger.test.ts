import { Writable } from 'node:stream';
import express from 'express';
import request from 'supertest';
import { createLogger, MemoryLogger, pinoLogger, redact, REDACTED, requestContext } from '../../src/web/logger';

function captured() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(...chunk.toString().split('\n').filter(Boolean));
      done();
    },
  });
  return { lines, stream };
}

const JWT = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbmEiLCJub25jZSI6Im4ifQ.c2lnbmF0dXJlLWJ5dGVz';

describe('pino logger', () => {
  it('writes one JSON line with ISO time, level name, pid and the message', () => {
    const { lines, stream } = captured();
    pinoLogger(stream).log('warn', 'request failed', { code: 'run-missing', status: 422 });
    expect(lines).toHaveLength(1);
    const line = JSON.parse(lines[0]!);
    expect(line).toMatchObject({ level: 'warn', msg: 'request failed', code: 'run-missing', status: 422, pid: process.pid });
    expect(new Date(line.time).toISOString()).toBe(line.time);
  });

  it('redacts the OTEC token, id_tokens, ltiks, cookies and callback tokens', () => {
    const { lines, stream } = captured();
    pinoLogger(stream).log('error', `launch failed for ${JWT}`, {
      token: 'B3D5E6F7-0000-1111-2222-333344445555',
      otec: { tokenSealed: 'v1.aaa.bbb.ccc', tokenHint: '…5555' },
      id_token: JWT,
      body: { id_token: JWT, state: 'abc' },
      url: `/lti/?ltik=${JWT}&x=1`,
      path: '/cb/ok/att_123.s3cr3t-callback-token',
      headers: { cookie: 'ltiaHR0cDovL2xvY2FsaG9zdA=abc', authorization: 'Bearer xyz', 'user-agent': 'jest' },
    });
    const text = lines.join('\n');
    for (const secret of ['B3D5E6F7-0000-1111-2222-333344445555', 'v1.aaa.bbb.ccc', JWT, 's3cr3t-callback-token', 'ltiaHR0cDovL2xvY2FsaG9zdA=abc', 'Bearer xyz']) {
      expect(text).not.toContain(secret);
    }
    const line = JSON.parse(lines[0]!);
    expect(line.msg).toBe(`launch failed for ${REDACTED}`);
    expect(line.otec.tokenHint).toBe('…5555'); // the hint is not a secret
    expect(line.body.state).toBe('abc');
    expect(line.url).toBe(`/lti/?ltik=${REDACTED}&x=1`);
    expect(line.path).toBe(`/cb/ok/att_123.${REDACTED}`);
    expect(line.headers['user-agent']).toBe('jest');
  });

  it('MemoryLogger keeps what pino would write (redacted)', () => {
    const logger = new MemoryLogger();
    logger.log('info', 'x', { ltik: 'abc', nested: { cookies: { a: 'b' } } });
    expect(logger.lines[0]!.fields).toEqual({ ltik: REDACTED, nested: { cookies: REDACTED } });
  });

  it('redact leaves plain values alone and survives deep objects', () => {
    expect(redact({ a: 1, b: 'texto', c: null, d: [1, 'dos'] })).toEqual({ a: 1, b: 'texto', c: null, d: [1, 'dos'] });
    let deep: Record<string, unknown> = { v: 1 };
    for (let i = 0; i < 20; i += 1) deep = { deep };
    expect(() => JSON.stringify(redact(deep))).not.toThrow();
  });

  // Issue #19 §1: a key that came from a request (a JSON body's `__proto__`) replaced the copy's
  // prototype instead of being written: the field vanished from the line and its value's members
  // were inherited by the copy.
  it('redact keeps a field named __proto__ (or toString) as a field of the line', () => {
    const fields = JSON.parse('{"body":{"__proto__":{"password":"x","isAdmin":true},"toString":"1"}}') as Record<string, unknown>;
    const out = redact(fields) as { body: Record<string, unknown> };
    expect(JSON.stringify(out)).toBe('{"body":{"__proto__":{"password":"[redactado]","isAdmin":true},"toString":"1"}}');
    expect(Object.getPrototypeOf(out.body)).toBe(Object.prototype);
    expect((out.body as { isAdmin?: unknown }).isAdmin).toBeUndefined();
  });
});

// Issue #20, item 15: a person reads the development terminal; production keeps JSON lines.
describe('text logger (development) and levels', () => {
  const at = () => new Date(2026, 2, 9, 9, 14, 3); // local time, as the terminal shows it
  const text = (level: 'debug' | 'info' | 'warn' | 'error' = 'info') => {
    const { lines, stream } = captured();
    return { lines, logger: createLogger({ format: 'text', level }, stream, at) };
  };

  it('a request is one short line: time, method, path, status, duration', () => {
    const { lines, logger } = text();
    logger.log('info', 'request', { method: 'POST', path: '/lti/sence/start', status: 302, ms: 12.345 });
    expect(lines).toEqual(['09:14:03 POST /lti/sence/start 302 12 ms']);
  });

  it('other events: the message and its fields as key=value, a level word on warnings and errors, the request id there too', () => {
    const { lines, logger } = text();
    logger.log('warn', 'request failed', { code: 'run-missing', status: 422, method: 'POST', path: '/lti/sence/start', ip: '127.0.0.1', note: 'dos palabras' });
    logger.log('info', 'otec linked to the platforms of its courses (migration)', { rut: '76.123.456-7', platforms: ['https://lms.example a'] });
    expect(lines).toEqual([
      '09:14:03 WARN request failed code=run-missing status=422 method=POST path=/lti/sence/start ip=127.0.0.1 note="dos palabras"',
      '09:14:03 otec linked to the platforms of its courses (migration) rut=76.123.456-7 platforms=["https://lms.example a"]',
    ]);
  });

  it('an error keeps its stack, indented under its line', () => {
    const { lines, logger } = text();
    logger.log('error', 'uncaught exception', { error: 'boom', stack: 'Error: boom\n    at f (a.ts:1:1)' });
    expect(lines).toEqual(['09:14:03 ERROR uncaught exception error=boom', '  Error: boom', '      at f (a.ts:1:1)']);
  });

  it('LOG_LEVEL: debug lines are hidden at info (the default) and shown at debug; warn hides info', () => {
    const info = text('info');
    info.logger.log('debug', 'request', { method: 'GET', path: '/lti/api/status', status: 200, ms: 3 });
    expect(info.lines).toEqual([]);
    const debug = text('debug');
    debug.logger.log('debug', 'request', { method: 'GET', path: '/lti/api/status', status: 200, ms: 3 });
    expect(debug.lines).toEqual(['09:14:03 debug GET /lti/api/status 200 3 ms']);
    const warn = text('warn');
    warn.logger.log('info', 'request', { method: 'GET', path: '/', status: 200, ms: 3 });
    warn.logger.log('warn', 'slow', {});
    expect(warn.lines).toEqual(['09:14:03 WARN slow']);
  });

  it('JSON (production) honours the level too', () => {
    const { lines, stream } = captured();
    const logger = createLogger({ format: 'json', level: 'info' }, stream);
    logger.log('debug', 'request', { path: '/healthz' });
    logger.log('info', 'request', { path: '/setup' });
    expect(lines.map((l) => JSON.parse(l).path)).toEqual(['/setup']);
    const all = captured();
    createLogger({ format: 'json', level: 'debug' }, all.stream).log('debug', 'request', { path: '/healthz' });
    expect(JSON.parse(all.lines[0]!)).toMatchObject({ level: 'debug', path: '/healthz' });
  });

  it.each(['text', 'json'] as const)('%s: redacts the OTEC token, id_tokens, ltiks, cookies and callback tokens', (format) => {
    const { lines, stream } = captured();
    createLogger({ format, level: 'info' }, stream, at).log('warn', `launch failed for ${JWT}`, {
      token: 'B3D5E6F7-0000-1111-2222-333344445555',
      otec: { tokenSealed: 'v1.aaa.bbb.ccc', tokenHint: '…5555' },
      id_token: JWT,
      url: `/lti/?ltik=${JWT}&x=1`,
      path: '/cb/ok/att_123.s3cr3t-callback-token',
      headers: { cookie: 'ltiaHR0cDovL2xvY2FsaG9zdA=abc', authorization: 'Bearer xyz' },
    });
    const out = lines.join('\n');
    for (const secret of ['B3D5E6F7-0000-1111-2222-333344445555', 'v1.aaa.bbb.ccc', JWT, 's3cr3t-callback-token', 'ltiaHR0cDovL2xvY2FsaG9zdA=abc', 'Bearer xyz']) {
      expect(out).not.toContain(secret);
    }
    expect(out).toContain(`/cb/ok/att_123.${REDACTED}`);
    expect(out).toContain(`ltik=${REDACTED}`);
    expect(out).toContain('…5555');
  });

  it('a text request line redacts the callback token of its path', () => {
    const { lines, logger } = text();
    logger.log('info', 'request', { method: 'GET', path: '/cb/ok/att_123.s3cr3t-callback-token', status: 200, ms: 1 });
    expect(lines).toEqual([`09:14:03 GET /cb/ok/att_123.${REDACTED} 200 1 ms`]);
  });
});

describe('request log levels (issue #20)', () => {
  async function levelsOf(paths: Array<[string, number]>): Promise<Array<[string, string]>> {
    const logger = new MemoryLogger();
    const app = express();
    app.use(requestContext(logger));
    app.use((req, res) => {
      res.status(Number(req.query.status ?? 200)).end();
    });
    for (const [p, status] of paths) await request(app).get(`${p}?status=${status}`);
    return logger.lines.map((l) => [String(l.fields.path), l.level]);
  }

  it('the panel\'s status poll, static files and health probes are debug when they succeed; the rest info; a failure stays visible', async () => {
    expect(
      await levelsOf([
        ['/lti/api/status', 200],
        ['/public/app.css', 200],
        ['/favicon.ico', 200],
        ['/healthz', 200],
        ['/readyz', 200],
        ['/setup', 200],
        ['/lti/sence/start', 302],
        ['/lti/api/status', 401],
        ['/readyz', 503],
        ['/setup', 500],
      ]),
    ).toEqual([
      ['/lti/api/status', 'debug'],
      ['/public/app.css', 'debug'],
      ['/favicon.ico', 'debug'],
      ['/healthz', 'debug'],
      ['/readyz', 'debug'],
      ['/setup', 'info'],
      ['/lti/sence/start', 'info'],
      ['/lti/api/status', 'info'],
      ['/readyz', 'error'],
      ['/setup', 'error'],
    ]);
  });
});

describe('request line path (issue #20)', () => {
  // A router mounted at /lti (or express.static at /public) ends the response while req.url is still
  // relative to its mount: the line said "POST /login" for /lti/login and "GET /favicon.svg".
  it('is the path the request arrived with, also when a mounted router answers', async () => {
    const logger = new MemoryLogger();
    const app = express();
    app.use(requestContext(logger));
    const lti = express.Router();
    lti.post('/login', (_req, res) => {
      res.redirect(302, '/elsewhere');
    });
    app.use('/lti', lti);
    await request(app).post('/lti/login');
    expect(logger.lines.map((l) => [l.fields.method, l.fields.path, l.fields.status])).toEqual([['POST', '/lti/login', 302]]);
  });

  it('a text line carries the request id on warnings, to find the request\'s other lines', async () => {
    const { lines, stream } = captured();
    const logger = createLogger({ format: 'text', level: 'info' }, stream, () => new Date(2026, 2, 9, 9, 14, 3));
    const app = express();
    app.use(requestContext(logger));
    app.use((_req, res) => {
      logger.log('warn', 'request failed', { code: 'not-found', status: 404 });
      res.status(404).end();
    });
    await request(app).get('/nada').set('x-request-id', 'trace-abcdef-0001');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe('09:14:03 WARN request failed code=not-found status=404 reqId=trace-abcdef-0001');
    expect(lines[1]).toMatch(/^09:14:03 GET \/nada 404 \d+ ms$/); // an info line: no request id
  });
});
