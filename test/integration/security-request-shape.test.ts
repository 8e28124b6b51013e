/**
 * Issue #7, findings 1–3: no request can stop the process, client errors are 4xx with the usual
 * Spanish page or JSON (logged at warn, no stack), and a launch is only accepted in the form_post
 * encoding, where the tool's own launch checks (issued nonce, iat) run.
 */
import { gzipSync } from 'node:zlib';
import { authorize } from '../support/lti-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';

let sys: TestSystem;
const rejections: unknown[] = [];
const onRejection = (reason: unknown) => rejections.push(reason);

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  sys = await startTestSystem();
});
afterAll(async () => {
  process.off('unhandledRejection', onRejection);
  await sys?.stop();
});

async function send(path: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}) {
  const res = await fetch(`${sys.url}${path}`, {
    method: init.method ?? 'POST',
    headers: { accept: 'text/html', ...init.headers },
    body: typeof init.body === 'string' || init.body === undefined ? init.body : new Uint8Array(init.body),
    redirect: 'manual',
    signal: AbortSignal.timeout(5000),
  });
  return { status: res.status, headers: res.headers, text: await res.text() };
}
const form = (body: string, extra: Record<string, string> = {}) => ({ headers: { 'content-type': 'application/x-www-form-urlencoded', ...extra }, body });
const json = (body: string, extra: Record<string, string> = {}) => ({ headers: { 'content-type': 'application/json', ...extra }, body });

async function stillServing() {
  const res = await fetch(`${sys.url}/health`, { signal: AbortSignal.timeout(5000) });
  expect(res.status).toBe(200);
  expect(rejections).toEqual([]);
}

describe('finding 1: malformed LTI parameters are refused before ltijs or a store sees them', () => {
  it.each([
    ['a duplicated state in a form', form('ltik=garbage&state=a&state=b')],
    ['an array state in JSON', json('{"id_token":"x","state":[]}')],
    ['an operator object as state in JSON', json('{"state":{"$ne":1}}')],
    ['a duplicated id_token in a form', form('id_token=a&id_token=b&state=s')],
  ])('%s gets a 400 in Spanish and the process keeps serving', async (_name, init) => {
    const res = await send('/lti', init);
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(res.text).toMatch(/parámetros|formato|solo se acepta/i);
    await stillServing();
  });

  it('refuses a duplicated or overlong parameter in the query string too', async () => {
    const dup = await send('/lti?ltik=a&ltik=b', { method: 'GET' });
    expect(dup.status).toBe(400);
    expect(dup.text).toContain('La solicitud trae parámetros repetidos o con un formato no válido');
    expect(dup.text).toContain('ltik');
    await stillServing();
  });

  it.each([
    ['client_id[$ne]=1'],
    ['iss[$ne]=1'],
    ['iss[]=a&iss[]=b'],
    ['login_hint[a]=1'],
  ])('refuses %s on /lti/login (ltijs re-parses the query with qs: objects) with a 400, never ltijs\'s raw 500', async (extra) => {
    const res = await send(`/lti/login?iss=${encodeURIComponent(sys.lms!.issuer)}&login_hint=1&target_link_uri=${encodeURIComponent(`${sys.url}/lti`)}&${extra}`, { method: 'GET' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('La solicitud trae parámetros repetidos o con un formato no válido');
    await stillServing();
  });

  it('logs the refusal at warn, without a stack', async () => {
    sys.logger.lines.length = 0;
    await send('/lti', form('state=a&state=b'));
    const line = sys.logger.lines.find((l) => l.fields.code === 'request-malformed');
    expect(line?.level).toBe('warn');
    expect(line?.fields.stack).toBeUndefined();
  });
});

describe('finding 2: client errors are 4xx, never 500', () => {
  const cases: Array<[string, string, Parameters<typeof send>[1], number, RegExp]> = [
    ['a latin1 callback body', '/cb/ok/AAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB', form('a=b', { 'content-type': 'application/x-www-form-urlencoded; charset=latin1' }), 415, /codificación de caracteres/],
    ['a utf-16 callback body', '/cb/ok/AAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB', form('a=b', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-16' }), 415, /codificación de caracteres/],
    ['a gzip callback body', '/cb/ok/AAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' }, body: gzipSync('a=b') }, 415, /comprimido/],
    ['a broken deflate callback body', '/cb/err/AAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB', form('not deflate', { 'content-encoding': 'deflate' }), 415, /comprimido/],
    ['more than 60 callback parameters', '/cb/ok/AAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB', form(Array.from({ length: 61 }, (_, i) => `p${i}=1`).join('&')), 413, /demasiados parámetros/],
    ['a callback body over the limit', '/cb/ok/AAAAAAAAAAAA.BBBBBBBBBBBBBBBBBBBBBB', form(`a=${'x'.repeat(40_000)}`), 413, /demasiado grande/],
    ['invalid percent-encoding in a path', '/cb/ok/%ZZ', form('a=b'), 400, /dirección no es válida/],
    ['invalid JSON to /lti', '/lti', json('{"id_token":'), 400, /no se pudo leer/i],
    ['a gzip body to /lti', '/lti', { headers: { 'content-type': 'application/x-www-form-urlencoded', 'content-encoding': 'gzip' }, body: gzipSync('state=a') }, 415, /comprimido/],
  ];
  it.each(cases)('%s is a 4xx with the Spanish error page', async (_name, path, init, status, message) => {
    sys.logger.lines.length = 0;
    const res = await send(path, init);
    expect(res.status).toBe(status);
    expect(res.headers.get('content-type')).toMatch(/text\/html/);
    expect(res.text).toMatch(message);
    const line = sys.logger.lines.find((l) => l.message === 'request failed');
    expect(line?.level).toBe('warn');
    expect(line?.fields.stack).toBeUndefined();
    await stillServing();
  });

  it('a duplicated iss on /lti/login gets a Spanish 400, not ltijs\'s raw 500 JSON', async () => {
    const res = await send(`/lti/login?iss=${encodeURIComponent(sys.lms!.issuer)}&iss=x&login_hint=1&target_link_uri=${encodeURIComponent(`${sys.url}/lti`)}`, { method: 'GET' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('iss');
    expect(res.text).toContain('La solicitud trae parámetros repetidos o con un formato no válido');
  });

  it('answers JSON clients with JSON', async () => {
    const res = await send('/cb/ok/%ZZ', { method: 'POST', headers: { accept: 'application/json' } });
    expect(res.status).toBe(400);
    expect(JSON.parse(res.text)).toMatchObject({ error: { code: 'bad-request' } });
  });
});

describe('finding 3: a launch is accepted only as form_post, where the tool checks nonce and iat', () => {
  it('refuses a JSON launch whose nonce was never issued (415) and creates no session', async () => {
    const { post, state, client } = await authorize(sys, 'ana');
    const lms = sys.lms!;
    const claims = lms.launchClaims('ana', 'nonce-never-issued');
    const idToken = lms.signIdToken(claims);
    const cookie = [...client.cookies(sys.url).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await send('/lti', json(JSON.stringify({ id_token: idToken, state }), { cookie }));
    expect(res.status).toBe(415);
    expect(res.text).toContain('El ingreso desde la plataforma solo se acepta como formulario');
    expect(post.fields.state).toBe(state);
  });

  it('refuses a JSON launch whose iat is an hour in the future (415)', async () => {
    const { state, client } = await authorize(sys, 'ana');
    const lms = sys.lms!;
    const { nonce } = await authorize(sys, 'ana', client);
    const claims = { ...lms.launchClaims('ana', nonce), iat: Math.floor(Date.now() / 1000) + 3600 };
    const cookie = [...client.cookies(sys.url).entries()].map(([k, v]) => `${k}=${v}`).join('; ');
    const res = await send('/lti', json(JSON.stringify({ id_token: lms.signIdToken(claims), state }), { cookie }));
    expect(res.status).toBe(415);
  });

  it('the same never-issued nonce as a form is refused by the tool\'s own check (401)', async () => {
    const { state, client } = await authorize(sys, 'ana');
    const lms = sys.lms!;
    const res = await client.post(`${sys.url}/lti`, { id_token: lms.signIdToken(lms.launchClaims('ana', 'nonce-never-issued')), state });
    expect(res.status).toBe(401);
    expect(res.text).toContain('nonce distinto');
  });
});
