/**
 * Issue #19 §1: a parameter named like an `Object.prototype` member (`toString`, `constructor`,
 * `__proto__`…) stopped the process: the request-shape guard looked the name up in a plain object
 * and found the inherited member, inside body-parser's callback, where nothing catches a throw.
 *
 * The tool runs in a process of its own (test/support/tool-process.ts, as `npm start` runs it) so a
 * death is seen as one: after every request the same process must still be running and answer
 * /healthz. Every such name is sent as a form field, a JSON key, a query-string key and (on the one
 * route that reads multipart) a multipart field, on several paths under /lti/: each gets the Spanish
 * 400 page. The SENCE callback and window paths (outside /lti) get the same names too: a 4xx, alive.
 *
 * SQLite pass only (not in jest.mongo.config.js): every request here is refused before any store
 * is read or written (the guard runs first on /lti; the callback paths fail on the token's format or
 * an unknown attempt), so the store plays no part in what is tested.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startToolProcess, type ToolProcess } from '../support/instances';

jest.setTimeout(180_000);

/** Every own member of Object.prototype, plus the names that reach it through a path. */
const PROTOTYPE_NAMES = [
  ...Object.getOwnPropertyNames(Object.prototype),
  'constructor.prototype',
  'constructor[prototype]',
  '__proto__[polluted]',
  '__proto__.polluted',
  'toString[]',
];

// /lti/register is limited to 10 requests a minute per address (before any parsing): it gets a test of its own.
const LTI_PATHS = ['/lti/login', '/lti', '/lti/api/status', '/lti/deep-link', '/lti/staff/actions/upload', '/lti/staff/settings'];
const UPLOAD = '/lti/staff/actions/upload';
/** Outside /lti: the SENCE callback (a real-looking attempt id) and the SENCE window's buttons. */
const OTHER_PATHS = ['/cb/ok/no-such-attempt.no-such-token', '/cb/error/no-such-attempt.no-such-token', '/sence/window/start'];

const REFUSED = 'La solicitud trae parámetros repetidos o con un formato no válido';

let dir: string;
let tool: ToolProcess | null = null;
let restarts = 0;

async function ensureRunning(): Promise<ToolProcess> {
  if (tool && tool.child.exitCode === null && tool.child.signalCode === null) return tool;
  if (tool) restarts += 1;
  tool = await startToolProcess('tool', { SQLITE_FILE: path.join(dir, `tool-${restarts}.sqlite`) });
  return tool;
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asistencia-proto-'));
});
beforeEach(async () => {
  await ensureRunning();
});
afterAll(async () => {
  await tool?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

interface Sent {
  label: string;
  method: string;
  path: string;
  headers?: Record<string, string>;
  body?: string | FormData;
  /**
   * body-parser's form parser (qs) drops a field named exactly `__proto__`: the tool never sees it,
   * so the answer is the one the same form without that field gets (a Spanish 4xx), not the refusal.
   */
  baseline?: Sent;
}

function requestsFor(name: string): Sent[] {
  const enc = encodeURIComponent(name);
  const sent: Sent[] = [];
  const formHeaders = { 'content-type': 'application/x-www-form-urlencoded' };
  for (const p of LTI_PATHS) {
    const baseline = name === '__proto__' ? { label: `form without the field ${p}`, method: 'POST', path: p, headers: formHeaders, body: 'x=1' } : undefined;
    sent.push({ label: `form ${p}`, method: 'POST', path: p, headers: formHeaders, body: `${enc}=1`, baseline });
    sent.push({ label: `form (raw brackets) ${p}`, method: 'POST', path: p, headers: formHeaders, body: `${name}=1`, baseline });
    sent.push({ label: `json ${p}`, method: 'POST', path: p, headers: { 'content-type': 'application/json' }, body: `{${JSON.stringify(name)}:"1"}` });
    sent.push({ label: `json object ${p}`, method: 'POST', path: p, headers: { 'content-type': 'application/json' }, body: `{${JSON.stringify(name)}:{"x":"1"}}` });
    sent.push({ label: `query GET ${p}`, method: 'GET', path: `${p}?${enc}=1` });
    sent.push({ label: `query POST ${p}`, method: 'POST', path: `${p}?${enc}=1`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'x=1' });
  }
  const multipart = new FormData();
  multipart.append(name, '1');
  sent.push({ label: `multipart ${UPLOAD}`, method: 'POST', path: UPLOAD, body: multipart });
  const withFile = new FormData();
  withFile.append(name, '1');
  withFile.append('archivo', new Blob(['rut,accion\n'], { type: 'text/csv' }), 'a.csv');
  sent.push({ label: `multipart with file ${UPLOAD}`, method: 'POST', path: UPLOAD, body: withFile });
  return sent;
}

function otherRequestsFor(name: string): Sent[] {
  const enc = encodeURIComponent(name);
  return OTHER_PATHS.flatMap((p) => [
    { label: `form ${p}`, method: 'POST', path: p, headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${enc}=1&RunAlumno=12345678-5` },
    { label: `query GET ${p}`, method: 'GET', path: `${p}?${enc}=1` },
    { label: `json ${p}`, method: 'POST', path: p, headers: { 'content-type': 'application/json' }, body: `{${JSON.stringify(name)}:"1"}` },
  ]);
}

async function send(t: ToolProcess, r: Sent): Promise<{ status: number; text: string } | { error: string }> {
  try {
    const res = await fetch(`${t.url}${r.path}`, {
      method: r.method,
      headers: { accept: 'text/html', ...r.headers },
      body: r.body,
      redirect: 'manual',
      signal: AbortSignal.timeout(10_000),
    });
    return { status: res.status, text: await res.text() };
  } catch (err) {
    return { error: (err as Error).message };
  }
}

/** The Spanish refusal: the error page for a browser, the JSON error for an API path. */
function refusedInSpanish(res: { status: number; text: string }): boolean {
  if (res.status !== 400 || !res.text.includes(REFUSED)) return false;
  if (res.text.startsWith('{')) return (JSON.parse(res.text) as { error?: { code?: string } }).error?.code === 'request-malformed';
  return res.text.includes('No pudimos continuar');
}

async function alive(t: ToolProcess): Promise<boolean> {
  if (t.child.exitCode !== null || t.child.signalCode !== null) return false;
  try {
    const res = await fetch(`${t.url}/healthz`, { signal: AbortSignal.timeout(10_000) });
    return res.status === 200;
  } catch {
    return false;
  }
}

describe('a parameter named like an Object.prototype member (issue #19 §1)', () => {
  it.each(PROTOTYPE_NAMES)('%s under /lti: the Spanish 400 page, and the same process keeps serving', async (name) => {
    const t = await ensureRunning();
    const pid = t.child.pid;
    const wrong: string[] = [];
    for (const r of requestsFor(name)) {
      const res = await send(t, r);
      const base = r.baseline ? await send(t, r.baseline) : null;
      if ('error' in res) wrong.push(`${r.label}: no answer (${res.error})`);
      else if (base) {
        if ('error' in base || base.status !== res.status || res.status < 400 || res.status > 499 || !/No pudimos continuar|"message":/.test(res.text)) {
          wrong.push(`${r.label}: ${res.status}, without the field: ${'error' in base ? base.error : base.status}`);
        }
      } else if (!refusedInSpanish(res)) {
        wrong.push(`${r.label}: ${res.status} ${res.text.replace(/\s+/g, ' ').slice(0, 160)}`);
      }
      if (!(await alive(t))) {
        wrong.push(`${r.label}: THE PROCESS DIED\n${t.output().slice(-1500)}`);
        break;
      }
    }
    expect(wrong).toEqual([]);
    expect(t.child.pid).toBe(pid);
  });

  it.each(PROTOTYPE_NAMES)('%s on the SENCE callback and window paths: a 4xx in Spanish, and the process keeps serving', async (name) => {
    const t = await ensureRunning();
    const wrong: string[] = [];
    for (const r of otherRequestsFor(name)) {
      const res = await send(t, r);
      if ('error' in res) wrong.push(`${r.label}: no answer (${res.error})`);
      else if (res.status < 400 || res.status > 499 || !/No pudimos continuar|no es válid|no se acepta|no existe|Sesión/i.test(res.text)) {
        wrong.push(`${r.label}: ${res.status} ${res.text.replace(/\s+/g, ' ').slice(0, 160)}`);
      }
      if (!(await alive(t))) {
        wrong.push(`${r.label}: THE PROCESS DIED\n${t.output().slice(-1500)}`);
        break;
      }
    }
    expect(wrong).toEqual([]);
  });

  it('on /lti/register too (10 requests, its per-minute limit): the Spanish 400 page, and the same process keeps serving', async () => {
    const t = await ensureRunning();
    const names = ['toString', '__proto__', 'constructor', 'valueOf', 'hasOwnProperty'];
    const sent: Sent[] = names.flatMap((name) => [
      { label: `form ${name}`, method: 'POST', path: '/lti/register', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `${encodeURIComponent(name)}=1` },
      { label: `query ${name}`, method: 'GET', path: `/lti/register?${encodeURIComponent(name)}=1&invite=abc` },
    ]);
    const wrong: string[] = [];
    for (const r of sent) {
      const res = await send(t, r);
      if ('error' in res) wrong.push(`${r.label}: no answer (${res.error})`);
      // A form field named exactly `__proto__` is dropped by the form parser: no invitation, the usual 403.
      else if (r.label === 'form __proto__' ? res.status !== 403 || !res.text.includes('No pudimos continuar') : !refusedInSpanish(res)) {
        wrong.push(`${r.label}: ${res.status} ${res.text.replace(/\s+/g, ' ').slice(0, 160)}`);
      }
      if (!(await alive(t))) {
        wrong.push(`${r.label}: THE PROCESS DIED\n${t.output().slice(-1500)}`);
        break;
      }
    }
    expect(wrong).toEqual([]);
  });

  it('the log line of such a refusal is a warn with its request id, never an error', async () => {
    const t = await ensureRunning();
    const before = t.output().length;
    const res = await send(t, { label: 'form', method: 'POST', path: '/lti/login', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'toString=1' });
    expect(res).toMatchObject({ status: 400 });
    await new Promise((r) => setTimeout(r, 200));
    const lines = t.output().slice(before).split('\n').filter((l) => l.includes('"request failed"'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    const line = JSON.parse(lines[0]!) as Record<string, unknown>;
    expect(line.level).toBe('warn');
    expect(line.code).toBe('request-malformed');
    expect(typeof line.reqId).toBe('string');
  });
});
