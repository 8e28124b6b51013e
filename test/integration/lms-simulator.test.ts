/**
 * The LMS simulator is a real LTI 1.3 platform: these tests talk to it over HTTP on 127.0.0.1,
 * with a tiny fake tool (its own RSA key, JWKS, a login endpoint that behaves like ltijs's, and
 * launch endpoints that record the form_post).
 */
import { createPublicKey, generateKeyPairSync, randomUUID, type JsonWebKey, type KeyObject } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import jwt from 'jsonwebtoken';
import { DEMO_USERS, startLmsSimulator, type LmsSimulator, type SimUser } from '../../src/simulators/lms';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';
const DL_SETTINGS = 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings';
const AGS = 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint';
const NRPS = 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice';
const LEARNER = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner';
const INSTRUCTOR = 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor';
const INST_INSTRUCTOR = 'http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor';
const SCOPES = {
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineItemRo: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  result: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
};

// ---------------------------------------------------------------- fake tool

interface FakeTool {
  base: string;
  key: KeyObject;
  kid: string;
  jwksFetches: number;
  posts: Array<{ path: string; body: Record<string, string> }>;
  /** state → nonce of the logins it started, like ltijs. */
  logins: Map<string, string>;
  server: http.Server;
}

async function startFakeTool(platformAuthUrl: () => string): Promise<FakeTool> {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const tool: FakeTool = { base: '', key: privateKey, kid: 'tool-key-1', jwksFetches: 0, posts: [], logins: new Map(), server: http.createServer() };
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.get('/lti/keys', (_req, res) => {
    tool.jwksFetches += 1;
    res.json({ keys: [{ ...publicKey.export({ format: 'jwk' }), kid: tool.kid, alg: 'RS256', use: 'sig' }] });
  });
  // What ltijs does at /login: redirect to the platform's auth endpoint (REFERENCE §1.5).
  app.post('/lti/login', (req, res) => {
    const b = req.body as Record<string, string>;
    const state = randomUUID();
    const nonce = randomUUID();
    tool.logins.set(state, nonce);
    const q = new URLSearchParams({
      response_type: 'id_token',
      response_mode: 'form_post',
      id_token_signed_response_alg: 'RS256',
      scope: 'openid',
      client_id: b.client_id ?? '',
      redirect_uri: b.target_link_uri ?? '',
      login_hint: b.login_hint ?? '',
      nonce,
      prompt: 'none',
      state,
    });
    if (b.lti_message_hint) q.set('lti_message_hint', b.lti_message_hint);
    if (b.lti_deployment_id) q.set('lti_deployment_id', b.lti_deployment_id);
    res.redirect(302, `${platformAuthUrl()}?${q.toString()}`);
  });
  app.post(['/lti', '/lti/deep-link'], (req, res) => {
    tool.posts.push({ path: req.path, body: req.body as Record<string, string> });
    res.type('text').send('ok');
  });
  tool.server.on('request', app);
  await new Promise<void>((resolve) => tool.server.listen(0, '127.0.0.1', resolve));
  tool.base = `http://localhost:${(tool.server.address() as AddressInfo).port}`;
  return tool;
}

function closeServer(s: http.Server): Promise<void> {
  return new Promise((resolve) => {
    s.close(() => resolve());
    s.closeAllConnections();
  });
}

// ---------------------------------------------------------------- helpers

let tool: FakeTool;
let sim: LmsSimulator;

beforeAll(async () => {
  tool = await startFakeTool(() => sim.platform.authenticationEndpoint);
  sim = await startLmsSimulator({
    port: 0,
    tool: {
      loginUrl: `${tool.base}/lti/login`,
      launchUrl: `${tool.base}/lti`,
      jwksUrl: `${tool.base}/lti/keys`,
      deepLinkUrl: `${tool.base}/lti/deep-link`,
    },
  });
});

afterAll(async () => {
  await sim?.close();
  if (tool) await closeServer(tool.server);
});

async function simJwksKey(kid: string): Promise<KeyObject> {
  const jwks = (await (await fetch(`${sim.url}/jwks`)).json()) as { keys: Array<JsonWebKey & { kid: string }> };
  const jwk = jwks.keys.find((k) => k.kid === kid);
  if (!jwk) throw new Error(`kid ${kid} not in JWKS`);
  return createPublicKey({ key: jwk, format: 'jwk' });
}

/** Verifies an id_token the way a tool must: JWKS key by kid, RS256, iss, aud. */
async function verifyIdToken(token: string): Promise<Record<string, unknown>> {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.header.kid !== 'string') throw new Error('no kid');
  const key = await simJwksKey(decoded.header.kid);
  return jwt.verify(token, key, { algorithms: ['RS256'], issuer: sim.issuer, audience: sim.clientId }) as Record<string, unknown>;
}

/** Valid authorization request parameters for a user (what the fake tool's login would send). */
function authParams(userId: string, over: Record<string, string | undefined> = {}, messageType?: 'LtiDeepLinkingRequest'): URLSearchParams {
  const init = sim.loginInitiation(userId, messageType ? { messageType } : undefined);
  const base: Record<string, string | undefined> = {
    response_type: 'id_token',
    response_mode: 'form_post',
    scope: 'openid',
    client_id: sim.clientId,
    redirect_uri: init.target_link_uri,
    login_hint: userId,
    nonce: 'nonce-123',
    prompt: 'none',
    state: 'state-456',
    lti_message_hint: init.lti_message_hint,
    lti_deployment_id: init.lti_deployment_id,
    ...over,
  };
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(base)) if (v !== undefined) q.set(k, v);
  return q;
}

async function getPage(path: string): Promise<{ status: number; html: string; csp: string }> {
  const res = await fetch(`${sim.url}${path}`);
  return { status: res.status, html: await res.text(), csp: res.headers.get('content-security-policy') ?? '' };
}

/** Reads the first form (action + hidden inputs) of an HTML page the simulator rendered. */
function readForm(html: string, id: string): { action: string; target: string | null; fields: Record<string, string> } {
  const m = new RegExp(`<form id="${id}"[^>]*action="([^"]*)"([^>]*)>([\\s\\S]*?)</form>`).exec(html);
  if (!m) throw new Error(`form ${id} not found`);
  const fields: Record<string, string> = {};
  for (const f of (m[3] ?? '').matchAll(/<input type="hidden" name="([^"]*)" value="([^"]*)">/g)) {
    fields[f[1] ?? ''] = (f[2] ?? '').replace(/&quot;/g, '"').replace(/&#39;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&amp;/g, '&');
  }
  const target = /target="([^"]*)"/.exec(m[2] ?? '')?.[1] ?? null;
  return { action: m[1] ?? '', target, fields };
}

/** Course page → POST login to the fake tool → 302 to /auth → form_post to the tool. Returns the recorded post. */
async function launchThroughCoursePage(userId: string, formId: 'lti-launch' | 'lti-deep-link' = 'lti-launch') {
  const page = await getPage(`/course?user=${userId}`);
  expect(page.status).toBe(200);
  const login = readForm(page.html, formId);
  expect(login.action).toBe(`${tool.base}/lti/login`);
  expect(login.target).toBe('tool-frame');
  const loginRes = await fetch(login.action, { method: 'POST', body: new URLSearchParams(login.fields), redirect: 'manual' });
  expect(loginRes.status).toBe(302);
  const location = loginRes.headers.get('location') ?? '';
  expect(location.startsWith(`${sim.url}/auth?`)).toBe(true);
  const auth = await sim.authorize(location);
  expect(auth.status).toBe(200);
  expect(auth.action).not.toBeNull();
  const before = tool.posts.length;
  const post = await fetch(auth.action ?? '', { method: 'POST', body: new URLSearchParams(auth.fields) });
  expect(post.status).toBe(200);
  expect(tool.posts.length).toBe(before + 1);
  const recorded = tool.posts[tool.posts.length - 1]!;
  const state = new URL(location).searchParams.get('state') ?? '';
  return { login, location, recorded, state, expectedNonce: tool.logins.get(state) };
}

function clientAssertion(over: Record<string, unknown> = {}, opts: { key?: KeyObject; kid?: string } = {}): string {
  return jwt.sign({ iss: sim.clientId, sub: sim.clientId, aud: sim.platform.accesstokenEndpoint, jti: randomUUID(), ...over }, opts.key ?? tool.key, {
    algorithm: 'RS256',
    expiresIn: 60,
    keyid: opts.kid ?? tool.kid,
  });
}

async function requestToken(assertion: string, scope: string, extra: Record<string, string> = {}): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(sim.platform.accesstokenEndpoint, {
    method: 'POST',
    body: new URLSearchParams({
      grant_type: 'client_credentials',
      client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
      client_assertion: assertion,
      scope,
      ...extra,
    }),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

async function bearer(...scopes: string[]): Promise<string> {
  const r = await requestToken(clientAssertion(), scopes.join(' '));
  expect(r.status).toBe(200);
  return r.body.access_token as string;
}

// ---------------------------------------------------------------- tests

describe('JWKS and registration data', () => {
  test('GET /jwks serves one public RS256 signing key with a kid', async () => {
    const res = await fetch(`${sim.url}/jwks`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as { keys: Array<Record<string, unknown>> };
    expect(body.keys).toHaveLength(1);
    const k = body.keys[0]!;
    expect(k).toEqual({ kty: 'RSA', n: expect.any(String), e: 'AQAB', kid: expect.any(String), alg: 'RS256', use: 'sig' });
    expect(k).not.toHaveProperty('d');
  });

  test('platform has the ltijs registerPlatform shape', () => {
    expect(sim.url).toMatch(/^http:\/\/localhost:\d+$/);
    expect(sim.issuer).toBe(sim.url);
    expect(sim.platform).toEqual({
      url: sim.url,
      name: 'Simulador LMS',
      clientId: 'asistencia-sence-demo',
      authenticationEndpoint: `${sim.url}/auth`,
      accesstokenEndpoint: `${sim.url}/token`,
      authConfig: { method: 'JWK_SET', key: `${sim.url}/jwks` },
    });
    expect(sim.deploymentId).toBe('1');
    expect(sim.users.map((u) => u.id)).toEqual(['ana', 'bruno', 'camila', 'elena', 'diego']);
  });
});

describe('pages', () => {
  test('home page lists the course and one launch button per user, in Spanish, with a CSP', async () => {
    const page = await getPage('/');
    expect(page.status).toBe(200);
    expect(page.html).toContain('<html lang="es">');
    expect(page.html).toContain('Simulador de LMS (no es un LMS real)');
    expect(page.html).toContain('Excel para planillas de cálculo (demo SENCE)');
    for (const name of ['Ana Pérez', 'Bruno Soto', 'Camila Rojas', 'Diego Fuentes']) {
      expect(page.html).toContain(`<button type="submit">Entrar como ${name}</button>`);
    }
    expect(page.csp).toContain("default-src 'none'");
    expect(page.csp).toContain("form-action 'self'");
  });

  test('course page embeds the tool iframe and auto-posts the login initiation into it', async () => {
    const page = await getPage('/course?user=ana');
    expect(page.status).toBe(200);
    expect(page.html).toMatch(/<iframe name="tool-frame" id="tool-frame" title="Asistencia SENCE" allow="[^"]+"><\/iframe>/);
    expect(page.html).toContain('Ana Pérez');
    expect(page.html).toContain('Estudiante');
    const form = readForm(page.html, 'lti-launch');
    expect(form.fields).toEqual({
      iss: sim.issuer,
      login_hint: 'ana',
      target_link_uri: `${tool.base}/lti`,
      client_id: sim.clientId,
      lti_message_hint: expect.any(String),
      lti_deployment_id: '1',
    });
    expect(page.html).not.toContain('Agregar actividad');
    const nonce = /script-src 'nonce-([^']+)'/.exec(page.csp)?.[1];
    expect(nonce).toBeDefined();
    expect(page.html).toContain(`<script nonce="${nonce}">document.getElementById("lti-launch").submit();</script>`);
    expect(page.csp).toContain(`form-action 'self' ${tool.base}`);
    expect(page.csp).toContain(`frame-src 'self' ${tool.base}`);
  });

  test('instructor course page also offers the content selector', async () => {
    const page = await getPage('/course?user=diego');
    expect(page.html).toContain('Docente');
    const dl = readForm(page.html, 'lti-deep-link');
    expect(dl.fields.target_link_uri).toBe(`${tool.base}/lti/deep-link`);
    expect(page.html).toContain('Agregar actividad (selector de contenido)');
  });

  test('unknown user → 404 page', async () => {
    const page = await getPage('/course?user=nadie');
    expect(page.status).toBe(404);
    expect(page.html).toContain('Usuario desconocido');
  });
});

describe('authorization endpoint: happy paths', () => {
  test('learner launch: course page → tool login → /auth → form_post with a verifiable Moodle-like id_token', async () => {
    const { recorded, state, expectedNonce } = await launchThroughCoursePage('ana');
    expect(recorded.path).toBe('/lti');
    expect(recorded.body.state).toBe(state);
    const header = jwt.decode(recorded.body.id_token ?? '', { complete: true })?.header;
    expect(header).toMatchObject({ alg: 'RS256', kid: expect.any(String) });
    const c = await verifyIdToken(recorded.body.id_token ?? '');
    expect(c.nonce).toBe(expectedNonce);
    expect(c).toMatchObject({
      iss: sim.issuer,
      aud: sim.clientId,
      azp: sim.clientId,
      sub: 'ana',
      name: 'Ana Pérez',
      given_name: 'Ana',
      family_name: 'Pérez',
      email: 'ana.perez@example.com',
      [`${LTI}message_type`]: 'LtiResourceLinkRequest',
      [`${LTI}version`]: '1.3.0',
      [`${LTI}deployment_id`]: '1',
      [`${LTI}target_link_uri`]: `${tool.base}/lti`,
      [`${LTI}resource_link`]: { id: 'asistencia-sence-1', title: 'Asistencia SENCE' },
      [`${LTI}roles`]: [LEARNER],
      [`${LTI}context`]: {
        id: 'curso-demo-sence',
        label: 'SENCE-101',
        title: 'Excel para planillas de cálculo (demo SENCE)',
        type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'],
      },
      [`${LTI}lis`]: { person_sourcedid: '', course_section_sourcedid: 'SENCE-101' },
      [`${LTI}custom`]: { rut: '12.345.678-5' },
      [`${LTI}tool_platform`]: { guid: 'localhost', name: 'Simulador LMS', product_family_code: 'asistencia-sence-simulator', version: expect.any(String) },
      [`${LTI}launch_presentation`]: { document_target: 'iframe', return_url: `${sim.url}/course?user=ana`, locale: 'es' },
      [`${LTI}ext`]: { user_username: 'ana', lms: 'moodle-2' },
      [AGS]: {
        scope: [SCOPES.lineItem, SCOPES.lineItemRo, SCOPES.score, SCOPES.result],
        lineitems: `${sim.url}/api/courses/curso-demo-sence/lineitems`,
        lineitem: `${sim.url}/api/courses/curso-demo-sence/lineitems/1`,
      },
      [NRPS]: { context_memberships_url: `${sim.url}/api/courses/curso-demo-sence/memberships`, service_versions: ['2.0'] },
    });
    expect((c.exp as number) - (c.iat as number)).toBe(300);
    expect(Math.abs((c.iat as number) - Date.now() / 1000)).toBeLessThan(5);
    expect(c).not.toHaveProperty(DL_SETTINGS);
  });

  test('RUN variants: bruno gets the unsubstituted $User.username, camila only lis.person_sourcedid', async () => {
    const bruno = await verifyIdToken((await launchThroughCoursePage('bruno')).recorded.body.id_token ?? '');
    expect(bruno[`${LTI}custom`]).toEqual({ rut: '$User.username' });
    expect(bruno[`${LTI}lis`]).toEqual({ person_sourcedid: '', course_section_sourcedid: 'SENCE-101' });
    const camila = await verifyIdToken((await launchThroughCoursePage('camila')).recorded.body.id_token ?? '');
    expect(camila[`${LTI}custom`]).toEqual({});
    expect(camila[`${LTI}lis`]).toEqual({ person_sourcedid: '9876543-3', course_section_sourcedid: 'SENCE-101' });
  });

  test('instructor launch carries membership and institution Instructor roles, no rut', async () => {
    const c = await verifyIdToken((await launchThroughCoursePage('diego')).recorded.body.id_token ?? '');
    expect(c.sub).toBe('diego');
    expect(c[`${LTI}roles`]).toEqual([INSTRUCTOR, INST_INSTRUCTOR]);
    expect(c[`${LTI}custom`]).toEqual({});
  });

  test('deep-linking launch posts an LtiDeepLinkingRequest to the deep-link URL', async () => {
    const { recorded } = await launchThroughCoursePage('diego', 'lti-deep-link');
    expect(recorded.path).toBe('/lti/deep-link');
    const c = await verifyIdToken(recorded.body.id_token ?? '');
    expect(c[`${LTI}message_type`]).toBe('LtiDeepLinkingRequest');
    expect(c[`${LTI}target_link_uri`]).toBe(`${tool.base}/lti/deep-link`);
    expect(c).not.toHaveProperty(`${LTI}resource_link`);
    expect(c[DL_SETTINGS]).toEqual({
      deep_link_return_url: `${sim.url}/deep-linking/return`,
      accept_types: ['ltiResourceLink'],
      accept_presentation_document_targets: ['iframe', 'window'],
      accept_multiple: false,
      auto_create: true,
      data: expect.stringMatching(/^dl-/),
    });
  });

  test('POST /auth works too, and the response page is escaped, CSP-protected and auto-submitting', async () => {
    const res = await fetch(`${sim.url}/auth`, { method: 'POST', body: authParams('ana', { state: 'a"b<c>&d' }) });
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('value="a&quot;b&lt;c&gt;&amp;d"');
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain(`form-action 'self' ${tool.base}`);
    expect(html).toContain('<noscript><button type="submit">');
    expect(html).toMatch(/<script nonce="[^"]+">document\.getElementById\("lti-form-post"\)\.submit\(\);<\/script>/);
    const form = readForm(html, 'lti-form-post');
    expect(form.action).toBe(`${tool.base}/lti`);
    expect(form.fields.state).toBe('a"b<c>&d');
    expect((await verifyIdToken(form.fields.id_token ?? '')).nonce).toBe('nonce-123');
  });
});

describe('authorization endpoint: every invalid request is a 400 page naming the problem', () => {
  const cases: Array<[string, () => URLSearchParams, string]> = [
    ['scope not openid', () => authParams('ana', { scope: 'profile' }), 'scope'],
    ['scope missing', () => authParams('ana', { scope: undefined }), 'scope'],
    ['response_type', () => authParams('ana', { response_type: 'code' }), 'response_type'],
    ['response_mode', () => authParams('ana', { response_mode: 'query' }), 'response_mode'],
    ['prompt', () => authParams('ana', { prompt: 'login' }), 'prompt'],
    ['unknown client_id', () => authParams('ana', { client_id: 'otra' }), 'client_id'],
    ['unregistered redirect_uri', () => authParams('ana', { redirect_uri: `${tool.base}/otra` }), 'redirect_uri'],
    ['redirect_uri with query', () => authParams('ana', { redirect_uri: `${tool.base}/lti?x=1` }), 'redirect_uri'],
    ['unknown login_hint', () => authParams('ana', { login_hint: 'nadie' }), 'login_hint'],
    ['forged lti_message_hint', () => authParams('ana', { lti_message_hint: 'eyJhbGciOiJub25lIn0.e30.' }), 'lti_message_hint'],
    ['lti_message_hint of another user', () => authParams('ana', { login_hint: 'bruno' }), 'lti_message_hint'],
    ['missing lti_message_hint', () => authParams('ana', { lti_message_hint: undefined }), 'lti_message_hint'],
    ['missing nonce', () => authParams('ana', { nonce: undefined }), 'nonce'],
    ['missing state', () => authParams('ana', { state: undefined }), 'state'],
    ['wrong lti_deployment_id', () => authParams('ana', { lti_deployment_id: '99' }), 'lti_deployment_id'],
    ['learner asking for deep linking', () => authParams('ana', {}, 'LtiDeepLinkingRequest'), 'docente'],
    [
      'repeated parameter',
      () => {
        const q = authParams('ana');
        q.append('nonce', 'otro');
        return q;
      },
      'nonce',
    ],
  ];

  test.each(cases)('%s', async (_name, params, mentions) => {
    const before = tool.posts.length;
    const res = await fetch(`${sim.url}/auth?${params().toString()}`);
    expect(res.status).toBe(400);
    const html = await res.text();
    expect(html).toContain('<html lang="es">');
    expect(/<p id="problem">([^<]*)<\/p>/.exec(html)?.[1]).toContain(mentions);
    expect(html).not.toContain('name="id_token"');
    expect(tool.posts.length).toBe(before);
  });
});

describe('forging and tampering', () => {
  test('tamperNextIdToken rewrites claims of the next id_token only', async () => {
    sim.tamperNextIdToken({ claims: (c) => ({ ...c, sub: 'mallory', [`${LTI}custom`]: { rut: '11.111.111-1' } }) });
    const tampered = await sim.authorize(`${sim.url}/auth?${authParams('ana').toString()}`);
    const c = await verifyIdToken(tampered.fields.id_token ?? '');
    expect(c.sub).toBe('mallory');
    expect(c[`${LTI}custom`]).toEqual({ rut: '11.111.111-1' });
    const next = await sim.authorize(`${sim.url}/auth?${authParams('ana').toString()}`);
    expect((await verifyIdToken(next.fields.id_token ?? '')).sub).toBe('ana');
  });

  test('tamperNextIdToken with a foreign key produces a token that fails verification', async () => {
    sim.tamperNextIdToken({ signWithForeignKey: true });
    const r = await sim.authorize(`${sim.url}/auth?${authParams('ana').toString()}`);
    await expect(verifyIdToken(r.fields.id_token ?? '')).rejects.toThrow(/invalid signature/);
  });

  test('tamperNextIdToken header override is sent as is', async () => {
    sim.tamperNextIdToken({ header: { kid: 'no-such-kid', alg: 'HS256' } });
    const r = await sim.authorize(`${sim.url}/auth?${authParams('ana').toString()}`);
    expect(jwt.decode(r.fields.id_token ?? '', { complete: true })?.header).toMatchObject({ kid: 'no-such-kid', alg: 'HS256' });
    await expect(verifyIdToken(r.fields.id_token ?? '')).rejects.toThrow(/not in JWKS/);
  });

  test('signIdToken + launchClaims build forgeable launches; only the simulator key verifies', async () => {
    const claims = sim.launchClaims('camila', 'n-1');
    expect(claims[`${LTI}lis`]).toEqual({ person_sourcedid: '9876543-3', course_section_sourcedid: 'SENCE-101' });
    expect((await verifyIdToken(sim.signIdToken(claims))).nonce).toBe('n-1');
    await expect(verifyIdToken(sim.signIdToken(claims, { foreignKey: true }))).rejects.toThrow(/invalid signature/);
    expect(jwt.decode(sim.signIdToken(claims, { kid: 'k2' }), { complete: true })?.header.kid).toBe('k2');
    const dl = sim.launchClaims('diego', 'n-2', { messageType: 'LtiDeepLinkingRequest' });
    expect(dl[`${LTI}message_type`]).toBe('LtiDeepLinkingRequest');
    expect(() => sim.launchClaims('nadie', 'n')).toThrow(/Unknown simulator user/);
  });
});

describe('token endpoint', () => {
  test('accepts a client assertion signed by the tool key (JWKS fetched once and cached)', async () => {
    const fetchesBefore = tool.jwksFetches;
    const r = await requestToken(clientAssertion(), `${SCOPES.score} ${SCOPES.lineItem} https://example.com/unknown-scope`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ access_token: expect.any(String), token_type: 'Bearer', expires_in: 3600, scope: `${SCOPES.score} ${SCOPES.lineItem}` });
    const r2 = await requestToken(clientAssertion({ aud: [sim.platform.accesstokenEndpoint, 'other'] }), SCOPES.nrps);
    expect(r2.status).toBe(200);
    expect(tool.jwksFetches - fetchesBefore).toBeLessThanOrEqual(1);
  });

  test('rejects bad client assertions', async () => {
    const { privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const bad: Array<[string, Promise<{ status: number; body: Record<string, unknown> }>, number, string]> = [
      ['wrong key', requestToken(clientAssertion({}, { key: otherKey }), SCOPES.score), 401, 'invalid_client'],
      ['wrong aud', requestToken(clientAssertion({ aud: `${sim.url}/otro` }), SCOPES.score), 401, 'invalid_client'],
      ['wrong iss', requestToken(clientAssertion({ iss: 'otra' }), SCOPES.score), 401, 'invalid_client'],
      ['wrong sub', requestToken(clientAssertion({ sub: 'otra' }), SCOPES.score), 401, 'invalid_client'],
      ['garbage', requestToken('not-a-jwt', SCOPES.score), 401, 'invalid_client'],
      ['no scope we have', requestToken(clientAssertion(), 'https://example.com/x'), 400, 'invalid_scope'],
      ['wrong grant', requestToken(clientAssertion(), SCOPES.score, { grant_type: 'password' }), 400, 'unsupported_grant_type'],
    ];
    for (const [name, p, status, error] of bad) {
      const r = await p;
      expect([name, r.status, r.body.error]).toEqual([name, status, error]);
    }
    const missing = await fetch(sim.platform.accesstokenEndpoint, { method: 'POST', body: new URLSearchParams({ grant_type: 'client_credentials' }) });
    expect(missing.status).toBe(400);
    expect(((await missing.json()) as { error: string }).error).toBe('invalid_request');
  });

  test('rejects a replayed assertion (same jti) and refetches the JWKS once for an unknown kid', async () => {
    const a = clientAssertion();
    expect((await requestToken(a, SCOPES.score)).status).toBe(200);
    expect((await requestToken(a, SCOPES.score)).body.error).toBe('invalid_client');
    const before = tool.jwksFetches;
    const r = await requestToken(clientAssertion({}, { kid: 'rotated-away' }), SCOPES.score);
    expect(r.status).toBe(401);
    expect(tool.jwksFetches - before).toBe(1);
  });
});

describe('Names and Role Provisioning Services', () => {
  const url = (): string => `${sim.url}/api/courses/curso-demo-sence/memberships`;

  test('lists the five users with a contextmembership.readonly token', async () => {
    const res = await fetch(url(), { headers: { Authorization: `Bearer ${await bearer(SCOPES.nrps)}`, Accept: 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/vnd\.ims\.lti-nrps\.v2\.membershipcontainer\+json/);
    const body = (await res.json()) as { id: string; context: Record<string, string>; members: Array<Record<string, unknown>> };
    expect(body.context).toEqual({ id: 'curso-demo-sence', label: 'SENCE-101', title: 'Excel para planillas de cálculo (demo SENCE)' });
    expect(body.members.map((m) => m.user_id)).toEqual(['ana', 'bruno', 'camila', 'elena', 'diego']);
    expect(body.members[2]).toEqual({
      status: 'Active',
      name: 'Camila Rojas',
      given_name: 'Camila',
      family_name: 'Rojas',
      // Moodle 4.5.6 (REFERENCE §4.4): the username, where names are shared (issue #20).
      ext_user_username: 'camila',
      email: 'camila.rojas@example.com',
      user_id: 'camila',
      lis_person_sourcedid: '9876543-3',
      roles: [LEARNER],
    });
    expect(body.members[3]).toMatchObject({ user_id: 'elena', ext_user_username: '15432987-0' });
    expect(body.members[3]).not.toHaveProperty('lis_person_sourcedid');
    expect(body.members[4]?.roles).toEqual([INSTRUCTOR, INST_INSTRUCTOR]);
  });

  test('with names not shared (Moodle\'s "Share launcher\'s name"), members carry no names and no ext_user_username, but the ID number', async () => {
    sim.nrps.shareNames = false;
    try {
      const res = await fetch(url(), { headers: { Authorization: `Bearer ${await bearer(SCOPES.nrps)}` } });
      const body = (await res.json()) as { members: Array<Record<string, unknown>> };
      expect(body.members[2]).toEqual({ status: 'Active', email: 'camila.rojas@example.com', user_id: 'camila', lis_person_sourcedid: '9876543-3', roles: [LEARNER] });
    } finally {
      sim.nrps.shareNames = true;
    }
  });

  test('role filter, missing token (401), wrong scope (403), wrong course (404)', async () => {
    const token = await bearer(SCOPES.nrps);
    const only = (await (await fetch(`${url()}?role=${encodeURIComponent(INSTRUCTOR)}`, { headers: { Authorization: `Bearer ${token}` } })).json()) as { members: unknown[] };
    expect(only.members).toHaveLength(1);
    expect((await fetch(url())).status).toBe(401);
    expect((await fetch(url(), { headers: { Authorization: 'Bearer nope' } })).status).toBe(401);
    expect((await fetch(url(), { headers: { Authorization: `Bearer ${await bearer(SCOPES.score)}` } })).status).toBe(403);
    expect((await fetch(`${sim.url}/api/courses/otro/memberships`, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(404);
  });
});

describe('Assignment and Grade Services', () => {
  const lineItems = (): string => `${sim.url}/api/courses/curso-demo-sence/lineitems`;
  const SCORE = 'application/vnd.ims.lis.v1.score+json';
  const LINE_ITEM = 'application/vnd.ims.lis.v2.lineitem+json';

  async function postScore(token: string, body: Record<string, unknown>, contentType = SCORE): Promise<Response> {
    return fetch(`${lineItems()}/1/scores`, { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': contentType }, body: JSON.stringify(body) });
  }

  test('line item 1 exists by default', async () => {
    const res = await fetch(lineItems(), { headers: { Authorization: `Bearer ${await bearer(SCOPES.lineItemRo)}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/vnd\.ims\.lis\.v2\.lineitemcontainer\+json/);
    expect(await res.json()).toEqual([{ id: `${lineItems()}/1`, label: 'Asistencia SENCE', scoreMaximum: 100, resourceLinkId: 'asistencia-sence-1' }]);
  });

  test('scores: recorded for a learner, 400 for the instructor, 409 in the same second, results', async () => {
    const token = await bearer(SCOPES.score, SCOPES.result);
    const t0 = new Date(Math.floor(Date.now() / 1000) * 1000);
    const base = { activityProgress: 'Completed', gradingProgress: 'FullyGraded', scoreGiven: 80, scoreMaximum: 100 };
    const before = sim.scores.length;

    const ok = await postScore(token, { ...base, userId: 'ana', timestamp: t0.toISOString(), comment: 'asistencia 80 %' });
    expect(ok.status).toBe(204);
    expect(sim.scores.slice(before)).toEqual([
      { lineItemId: `${lineItems()}/1`, userId: 'ana', scoreGiven: 80, scoreMaximum: 100, activityProgress: 'Completed', gradingProgress: 'FullyGraded', timestamp: t0.toISOString(), comment: 'asistencia 80 %' },
    ]);

    const teacher = await postScore(token, { ...base, userId: 'diego', timestamp: t0.toISOString() });
    expect(teacher.status).toBe(400);
    expect(((await teacher.json()) as { error_description: string }).error_description).toContain('Incorrect score received');

    const sameSecond = await postScore(token, { ...base, userId: 'ana', timestamp: new Date(t0.getTime() + 500).toISOString() });
    expect(sameSecond.status).toBe(409);

    const later = await postScore(token, { ...base, scoreGiven: 90, userId: 'ana', timestamp: new Date(t0.getTime() + 1000).toISOString() });
    expect(later.status).toBe(204);
    expect(sim.scores.length).toBe(before + 2);

    expect((await postScore(token, { ...base, userId: 'camila' })).status).toBe(400); // no timestamp
    expect((await postScore(token, { ...base, userId: 'nadie', timestamp: t0.toISOString() })).status).toBe(400);
    expect((await postScore(token, { ...base, userId: 'camila', timestamp: t0.toISOString() }, 'text/plain')).status).toBe(415);

    const results = await fetch(`${lineItems()}/1/results?user_id=ana`, { headers: { Authorization: `Bearer ${token}` } });
    expect(results.headers.get('content-type')).toMatch(/^application\/vnd\.ims\.lis\.v2\.resultcontainer\+json/);
    expect(await results.json()).toEqual([expect.objectContaining({ userId: 'ana', resultScore: 90, resultMaximum: 100, scoreOf: `${lineItems()}/1` })]);
  });

  test('line item CRUD', async () => {
    const token = await bearer(SCOPES.lineItem);
    const created = await fetch(lineItems(), {
      method: 'POST',
      headers: { Authorization: `Bearer ${token}`, 'Content-Type': LINE_ITEM },
      body: JSON.stringify({ label: 'Sesión 2', scoreMaximum: 10, tag: 'sesion' }),
    });
    expect(created.status).toBe(201);
    const item = (await created.json()) as { id: string };
    expect(item.id).toMatch(/\/lineitems\/\d+$/);
    const put = await fetch(item.id, { method: 'PUT', headers: { Authorization: `Bearer ${token}`, 'Content-Type': LINE_ITEM }, body: JSON.stringify({ ...item, label: 'Sesión 2 (editada)', scoreMaximum: 20 }) });
    expect(put.status).toBe(200);
    expect(((await (await fetch(item.id, { headers: { Authorization: `Bearer ${token}` } })).json()) as { label: string }).label).toBe('Sesión 2 (editada)');
    const filtered = (await (await fetch(`${lineItems()}?tag=sesion`, { headers: { Authorization: `Bearer ${token}` } })).json()) as unknown[];
    expect(filtered).toHaveLength(1);
    expect((await fetch(item.id, { method: 'DELETE', headers: { Authorization: `Bearer ${token}` } })).status).toBe(204);
    expect((await fetch(item.id, { headers: { Authorization: `Bearer ${token}` } })).status).toBe(404);
    const invalid = await fetch(lineItems(), { method: 'POST', headers: { Authorization: `Bearer ${token}`, 'Content-Type': LINE_ITEM }, body: JSON.stringify({ label: '' }) });
    expect(invalid.status).toBe(400);
  });
});

describe('deep-linking return', () => {
  async function dlData(): Promise<string> {
    const { recorded } = await launchThroughCoursePage('diego', 'lti-deep-link');
    const c = await verifyIdToken(recorded.body.id_token ?? '');
    return (c[DL_SETTINGS] as { data: string }).data;
  }

  function response(data: string, over: Record<string, unknown> = {}, key: KeyObject = tool.key): string {
    return jwt.sign(
      {
        iss: sim.clientId,
        aud: sim.issuer,
        nonce: randomUUID(),
        [`${LTI}deployment_id`]: '1',
        [`${LTI}message_type`]: 'LtiDeepLinkingResponse',
        [`${LTI}version`]: '1.3.0',
        'https://purl.imsglobal.org/spec/lti-dl/claim/data': data,
        'https://purl.imsglobal.org/spec/lti-dl/claim/content_items': [{ type: 'ltiResourceLink', title: 'Asistencia <SENCE> & "más"', url: `${tool.base}/lti` }],
        ...over,
      },
      key,
      { algorithm: 'RS256', expiresIn: 60, keyid: tool.kid },
    );
  }

  const post = (jwtValue: string): Promise<Response> => fetch(`${sim.url}/deep-linking/return`, { method: 'POST', body: new URLSearchParams({ JWT: jwtValue }) });

  test('a verified response is recorded and shown (escaped)', async () => {
    const data = await dlData();
    const before = sim.deepLinkResponses.length;
    const res = await post(response(data));
    expect(res.status).toBe(200);
    const html = await res.text();
    expect(html).toContain('Actividad agregada: Asistencia &lt;SENCE&gt; &amp; &quot;más&quot;');
    expect(sim.deepLinkResponses.slice(before)).toEqual([{ items: [{ type: 'ltiResourceLink', title: 'Asistencia <SENCE> & "más"', url: `${tool.base}/lti` }], receivedAt: expect.any(Date) }]);
    // data is single use
    expect((await post(response(data))).status).toBe(400);
  });

  test('rejects bad responses', async () => {
    const data = await dlData();
    const { privateKey: otherKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const before = sim.deepLinkResponses.length;
    for (const bad of [
      response(data, {}, otherKey),
      response(data, { aud: 'https://otro-lms.example' }),
      response(data, { iss: 'otra-herramienta' }),
      response(data, { [`${LTI}message_type`]: 'LtiResourceLinkRequest' }),
      response(data, { [`${LTI}deployment_id`]: '2' }),
      response('dl-inventado'),
      response(data, { 'https://purl.imsglobal.org/spec/lti-dl/claim/content_items': [{ type: 'file' }] }),
      'no-es-un-jwt',
    ]) {
      expect((await post(bad)).status).toBe(400);
    }
    expect((await fetch(`${sim.url}/deep-linking/return`, { method: 'POST', body: new URLSearchParams({}) })).status).toBe(400);
    expect(sim.deepLinkResponses.length).toBe(before);
  });
});

describe('HTML escaping', () => {
  test('a hostile user name and id never reach the page unescaped', async () => {
    const hostile: SimUser = {
      ...(DEMO_USERS[0] as SimUser),
      id: 'x"><script>alert(1)</script>',
      name: '<img src=x onerror=alert(1)> O\'Higgins & "Co"',
    };
    const other = await startLmsSimulator({ port: 0, tool: { loginUrl: `${tool.base}/lti/login`, launchUrl: `${tool.base}/lti`, jwksUrl: `${tool.base}/lti/keys` }, users: [hostile] });
    try {
      for (const path of ['/', `/course?user=${encodeURIComponent(hostile.id)}`, `/course?user=${encodeURIComponent('<b>nadie</b>')}`]) {
        const html = await (await fetch(`${other.url}${path}`)).text();
        expect(html).not.toContain('<img src=x');
        expect(html).not.toContain('<script>alert');
        expect(html).not.toContain('<b>nadie');
      }
      const course = await (await fetch(`${other.url}/course?user=${encodeURIComponent(hostile.id)}`)).text();
      expect(course).toContain('&lt;img src=x onerror=alert(1)&gt; O&#39;Higgins &amp; &quot;Co&quot;');
      expect(course).toContain('name="login_hint" value="x&quot;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"');
    } finally {
      await other.close();
    }
  });
});
