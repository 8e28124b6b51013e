import { Writable } from 'node:stream';
import { MemoryLogger, pinoLogger, redact, REDACTED } from '../../src/web/logger';

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
