/**
 * Issue #7: a seeded, bounded fuzz of the routes an outsider reaches — SENCE callbacks and the
 * SENCE window's buttons, /lti/login, the /lti launch, /lti/register and the staff routes (with a
 * real staff ltik and with garbage) — with malformed bodies, charsets, content encodings, sizes,
 * duplicated parameters, nested JSON and odd paths. Asserts: zero 5xx, no request left without an
 * answer, the same process still serving, no unhandled promise rejection, and no stored row changed
 * outside the audit log. Reproducible: FUZZ_SEED and FUZZ_REQUESTS override the defaults.
 */
import http from 'node:http';
import { gzipSync, deflateSync } from 'node:zlib';
import BetterSqlite3 from 'better-sqlite3';
import { launchAs } from '../support/lti-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';

const SEED = Number(process.env.FUZZ_SEED ?? 20261130);
const REQUESTS = Number(process.env.FUZZ_REQUESTS ?? 3000);
const CONCURRENCY = 8;

let sys: TestSystem;
let staffLtik = '';
const rejections: unknown[] = [];
const onRejection = (r: unknown) => rejections.push(r);

/** mulberry32: small, seeded, good enough to pick cases reproducibly. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const int = (n: number) => Math.floor(next() * n);
  const pick = <T,>(xs: readonly T[]): T => xs[int(xs.length)]!;
  return { next, int, pick };
}

interface FuzzRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
}

const LTI_PARAMS = ['state', 'id_token', 'ltik', 'iss', 'login_hint', 'client_id', 'target_link_uri', 'lti_message_hint', 'lti_deployment_id', 'lti_storage_target', 'openid_configuration', 'registration_token', 'invite'];
const CALLBACK_FIELDS = ['CodSence', 'CodigoCurso', 'IdSesionAlumno', 'IdSesionSence', 'RunAlumno', 'FechaHora', 'ZonaHoraria', 'LineaCapacitacion', 'GlosaError', 'k'];
const STAFF_FIELDS = ['otecId', 'lineaCapacitacion', 'codSence', 'codigoCurso', 'requiredHours', 'environment', 'sessionLimitMinutes', 'warningMinutes', 'name', 'rut', 'token', 'resultado', 'estudiante'];

function generator(seed: number, ctx: { issuer: string; publicUrl: string; ltik: () => string }) {
  const r = prng(seed);
  const token12 = () => Array.from({ length: 12 }, () => r.pick([...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'])).join('');
  const values = (): string =>
    r.pick([
      () => '',
      () => 'a',
      () => 'x'.repeat(r.pick([100, 1024, 1025, 4096, 20_000])),
      () => '{"$ne":1}',
      () => '[object Object]',
      () => '%ZZ%00%',
      () => 'ñandú "quoted" <script>alert(1)</script>',
      () => '=HYPERLINK("http://x")',
      () => '\u0000\u0001\r\n',
      () => '12345678-5',
      () => ctx.issuer,
      () => `${ctx.publicUrl}/lti`,
      () => 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln',
      () => String(r.int(1e9)),
      () => 'A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D',
    ])();
  const paramNames = (kind: 'lti' | 'callback' | 'staff') => (kind === 'lti' ? LTI_PARAMS : kind === 'callback' ? CALLBACK_FIELDS : STAFF_FIELDS);

  /** Pairs of (name, value), with duplicates on purpose. */
  function params(kind: 'lti' | 'callback' | 'staff', withLtik: boolean): Array<[string, string]> {
    const out: Array<[string, string]> = [];
    const n = r.pick([0, 1, 2, 3, 5, 8, 61, 70, 250]);
    for (let i = 0; i < n; i++) {
      const name = r.next() < 0.9 ? r.pick(paramNames(kind)) : `p${r.int(1000)}`;
      // qs-style keys: ltijs's Express 4 app re-parses the query into objects and arrays.
      out.push([r.next() < 0.1 ? `${name}${r.pick(['[]', '[$ne]', '[a][b]', '.x'])}` : name, values()]);
    }
    if (r.next() < 0.3 && out.length) out.push([out[0]![0], values()]); // duplicated parameter
    if (withLtik) out.push(['ltik', ctx.ltik()]);
    return out;
  }

  function encodeBody(pairs: Array<[string, string]>): { body: Buffer | null; headers: Record<string, string> } {
    const style = r.pick(['form', 'form', 'form', 'json', 'json-nested', 'text', 'bytes', 'none', 'multipart']);
    let body: Buffer | null;
    let type: string | null;
    switch (style) {
      case 'form':
        body = Buffer.from(new URLSearchParams(pairs).toString());
        type = 'application/x-www-form-urlencoded';
        break;
      case 'json':
        body = Buffer.from(JSON.stringify(Object.fromEntries(pairs)));
        type = 'application/json';
        break;
      case 'json-nested':
        body = Buffer.from(JSON.stringify(Object.fromEntries(pairs.map(([k, v]) => [k, r.pick([[], [v, v], { $ne: 1 }, { $gt: '' }, null, 1, true, v])]))));
        type = 'application/json';
        break;
      case 'text':
        body = Buffer.from(pairs.map(([k, v]) => `${k}=${v}`).join('\n'));
        type = 'text/plain';
        break;
      case 'bytes':
        body = Buffer.from(Array.from({ length: r.pick([1, 16, 1000, 70_000]) }, () => r.int(256)));
        type = r.pick(['application/x-www-form-urlencoded', 'application/json', 'application/octet-stream']);
        break;
      case 'multipart':
        body = Buffer.from('--x\r\nContent-Disposition: form-data; name="state"\r\n\r\na\r\n--x--\r\n');
        type = 'multipart/form-data; boundary=x';
        break;
      default:
        body = null;
        type = null;
    }
    const headers: Record<string, string> = {};
    if (type) {
      const charset = r.pick(['', '', '; charset=utf-8', '; charset=latin1', '; charset=utf-16', '; charset=iso-8859-1', '; charset=bogus', '; charset=utf-32']);
      headers['content-type'] = type + charset;
      if (charset.includes('utf-16') && body) body = Buffer.from(body.toString('utf8'), 'utf16le');
    }
    if (body && r.next() < 0.15) {
      const enc = r.pick(['gzip', 'deflate', 'br', 'gzip-broken', 'identity']);
      if (enc === 'gzip') body = gzipSync(body);
      if (enc === 'deflate') body = deflateSync(body);
      if (enc === 'gzip-broken') body = Buffer.concat([gzipSync(body).subarray(0, 10), Buffer.from('garbage')]);
      headers['content-encoding'] = enc === 'gzip-broken' ? 'gzip' : enc;
    }
    // A Content-Length one byte short (the rest reaches the parser as garbage). Not one too long:
    // the server then rightly waits for the missing bytes until Node's request timeout.
    if (body && body.length > 1 && r.next() < 0.05) headers['content-length'] = String(body.length - 1);
    return { body, headers };
  }

  const oddPath = (base: string) =>
    r.pick([
      () => base,
      () => `${base}/%ZZ`,
      () => `${base}%00`,
      () => `${base}/../../etc/passwd`,
      () => `${base}//`,
      () => `${base}/${'a'.repeat(r.pick([300, 5000]))}`,
      () => `${base}?${'q='.repeat(r.int(50))}`,
      () => `${base}/%E0%A4%A`,
      () => `${base}/ñ`.replace('ñ', '%C3%B1'),
    ])();

  return function next(): FuzzRequest {
    const target = r.pick(['callback', 'callback', 'window', 'login', 'launch', 'launch', 'register', 'staff', 'staff', 'learner-garbage', 'odd']);
    let method = 'POST';
    let path = '/';
    let kind: 'lti' | 'callback' | 'staff' = 'lti';
    let withLtik = false;
    switch (target) {
      case 'callback':
        path = `/cb/${r.pick(['ok', 'er', 'xx'])}/${r.next() < 0.8 ? `${token12()}.${token12()}${token12().slice(0, 10)}` : r.pick(['', 'a.b', '%ZZ', 'x'.repeat(200)])}`;
        kind = 'callback';
        method = r.pick(['POST', 'POST', 'POST', 'GET', 'PUT']);
        break;
      case 'window':
        path = `/sence/window/${r.pick([token12(), '%ZZ', 'x'.repeat(100)])}/${r.pick(['close', 'retry', 'other'])}`;
        kind = 'callback';
        break;
      case 'login':
        path = '/lti/login';
        method = r.pick(['GET', 'POST']);
        break;
      case 'launch':
        path = r.pick(['/lti', '/lti/', '/lti/deep-link']);
        break;
      case 'register':
        path = '/lti/register';
        method = r.pick(['GET', 'GET', 'POST']);
        break;
      case 'staff':
        path = r.pick(['/lti/staff/settings', '/lti/staff/otecs', '/lti/staff/otecs/otec-demo/unlink', '/lti/staff/audit', '/lti/staff/export/sessions.csv', '/lti/staff']);
        method = path.endsWith('audit') || path.endsWith('.csv') || path === '/lti/staff' ? 'GET' : 'POST';
        kind = 'staff';
        withLtik = r.next() < 0.7;
        break;
      case 'learner-garbage':
        path = r.pick(['/lti/sence/start', '/lti/sence/close', '/lti/api/status', '/lti/']);
        method = path === '/lti/api/status' ? 'GET' : 'POST';
        break;
      default:
        path = oddPath(r.pick(['/lti', '/cb/ok', '/sence/window', '/public', '/setup', '']));
        method = r.pick(['GET', 'POST', 'DELETE', 'OPTIONS', 'PATCH']);
    }
    if (target !== 'odd' && r.next() < 0.1) path = oddPath(path);
    const pairs = params(kind, withLtik);
    const headers: Record<string, string> = { accept: r.pick(['text/html', 'application/json', '*/*']) };
    if (r.next() < 0.2) headers.origin = r.pick(['null', 'https://atacante.example', ctx.publicUrl, ctx.issuer]);
    if (method === 'GET' || method === 'DELETE' || method === 'OPTIONS') {
      const q = new URLSearchParams(pairs).toString();
      if (q.length < 30_000) path += (path.includes('?') ? '&' : '?') + q;
      return { method, path, headers, body: null };
    }
    // A login with every parameter right would create rows: keep login requests malformed or foreign.
    if (target === 'login') pairs.push(['iss', r.next() < 0.5 ? 'https://no-registrada.example' : ctx.issuer], ['iss', 'duplicado']);
    const encoded = encodeBody(pairs);
    return { method, path, headers: { ...headers, ...encoded.headers }, body: encoded.body };
  };
}

function send(base: URL, req: FuzzRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const headers = { ...req.headers };
    if (req.body && headers['content-length'] === undefined) headers['content-length'] = String(req.body.length);
    const r = http.request({ host: base.hostname, port: base.port, method: req.method, path: req.path, headers, timeout: 10_000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    r.on('timeout', () => r.destroy(new Error(`no answer in 10 s: ${req.method} ${req.path.slice(0, 100)} ${JSON.stringify(req.headers)} ${req.body?.subarray(0, 200).toString('latin1') ?? ''}`)));
    r.on('error', (err) => {
      // A body shorter than its Content-Length makes the server wait: only a timeout is wrong then.
      if ((err as NodeJS.ErrnoException).code === 'ECONNRESET' || (err as NodeJS.ErrnoException).code === 'EPIPE') resolve(-1);
      else reject(err);
    });
    if (req.body) r.end(req.body);
    else r.end();
  });
}

function snapshot(file: string): Record<string, string> {
  const db = new BetterSqlite3(file, { readonly: true, fileMustExist: true });
  try {
    const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('app_audit') ORDER BY name").all();
    return Object.fromEntries(tables.map((t) => [t.name, JSON.stringify(db.prepare(`SELECT * FROM "${t.name}" ORDER BY rowid`).all())]));
  } finally {
    db.close();
  }
}

beforeAll(async () => {
  process.on('unhandledRejection', onRejection);
  sys = await startTestSystem({}, { rateLimits: { callbacksPerAddress: 1e9, callbacksPerAttempt: 1e9, loginsPerAddress: 1e9, registrationsPerAddress: 1e9 } });
  staffLtik = (await launchAs(sys, 'diego')).ltik;
});
afterAll(async () => {
  process.off('unhandledRejection', onRejection);
  await sys?.stop();
});

it(`${REQUESTS} seeded malformed requests (seed ${SEED}): zero 5xx, every request answered, same process serving, no stored row changed outside the audit log`, async () => {
  const before = snapshot(sys.config.sqliteFile);
  const next = generator(SEED, { issuer: sys.lms!.issuer, publicUrl: sys.config.publicUrl, ltik: () => staffLtik });
  const requests = Array.from({ length: REQUESTS }, next);
  const base = new URL(sys.url);
  const statuses = new Map<number, number>();
  const serverErrors: string[] = [];
  const started = Date.now();
  let i = 0;
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (i < requests.length) {
        const req = requests[i++]!;
        const status = await send(base, req);
        statuses.set(status, (statuses.get(status) ?? 0) + 1);
        if (status >= 500 || status === 0) serverErrors.push(`${status} ${req.method} ${req.path.slice(0, 120)} ${JSON.stringify(req.headers)}`);
      }
    }),
  );
  const elapsed = Date.now() - started;
  // The figures for the closing note.
  console.log(`fuzz seed=${SEED} requests=${REQUESTS} in ${elapsed} ms; statuses ${JSON.stringify(Object.fromEntries([...statuses.entries()].sort((a, b) => a[0] - b[0])))}`);
  expect(serverErrors.slice(0, 20)).toEqual([]);
  expect(elapsed).toBeLessThan(60_000);
  expect(rejections).toEqual([]);
  expect(sys.logger.lines.filter((l) => l.level === 'error').map((l) => `${l.message} ${String(l.fields.cause ?? l.fields.error ?? '')}`).slice(0, 10)).toEqual([]);
  // Same process, still serving.
  const health = await fetch(`${sys.url}/health`);
  expect(health.status).toBe(200);
  expect(sys.server.listening).toBe(true);
  // Nothing stored changed, except the audit log.
  const after = snapshot(sys.config.sqliteFile);
  for (const table of Object.keys(before)) expect([table, after[table]]).toEqual([table, before[table]]);
}, 120_000);
