/**
 * Issue #6 over real HTTP: a launch and a session that need no cookie (a browser that blocks
 * third-party cookies in the LMS's iframe), the state bound server-side and, where the platform
 * offers it, through LTI Platform Storage; the ltik's expiry and its course binding on every route.
 */
import jwt from 'jsonwebtoken';
import { HttpClient, formById, parseForms } from '../support/http-client';
import { authorize, launchAs, openToolPage, sessionOf } from '../support/lti-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { courseRef } from '../../src/lti/platform-storage';

// cookie-parser's own signer (a dependency of cookie-parser), to present a state cookie as ltijs would.
const { sign: signCookie } = require('cookie-signature') as { sign: (value: string, secret: string) => string };

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  await sys?.stop();
});

const logged = (code: string) => sys.logger.lines.some((l) => l.fields.code === code);
const issuedLogin = (over: Partial<{ state: string; nonce: string; issuer: string; clientId: string | null; expiresAt: Date }> = {}) => ({
  state: `st-${Math.random().toString(36).slice(2)}`,
  nonce: `n-${Math.random().toString(36).slice(2)}`,
  issuer: sys.lms!.issuer,
  clientId: sys.lms!.clientId as string | null,
  storageTarget: null,
  relaunchQuery: null,
  linkQuery: null,
  expiresAt: new Date(Date.now() + 600_000),
  ...over,
});

describe('a launch without any cookie', () => {
  it('succeeds once, sets no session cookie, and its replay fails', async () => {
    const client = new HttpClient({ cookies: false });
    const { post } = await authorize(sys, 'ana', client);
    const panel = await client.submit(post);
    expect(panel.status).toBe(200);
    expect(panel.text).toContain('TIEMPO ACREDITADO EN SENCE');
    // No ltijs session cookie (ltiaas): only the clearing of the state cookie, if anything.
    const setCookies = panel.headers.getSetCookie().filter((c) => !/^state/.test(c));
    expect(setCookies).toEqual([]);
    // The ltik is in the page's forms, not in any URL it links to.
    const { ltik } = sessionOf(panel.text);
    expect(ltik).not.toBe('');
    expect(panel.text).not.toContain(`ltik=${encodeURIComponent(ltik)}`);
    const replay = await client.submit(post);
    expect(replay.status).toBe(401);
    expect(replay.text).toContain('Este ingreso ya se usó o expiró. Vuelve a entrar desde tu curso.');
  });

  it('with the state cookie present (a browser allowing it) it must match: a matching one passes', async () => {
    const { panel } = await launchAs(sys, 'ana', { keepCookies: true });
    expect(panel.status).toBe(200);
  });

  it('a state cookie that came for another issuer, or with a bad signature, is refused', async () => {
    for (const cookieValue of [`s:${signCookie('https://otro-lms.example', sys.config.ltiKey)}`, 's:https://falso.example.firma-mala']) {
      const { client, post, state } = await authorize(sys, 'ana', new HttpClient({ cookies: false }));
      const res = await client.post(post.action, post.fields, { cookie: `state${state}=${encodeURIComponent(cookieValue)}` });
      expect(res.status).toBe(401);
      expect(res.text).toContain('El ingreso no corresponde al que inició este navegador');
    }
    expect(logged('lti-state-mismatch')).toBe(true);
  });

  it('a forged, expired or foreign state fails', async () => {
    const client = new HttpClient({ cookies: false });
    const sign = (nonce: string) => sys.lms!.signIdToken(sys.lms!.launchClaims('ana', nonce));
    // forged: a state the tool never issued
    const forged = await client.post(`${sys.url}/lti`, { id_token: sign('whatever'), state: 'forjado-123' });
    expect(forged.status).toBe(401);
    expect(forged.text).toContain('Este ingreso ya se usó o expiró');
    // expired: issued, never used, past its 10 minutes
    const expired = issuedLogin({ expiresAt: new Date(Date.now() - 1000) });
    await sys.stores.logins.save(expired);
    const late = await client.post(`${sys.url}/lti`, { id_token: sign(expired.nonce), state: expired.state });
    expect(late.status).toBe(401);
    expect(late.text).toContain('Este ingreso ya se usó o expiró');
    // foreign: issued for another platform, or for another client id of this one
    const otherIssuer = issuedLogin({ issuer: 'https://otro-lms.example' });
    await sys.stores.logins.save(otherIssuer);
    const foreign = await client.post(`${sys.url}/lti`, { id_token: sign(otherIssuer.nonce), state: otherIssuer.state });
    expect(foreign.status).toBe(401);
    expect(foreign.text).toContain('lti-invalid-token');
    const otherClient = issuedLogin({ clientId: 'otra-herramienta' });
    await sys.stores.logins.save(otherClient);
    const wrongAud = await client.post(`${sys.url}/lti`, { id_token: sign(otherClient.nonce), state: otherClient.state });
    expect(wrongAud.status).toBe(401);
    expect(wrongAud.text).toContain('El ingreso fue emitido para otra herramienta');
  });
});

describe('LTI Platform Storage (as Canvas offers it)', () => {
  async function storageLogin(client: HttpClient) {
    const fields = sys.lms!.loginInitiation('ana', { platformStorage: 'on' });
    const page = await client.post(`${sys.url}/lti/login`, fields);
    expect(page.status).toBe(200);
    const el = /<div id="platform-storage"([^>]*)>/.exec(page.text)?.[1] ?? '';
    const data = (name: string) => (new RegExp(`data-${name}="([^"]*)"`).exec(el)?.[1] ?? '').replace(/&amp;/g, '&');
    return { page, fields, mode: data('mode'), target: data('target'), origin: data('origin'), key: data('key'), value: data('value'), next: data('next') };
  }

  async function storageLaunch(client: HttpClient) {
    const login = await storageLogin(client);
    const auth = await client.get(login.next);
    const [post] = parseForms(auth.text, auth.url);
    const check = await client.submit(post!);
    return { login, post: post!, check, form: formById(check.text, check.url, 'storage-check-form') };
  }

  it('login: puts the state in the platform storage of this browser (targetOrigin = the platform\'s OIDC origin) before going on', async () => {
    const login = await storageLogin(new HttpClient({ cookies: false }));
    expect(login.mode).toBe('put');
    expect(login.target).toBe('_parent');
    expect(login.origin).toBe(new URL(sys.lms!.url).origin);
    expect(login.key).toBe(`state_${login.value}`);
    const next = new URL(login.next);
    expect(`${next.origin}${next.pathname}`).toBe(`${sys.lms!.url}/auth`);
    expect(next.searchParams.get('state')).toBe(login.value);
    // Never a dead end: the page carries "Abrir en una ventana nueva", a top-level relaunch without storage.
    expect(login.page.text).toContain('Abrir en una ventana nueva');
    const relaunch = new URL(/id="relaunch" href="([^"]*)"/.exec(login.page.text)![1]!.replace(/&amp;/g, '&'));
    expect(relaunch.pathname).toBe('/lti/login');
    expect(relaunch.searchParams.get('lti_storage_target')).toBeNull();
    expect(relaunch.searchParams.get('login_hint')).toBe('ana');
  });

  it('launch: answers a check page that holds no usable ltik; the state read back opens the panel', async () => {
    const client = new HttpClient({ cookies: false });
    const { login, check, form } = await storageLaunch(client);
    expect(check.status).toBe(200);
    expect(check.text).toContain('data-mode="get"');
    expect(check.text).toContain(`data-key="state_${login.value}"`);
    expect(check.text).not.toMatch(/name="ltik"/);
    const confirmed = await client.submit(form, { value: login.value });
    expect(confirmed.status).toBe(200);
    const toPanel = formById(confirmed.text, confirmed.url, 'auto-post');
    expect(toPanel.action).toBe(`${sys.url}/lti/`);
    const panel = await client.submit(toPanel);
    expect(panel.status).toBe(200);
    expect(panel.text).toContain('CLICK AQUÍ PARA ABRIR SESIÓN EN SENCE');
  });

  it('a launch whose stored state does not match (or is missing: another browser) fails, with a way out', async () => {
    for (const value of ['otro-estado', '']) {
      const client = new HttpClient({ cookies: false });
      const { form } = await storageLaunch(client);
      const res = await client.submit(form, { value });
      expect(res.status).toBe(401);
      expect(res.text).toContain('Este ingreso no se inició en este navegador, así que no podemos continuar.');
      expect(res.text).toContain('Abrir en una ventana nueva');
      expect(res.text).not.toMatch(/name="ltik"/);
    }
    expect(logged('lti-state-mismatch')).toBe(true);
  });

  it('a browser whose storage does not answer gets plain Spanish and "Abrir en una ventana nueva"', async () => {
    const client = new HttpClient({ cookies: false });
    const { form, login } = await storageLaunch(client);
    const res = await client.submit(form, { error: 'timeout' });
    expect(res.status).toBe(401);
    expect(res.text).toContain('bloquea el almacenamiento de otros sitios');
    const href = /id="relaunch" href="([^"]*)"/.exec(res.text)![1]!.replace(/&amp;/g, '&');
    expect(new URL(href).searchParams.get('lti_message_hint')).toBe(login.fields.lti_message_hint);
    // The relaunch works top-level (no storage target: server-side binding, first-party window).
    const toAuth = await client.get(href);
    expect(toAuth.status).toBe(302);
    const auth = await client.get(toAuth.headers.get('location')!);
    const panel = await client.submit(parseForms(auth.text, auth.url)[0]!);
    expect(panel.status).toBe(200);
    expect(panel.text).toContain('TIEMPO ACREDITADO EN SENCE');
  });

  it('the pending launch cannot be replayed into a check with a forged seal', async () => {
    const client = new HttpClient({ cookies: false });
    const { form, login } = await storageLaunch(client);
    const res = await client.submit(form, { pending: 'v1.forjado', value: login.value });
    expect(res.status).toBe(401);
    expect(res.text).toContain('No pudimos confirmar tu ingreso');
  });
});

describe('the session: the ltik alone, with an expiry and a course', () => {
  /** Every route behind the ltik; `nav`: reached as the tool's links do (a navigation POST). */
  const routes: Array<{ method: 'GET' | 'POST'; path: string; nav?: boolean }> = [
    { method: 'GET', path: '/lti/' },
    { method: 'POST', path: '/lti/' },
    { method: 'GET', path: '/lti/api/status' },
    { method: 'POST', path: '/lti/sence/start' },
    { method: 'POST', path: '/lti/sence/close' },
    { method: 'POST', path: '/lti/deep-link' },
    { method: 'GET', path: '/lti/staff' },
    { method: 'POST', path: '/lti/staff', nav: true },
    { method: 'POST', path: '/lti/staff/settings' },
    { method: 'POST', path: '/lti/staff/otecs' },
    { method: 'POST', path: '/lti/staff/audit', nav: true },
    { method: 'POST', path: '/lti/staff/report', nav: true },
    { method: 'POST', path: '/lti/staff/report/print', nav: true },
    { method: 'POST', path: '/lti/staff/actions', nav: true },
    { method: 'POST', path: '/lti/staff/actions/upload' },
    { method: 'POST', path: '/lti/staff/learners/ana', nav: true },
    { method: 'POST', path: '/lti/staff/learners/ana/enrollment' },
    { method: 'POST', path: '/lti/staff/export/report.csv', nav: true },
    { method: 'POST', path: '/lti/staff/export/report.xlsx', nav: true },
    { method: 'POST', path: '/lti/staff/export/sessions.csv', nav: true },
    { method: 'POST', path: '/lti/staff/export/sessions.xlsx', nav: true },
  ];

  const call = (client: HttpClient, r: { method: string; path: string; nav?: boolean }, ltik: string, course: string) =>
    r.method === 'GET'
      ? client.get(`${sys.url}${r.path}`, { authorization: `Bearer ${ltik}`, 'x-asistencia-course': course, accept: r.path.includes('/api/') ? 'application/json' : 'text/html' })
      : client.post(`${sys.url}${r.path}`, { ltik, course, ...(r.nav ? { _nav: '1' } : {}) });

  it('works on every route with the ltik alone (header or body), no cookie', async () => {
    const ana = await launchAs(sys, 'ana');
    const status = await ana.client.get(`${sys.url}/lti/api/status`, { authorization: `Bearer ${ana.ltik}`, 'x-asistencia-course': ana.course, accept: 'application/json' });
    expect(status.status).toBe(200);
    const diego = await launchAs(sys, 'diego');
    for (const path of ['/lti/staff', '/lti/staff/audit', '/lti/staff/report', '/lti/staff/actions', '/lti/staff/learners/ana']) {
      const page = await openToolPage(sys, diego, path);
      expect(page.status).toBe(200);
    }
  });

  it('an expired ltik is refused on every route, in Spanish', async () => {
    const diego = await launchAs(sys, 'diego');
    const claims = jwt.decode(diego.ltik) as Record<string, unknown>;
    const old = jwt.sign({ ...claims, iat: Math.floor(Date.now() / 1000) - sys.config.ltikMaxAgeMinutes * 60 - 5 }, sys.config.ltiKey, { algorithm: 'HS256' });
    for (const r of routes) {
      const res = await call(diego.client, r, old, diego.course);
      expect({ route: `${r.method} ${r.path}`, status: res.status }).toEqual({ route: `${r.method} ${r.path}`, status: 401 });
      expect(res.text).toContain('Tu sesión en la herramienta expiró (dura 6 horas). Vuelve a abrir la actividad desde tu curso.');
    }
    // Still within its lifetime, the same ltik re-signed works.
    const fresh = jwt.sign({ ...claims, iat: Math.floor(Date.now() / 1000) - sys.config.ltikMaxAgeMinutes * 60 + 30 }, sys.config.ltiKey, { algorithm: 'HS256' });
    expect((await call(diego.client, { method: 'POST', path: '/lti/staff/audit', nav: true }, fresh, diego.course)).status).toBe(200);
  });

  it('an ltik sent with another course is refused on every route, and nothing changes', async () => {
    const diego = await launchAs(sys, 'diego');
    const otherCourse = courseRef({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: 'otro-curso' });
    const before = await sys.stores.attendance.listCourseSessions({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });
    for (const r of routes) {
      const res = await call(diego.client, r, diego.ltik, otherCourse);
      expect({ route: `${r.method} ${r.path}`, status: res.status }).toEqual({ route: `${r.method} ${r.path}`, status: 403 });
      expect(res.text).toContain('Esta página pertenece a otro curso o a otro ingreso.');
    }
    const after = await sys.stores.attendance.listCourseSessions({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });
    expect(after).toEqual(before);
  });

  it('showing a page again (the panel reloading itself, a staff link) writes nothing; the next launch does', async () => {
    const ana = await launchAs(sys, 'ana');
    const key = { issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, sub: 'ana' };
    const stored = (await sys.stores.learners.get(key))!;
    await sys.stores.learners.upsert({ ...stored, name: 'Nombre cambiado a mano' });
    const again = await openToolPage(sys, ana, '/lti/');
    expect(again.status).toBe(200);
    expect((await sys.stores.learners.get(key))?.name).toBe('Nombre cambiado a mano');
    await launchAs(sys, 'ana');
    expect((await sys.stores.learners.get(key))?.name).toBe('Ana Pérez');
  });

  it('an ltik whose platform was deactivated is refused, also one the tool has just resolved and keeps in memory', async () => {
    const ana = await launchAs(sys, 'ana');
    // Used once: its records are now in the runtime's 30-second cache.
    const before = await ana.client.get(`${sys.url}/lti/api/status`, { authorization: `Bearer ${ana.ltik}`, 'x-asistencia-course': ana.course, accept: 'application/json' });
    expect(before.status).toBe(200);
    const platform = await sys.lti.provider.getPlatform(sys.lms!.issuer, sys.lms!.clientId);
    await (platform as unknown as { platformActive(a?: boolean): Promise<boolean> }).platformActive(false);
    await sys.lti.refreshPlatformOrigins();
    try {
      const res = await openToolPage(sys, ana, '/lti/');
      expect(res.status).toBe(401);
      expect(res.text).toContain('La plataforma de este curso ya no está activa en Asistencia SENCE');
      const poll = await ana.client.get(`${sys.url}/lti/api/status`, { authorization: `Bearer ${ana.ltik}`, 'x-asistencia-course': ana.course, accept: 'application/json' });
      expect(poll.status).toBe(401);
    } finally {
      await (platform as unknown as { platformActive(a?: boolean): Promise<boolean> }).platformActive(true);
      await sys.lti.refreshPlatformOrigins();
    }
  });

  it('a page served on the ltik alone keeps the protective headers, without the isolation that breaks the SENCE window', async () => {
    const ana = await launchAs(sys, 'ana');
    for (const res of [await openToolPage(sys, ana, '/lti/'), await ana.client.get(`${sys.url}/lti/api/status`, { authorization: `Bearer ${ana.ltik}`, 'x-asistencia-course': ana.course, accept: 'application/json' })]) {
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toContain('frame-ancestors');
      expect(res.headers.get('x-content-type-options')).toBe('nosniff');
      expect(res.headers.get('strict-transport-security')).toBe('max-age=15552000; includeSubDomains');
      expect(res.headers.get('cross-origin-resource-policy')).toBe('same-origin');
      expect(res.headers.get('x-permitted-cross-domain-policies')).toBe('none');
      expect(res.headers.get('cache-control')).toContain('no-store');
      expect(res.headers.get('cross-origin-embedder-policy')).toBeNull();
      expect(res.headers.get('cross-origin-opener-policy')).toBeNull();
    }
  });
});
