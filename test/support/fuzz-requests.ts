/**
 * fast-check arbitraries of hostile HTTP requests against a route table (test/support/app-routes.ts),
 * for the fuzz (issue #19 §9). A request is generated as a small description (`FuzzCase`: route,
 * method, path variant, parameters, body encoding, sizes) that fast-check shrinks and prints; `toWire`
 * turns it into bytes. Names come from a dictionary: every `Object.prototype` member, `__proto__`,
 * `constructor.prototype`, bracketed and dotted keys, the real parameter names of the routes (LTI,
 * SENCE callback, staff forms), and random strings.
 */
import { gzipSync, deflateSync } from 'node:zlib';
import fc from 'fast-check';
import { CALLBACK_FIELDS } from '../../src/sence/verify-callback';
import { LTI_BODY_LIMIT, LTI_PARAMETER_COUNT_LIMIT, LTI_PARAMETER_LIMITS } from '../../src/web/request-shape';
import { MAX_UPLOAD_BYTES } from '../../src/domain/action-upload';
import type { AppRoute } from './app-routes';

/** What the fuzz knows of the running tool: its routes and real values to mix in. */
export interface FuzzContext {
  routes: AppRoute[];
  /** Named ltiks: 'staff', 'learner', 'deep-link'… (real ones, from launches). */
  ltiks: Record<string, string>;
  /** The course reference the pages send beside each ltik. */
  courses: Record<string, string>;
  issuer: string;
  clientId: string;
  publicUrl: string;
  /** Files under /public (the static mount). */
  publicFiles: string[];
}

/** Every name `Object.prototype` has (toString, constructor, __proto__, valueOf, hasOwnProperty…). */
export const PROTOTYPE_NAMES: readonly string[] = Object.getOwnPropertyNames(Object.prototype);

export const TRICKY_NAMES: readonly string[] = [
  '__proto__', 'constructor.prototype', 'constructor[prototype]', '__proto__[x]', '__proto__[toString]', 'constructor[prototype][x]',
  '__proto__.polluted', 'a[b]', 'a[]', 'a.b', 'a[b][c]', '[]', '[', ']', '.', '', 'client_id[$ne]', 'iss[]', 'state[a][b]', 'ltik[]',
  '$where', '$ne', 'prototype', 'length', 'then', 'toJSON', 'Symbol.iterator', '0', '-1', '4294967295', 'ñandú', 'a b', 'a%00b',
];

/** The parameter names the tool's routes read (src/web/routes/*, src/domain/course-settings.ts, src/web/launch-context.ts…). */
export const ROUTE_NAMES: readonly string[] = [
  ...LTI_PARAMETER_LIMITS.keys(),
  ...Object.keys(CALLBACK_FIELDS), 'k',
  // launch context and navigation
  'ltik', 'course', '_nav',
  // staff forms: course settings, OTECs, per-learner actions, the upload, the storage check
  'otecId', 'lineaCapacitacion', 'codSence', 'codigoCurso', 'requiredHours', 'environment', 'sessionLimitMinutes', 'warningMinutes',
  'name', 'rut', 'token', 'exempt', 'mode', 'archivo', 'pending', 'value', 'error',
  // query strings of the staff pages
  'resultado', 'estudiante', 'estado', 'orden', 'accion', 'q', 'guardado', 'actualizar',
  // dynamic registration
  'openid_configuration', 'registration_token', 'invite',
];

const BASE_NAMES = [...PROTOTYPE_NAMES, ...TRICKY_NAMES, ...ROUTE_NAMES];
const SUFFIXES = ['[]', '[$ne]', '[a]', '[__proto__]', '[constructor]', '[toString]', '.x', '.__proto__', '[0]'];

export const BODY_LIMIT_BYTES = parseInt(LTI_BODY_LIMIT, 10) * 1024;

/** A value, as generated: a literal, a real value of the tool, or a length to fill to. */
export type ValueSpec = string | { real: string } | { repeat: number };

export type JsonValue = null | boolean | number | string | JsonValue[] | { [k: string]: JsonValue };

export type BodySpec =
  | { kind: 'none' }
  | { kind: 'form'; charset: string | null; pairs: Array<[string, ValueSpec]>; pad?: number; count?: number }
  | { kind: 'json'; charset: string | null; pairs: Array<[string, ValueSpec | JsonValue]>; pad?: number; nesting?: number }
  | { kind: 'json-raw'; text: string }
  | { kind: 'multipart'; pairs: Array<[string, ValueSpec]>; file: { field: string; name: string; size: number; type: string } | null }
  | { kind: 'text'; type: string; text: string }
  | { kind: 'bytes'; type: string; size: number };

export interface FuzzCase {
  route: string;
  method: string;
  pathVariant: string;
  /** Values for the route's `:params` and a tail for mounts and static. */
  params: ValueSpec[];
  tail: string;
  query: Array<[string, ValueSpec]>;
  ltik: { which: string; where: 'query' | 'body' | 'bearer' } | null;
  course: boolean;
  body: BodySpec;
  encoding: 'identity' | 'gzip' | 'deflate' | 'gzip-broken' | 'br' | null;
  origin: string | null;
  accept: string;
}

export interface WireRequest {
  method: string;
  path: string;
  headers: Record<string, string>;
  body: Buffer | null;
}

const upperSome = (s: string) => s.replace(/[a-z]/g, (c, i: number) => (i % 2 === 0 ? c.toUpperCase() : c));

const PATH_VARIANTS: Record<string, (p: string) => string> = {
  'as-is': (p) => p,
  upper: (p) => p.toUpperCase(),
  'mixed-case': upperSome,
  'dot-%2E': (p) => p.replace(/\./g, '%2E'),
  'dot-%2e': (p) => p.replace(/\./g, '%2e'),
  'slash-%2F': (p) => p.replace(/\/(?=[^/]*$)/, '%2F'),
  'double-slash': (p) => p.replace(/\//g, '//'),
  'leading-double-slash': (p) => `/${p}`,
  'trailing-slash': (p) => `${p}/`,
  'dot-dot': (p) => `${p}/../${p.split('/').filter(Boolean).pop() ?? ''}`,
  'dot-dot-%2e': (p) => `${p}/%2e%2e/${p.split('/').filter(Boolean).pop() ?? ''}`,
  'dot-segment': (p) => p.replace(/\//, '/./'),
  'encoded-letter': (p) => p.replace(/[a-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
  'bad-percent': (p) => `${p}/%ZZ`,
  'nul': (p) => `${p}%00`,
  'semicolon': (p) => `${p};jsessionid=1`,
  'long-segment': (p) => `${p}/${'a'.repeat(5000)}`,
  'hash': (p) => `${p}#frag`,
};

export const METHODS = ['GET', 'POST', 'PUT', 'DELETE', 'PATCH', 'OPTIONS', 'HEAD', 'post', 'Get', 'PROPFIND', 'TRACE'];

export function requestArbitrary(ctx: FuzzContext): fc.Arbitrary<FuzzCase> {
  const routeKeys = ctx.routes.map((r) => `${r.methods.join(',')} ${r.path}`);
  const byKey = new Map(ctx.routes.map((r, i) => [routeKeys[i]!, r]));
  const realValues = Object.keys(realValueTable(ctx));

  const name: fc.Arbitrary<string> = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...BASE_NAMES) },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...BASE_NAMES), fc.constantFrom(...SUFFIXES)).map(([n, s]) => n + s) },
    { weight: 1, arbitrary: fc.string({ maxLength: 12 }) },
  );
  const limits = [...LTI_PARAMETER_LIMITS.entries()];
  const value: fc.Arbitrary<ValueSpec> = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom('', 'a', '1', '0', '-1', 'true', 'null', '[object Object]', '{"$ne":1}', '%ZZ%00%', '\u0000\u0001\r\n', 'ñandú "x" <script>alert(1)</script>', '=HYPERLINK("http://x")', '＝1+2', '12345678-5', '15432987-0', 'production', 'test', 'own', 'default', 'rechazados', 'aceptados', 'A1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D', 'eyJhbGciOiJSUzI1NiJ9.eyJpc3MiOiJ4In0.c2ln', 'toString', '__proto__', 'constructor') },
    { weight: 3, arbitrary: fc.constantFrom(...realValues).map((real) => ({ real })) },
    // At each LTI limit and one past it.
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...limits), fc.constantFrom(0, 1)).map(([[, limit], d]) => ({ repeat: limit + d })) },
    { weight: 1, arbitrary: fc.string({ maxLength: 40, unit: 'binary' }) },
  );
  const pairs = (max: number) => fc.array(fc.tuple(name, value), { maxLength: max });
  /** Pairs with duplicated names on purpose. */
  const pairsWithDuplicates = fc.oneof(
    { weight: 4, arbitrary: pairs(8) },
    { weight: 1, arbitrary: fc.tuple(name, value, value).map(([n, a, b]): Array<[string, ValueSpec]> => [[n, a], [n, b]]) },
  );
  const json: fc.Arbitrary<JsonValue> = fc.letrec<{ v: JsonValue }>((tie) => ({
    v: fc.oneof(
      { depthSize: 'small', withCrossShrink: true },
      fc.constantFrom<JsonValue>(null, true, false, 0, 1e308, -1, '', 'x', '[object Object]'),
      fc.array(tie('v'), { maxLength: 3 }),
      fc.dictionary(name, tie('v'), { maxKeys: 3 }),
    ),
  })).v;
  const charset = fc.constantFrom(null, 'utf-8', 'UTF-8', 'iso-8859-1', 'latin1', 'utf-16', 'utf-16le', 'utf-32', 'bogus', 'us-ascii', 'koi8-r');

  const body: fc.Arbitrary<BodySpec> = fc.oneof(
    { weight: 2, arbitrary: fc.constant<BodySpec>({ kind: 'none' }) },
    { weight: 5, arbitrary: fc.record({ kind: fc.constant('form' as const), charset, pairs: pairsWithDuplicates }) },
    // At the body size limit and past it; at the parameter count limit and past it.
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('form' as const), charset: fc.constant(null), pairs: pairs(2), pad: fc.constantFrom(BODY_LIMIT_BYTES, BODY_LIMIT_BYTES + 1, 32 * 1024, 32 * 1024 + 1) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('form' as const), charset: fc.constant(null), pairs: pairs(2), count: fc.constantFrom(LTI_PARAMETER_COUNT_LIMIT, LTI_PARAMETER_COUNT_LIMIT + 1, 60, 61) }) },
    { weight: 3, arbitrary: fc.record({ kind: fc.constant('json' as const), charset, pairs: fc.array(fc.tuple(name, fc.oneof(value, json)), { maxLength: 6 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('json' as const), charset: fc.constant(null), pairs: pairs(2), pad: fc.constantFrom(BODY_LIMIT_BYTES, BODY_LIMIT_BYTES + 1) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('json' as const), charset: fc.constant(null), pairs: pairs(2), nesting: fc.constantFrom(50, 5000) }) },
    {
      weight: 2,
      arbitrary: fc.oneof(
        // Not strict JSON, duplicate keys, broken JSON.
        fc.constantFrom('"ltik"', '1', 'null', '[1,2]', '{"a":1,"a":2}', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', '{"toString":"1"}', '{', '{"a":', '\ufeff{}', '{"state":"a","state":"b"}'),
        fc.tuple(name, name).map(([a, b]) => `{${JSON.stringify(a)}:"1",${JSON.stringify(b)}:"2",${JSON.stringify(a)}:["3"]}`),
      ).map((text): BodySpec => ({ kind: 'json-raw', text })),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        kind: fc.constant('multipart' as const),
        pairs: pairs(7),
        file: fc.option(
          fc.record({
            field: fc.oneof(fc.constant('archivo'), name),
            name: fc.constantFrom('acciones.csv', '', '../../etc/passwd', 'ñ.csv', 'toString', '__proto__'),
            size: fc.constantFrom(0, 10, MAX_UPLOAD_BYTES, MAX_UPLOAD_BYTES + 1),
            type: fc.constantFrom('text/csv', 'application/octet-stream', ''),
          }),
        ),
      }),
    },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('text' as const), type: fc.constantFrom('text/plain', 'text/plain; charset=utf-16', 'application/xml', 'application/x-www-form-urlencoded; charset=bogus'), text: fc.string({ maxLength: 60 }) }) },
    { weight: 1, arbitrary: fc.record({ kind: fc.constant('bytes' as const), type: fc.constantFrom('application/octet-stream', 'application/json', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'multipart/form-data', ''), size: fc.constantFrom(1, 100, BODY_LIMIT_BYTES + 1) }) },
  );

  return fc
    .constantFrom(...routeKeys)
    .chain((route) => {
      const r = byKey.get(route)!;
      const own = r.methods.includes('ALL') ? ['GET', 'POST'] : r.methods;
      const paramCount = (r.path.match(/:[A-Za-z_]+/g) ?? []).length;
      return fc.record({
        route: fc.constant(route),
        method: fc.oneof({ weight: 8, arbitrary: fc.constantFrom(...own) }, { weight: 2, arbitrary: fc.constantFrom(...METHODS) }),
        pathVariant: fc.oneof({ weight: 12, arbitrary: fc.constant('as-is') }, { weight: 5, arbitrary: fc.constantFrom(...Object.keys(PATH_VARIANTS)) }),
        params: fc.array(value, { minLength: paramCount, maxLength: paramCount }),
        tail:
          r.kind === 'static'
            ? fc.oneof(fc.constantFrom(...ctx.publicFiles, '', '..%2f..%2fpackage.json', '%2e%2e/%2e%2e/package.json', 'no-existe.js'), name)
            : r.kind === 'mount'
              ? fc.oneof(fc.constant(''), name, fc.constantFrom('x', 'a/b', 'toString', '__proto__'))
              : fc.constant(''),
        query: fc.oneof({ weight: 3, arbitrary: fc.constant([] as Array<[string, ValueSpec]>) }, { weight: 2, arbitrary: pairsWithDuplicates }),
        ltik: fc.option(fc.record({ which: fc.constantFrom(...Object.keys(ctx.ltiks), 'garbage', 'empty'), where: fc.constantFrom('query' as const, 'body' as const, 'bearer' as const) }), { freq: 2 }),
        course: fc.boolean(),
        body,
        encoding: fc.oneof({ weight: 10, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.constantFrom('identity' as const, 'gzip' as const, 'deflate' as const, 'gzip-broken' as const, 'br' as const) }),
        origin: fc.constantFrom(null, null, null, 'null', 'https://atacante.example', ctx.publicUrl, new URL(ctx.issuer).origin),
        accept: fc.constantFrom('text/html', 'application/json', '*/*'),
      });
    });
}

/** Real values of the running tool a value spec can name. */
function realValueTable(ctx: FuzzContext): Record<string, string> {
  const table: Record<string, string> = Object.create(null) as Record<string, string>;
  table.issuer = ctx.issuer;
  table.clientId = ctx.clientId;
  table.publicUrl = ctx.publicUrl;
  table.launchUrl = `${ctx.publicUrl}/lti`;
  table['callback-token'] = 'AbCdEfGhIjKl.MnOpQrStUvWxYzAbCdEfGhIj';
  for (const [k, v] of Object.entries(ctx.ltiks)) table[`ltik:${k}`] = v;
  for (const [k, v] of Object.entries(ctx.courses)) table[`course:${k}`] = v;
  return table;
}

function valueOf(spec: ValueSpec, real: Record<string, string>): string {
  if (typeof spec === 'string') return spec;
  if ('real' in spec) return real[spec.real] ?? '';
  return 'x'.repeat(spec.repeat);
}

function fillPath(pattern: string, params: string[]): string {
  let i = 0;
  return pattern.replace(/:[A-Za-z_]+/g, () => encodeURIComponent(params[i++] ?? 'x'));
}

function jsonFrom(pairs: Array<[string, ValueSpec | JsonValue]>, real: Record<string, string>): string {
  // Written by hand so duplicate keys and `__proto__` keys reach the wire as generated.
  const parts = pairs.map(([k, v]) => {
    const isSpec = typeof v === 'string' || (v !== null && typeof v === 'object' && !Array.isArray(v) && ('real' in v || 'repeat' in v) && Object.keys(v).length === 1);
    const value = isSpec ? JSON.stringify(valueOf(v as ValueSpec, real)) : JSON.stringify(v);
    return `${JSON.stringify(k)}:${value}`;
  });
  return `{${parts.join(',')}}`;
}

const encodeForm = (pairs: Array<[string, string]>) => pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

/** The bytes of a case. */
export function toWire(c: FuzzCase, ctx: FuzzContext): WireRequest {
  const real = realValueTable(ctx);
  const route = ctx.routes.find((r) => `${r.methods.join(',')} ${r.path}` === c.route);
  const pattern = route?.path ?? '/';
  let path = fillPath(pattern, c.params.map((p) => valueOf(p, real)));
  if (c.tail) path = `${path.replace(/\/$/, '')}/${c.tail}`;
  path = (PATH_VARIANTS[c.pathVariant] ?? PATH_VARIANTS['as-is']!)(path);

  const headers: Record<string, string> = { accept: c.accept };
  if (c.origin) headers.origin = c.origin;
  const ltikValue = c.ltik ? (c.ltik.which === 'garbage' ? 'eyJhbGciOiJIUzI1NiJ9.e30.x' : c.ltik.which === 'empty' ? '' : (ctx.ltiks[c.ltik.which] ?? '')) : null;
  const courseValue = c.course ? (ctx.courses[c.ltik?.which ?? 'staff'] ?? Object.values(ctx.courses)[0] ?? '') : null;
  const extra: Array<[string, string]> = [];
  const query = c.query.map(([k, v]): [string, string] => [k, valueOf(v, real)]);
  if (ltikValue !== null) {
    if (c.ltik!.where === 'query') query.push(['ltik', ltikValue]);
    else if (c.ltik!.where === 'bearer') headers.authorization = `Bearer ${ltikValue}`;
    else extra.push(['ltik', ltikValue]);
  }
  if (courseValue !== null) extra.push(['course', courseValue]);
  if (query.length) path += (path.includes('?') ? '&' : '?') + encodeForm(query);

  let body: Buffer | null = null;
  let type: string | null = null;
  const b = c.body;
  switch (b.kind) {
    case 'none':
      if (extra.length && c.method.toUpperCase() !== 'GET' && c.method.toUpperCase() !== 'HEAD') {
        body = Buffer.from(encodeForm(extra));
        type = 'application/x-www-form-urlencoded';
      }
      break;
    case 'form': {
      const all = [...b.pairs.map(([k, v]): [string, string] => [k, valueOf(v, real)]), ...extra];
      if (b.count) for (let i = all.length; i < b.count; i++) all.push([`p${i}`, '1']);
      let text = encodeForm(all);
      if (b.pad) {
        const prefix = text ? `${text}&relleno=` : 'relleno=';
        text = prefix + 'x'.repeat(Math.max(0, b.pad - Buffer.byteLength(prefix)));
      }
      body = b.charset && /^utf-?16/i.test(b.charset) ? Buffer.from(text, 'utf16le') : Buffer.from(text, b.charset && /8859|latin/i.test(b.charset) ? 'latin1' : 'utf8');
      type = `application/x-www-form-urlencoded${b.charset ? `; charset=${b.charset}` : ''}`;
      break;
    }
    case 'json': {
      let pairs: Array<[string, ValueSpec | JsonValue]> = [...b.pairs, ...extra];
      let text = jsonFrom(pairs, real);
      if (b.nesting) text = `{"a":${'['.repeat(b.nesting)}${']'.repeat(b.nesting)}${text.length > 2 ? `,${text.slice(1, -1)}` : ''}}`;
      if (b.pad) {
        pairs = [...pairs, ['relleno', '']];
        const without = Buffer.byteLength(jsonFrom(pairs, real));
        pairs[pairs.length - 1] = ['relleno', 'x'.repeat(Math.max(0, b.pad - without))];
        text = jsonFrom(pairs, real);
      }
      body = b.charset && /^utf-?16/i.test(b.charset) ? Buffer.from(text, 'utf16le') : Buffer.from(text);
      type = `application/json${b.charset ? `; charset=${b.charset}` : ''}`;
      break;
    }
    case 'json-raw':
      body = Buffer.from(b.text);
      type = 'application/json';
      break;
    case 'multipart': {
      const boundary = '----fuzz7d1f';
      const parts: Buffer[] = [];
      for (const [k, v] of [...b.pairs.map(([k, v]): [string, string] => [k, valueOf(v, real)]), ...extra]) {
        parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${k.replace(/["\r\n]/g, '_')}"\r\n\r\n${v}\r\n`));
      }
      if (b.file) {
        parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${b.file.field.replace(/["\r\n]/g, '_')}"; filename="${b.file.name}"\r\n${b.file.type ? `Content-Type: ${b.file.type}\r\n` : ''}\r\n`));
        parts.push(Buffer.alloc(b.file.size, 'a'));
        parts.push(Buffer.from('\r\n'));
      }
      parts.push(Buffer.from(`--${boundary}--\r\n`));
      body = Buffer.concat(parts);
      type = `multipart/form-data; boundary=${boundary}`;
      break;
    }
    case 'text':
      body = Buffer.from(b.text);
      type = b.type;
      break;
    case 'bytes':
      body = Buffer.alloc(b.size);
      for (let i = 0; i < b.size; i++) body[i] = (i * 131 + 7) & 0xff;
      type = b.type || null;
      break;
  }
  if (type) headers['content-type'] = type;
  if (body && c.encoding) {
    if (c.encoding === 'gzip') body = gzipSync(body);
    if (c.encoding === 'deflate') body = deflateSync(body);
    if (c.encoding === 'gzip-broken') body = Buffer.concat([gzipSync(body).subarray(0, 10), Buffer.from('basura')]);
    headers['content-encoding'] = c.encoding === 'gzip-broken' ? 'gzip' : c.encoding;
  }
  return { method: c.method, path, headers, body };
}
