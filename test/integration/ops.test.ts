/** GET /healthz, /readyz (and the old /health), request ids on the response and on every log line. */
import { HttpClient } from '../support/http-client';
import { launchAs } from '../support/lti-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';

let sys: TestSystem;

beforeAll(async () => {
  sys = await startTestSystem();
});

afterAll(async () => {
  await sys?.stop();
});

describe('probes', () => {
  it('/healthz and the old /health: alive, no store access, not cached', async () => {
    for (const route of ['/healthz', '/health']) {
      const res = await fetch(`${sys.url}${route}`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ ok: true });
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
  });

  it('/readyz: 200 with the store kind and each check, nothing secret', async () => {
    const res = await fetch(`${sys.url}/readyz`);
    expect(res.status).toBe(200);
    const body = await res.json();
    expect(body).toEqual({ ok: true, store: sys.storeKind, checks: sys.storeKind === 'mongo' ? { store: 'ok', ltijs: 'ok' } : { store: 'ok' } });
    expect(JSON.stringify(body)).not.toMatch(/mongodb:|sqlite$|\/tmp\//);
  });
});

describe('request ids', () => {
  it('every response carries X-Request-Id; a sane incoming one is kept, a bad one replaced', async () => {
    const fresh = await fetch(`${sys.url}/setup`);
    expect(fresh.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
    const kept = await fetch(`${sys.url}/setup`, { headers: { 'x-request-id': 'proxy-req-12345678' } });
    expect(kept.headers.get('x-request-id')).toBe('proxy-req-12345678');
    const replaced = await fetch(`${sys.url}/setup`, { headers: { 'x-request-id': 'bad id with spaces\u00e9' } });
    expect(replaced.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('the log lines of one request share its id, and no ltik or token reaches them', async () => {
    const { ltik } = await launchAs(sys, 'bruno'); // no RUN: a 422 with a warning line
    const res = await new HttpClient().get(`${sys.url}/lti/api/status`, { accept: 'application/json', 'x-request-id': 'trace-abcdef-0001' });
    expect(res.status).toBe(401);
    const lines = sys.logger.lines.filter((l) => l.fields.reqId === 'trace-abcdef-0001');
    expect(lines.map((l) => l.message)).toEqual(['request failed', 'request']);
    expect(lines[1]!.fields).toMatchObject({ method: 'GET', path: '/lti/api/status', status: 401 });
    expect(JSON.stringify(sys.logger.lines)).not.toContain(ltik);
    expect(sys.logger.lines.filter((l) => l.message === 'request').every((l) => typeof l.fields.reqId === 'string')).toBe(true);
  });
});
