/**
 * Issue #7, finding 5, and issue #19 §2, §3, §7: dynamic registration needs the operator's one-time
 * invitation. Without one: 403 (Spanish page, audited) before any outbound request. With one,
 * through the LMS simulator's Moodle-like dynamic registration: the platform is active at once, the
 * page says what to do next with the real issuer and client_id and may be framed by the new
 * platform, Moodle's "Update" updates it. An invitation registers ONE new platform, whose
 * configuration must be served by the issuer's own origin; a used invitation only updates the
 * platform it created, within its validity, never re-activating it; outbound requests are bounded,
 * never echo what the remote side said, and cost the invitation an attempt (3 at most). Error pages
 * may be framed by the page that opened them. Only active platforms enter the CSP.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { HttpClient } from '../support/http-client';
import { freePort, startTestSystem, type TestSystem } from '../support/test-system';
import { launchOn, postLaunch } from '../support/launch-on';
import { startLmsSimulator, CLAIM, DEMO_USERS, type LmsSimulator } from '../../src/simulators/lms';
import { toolUrls } from '../../src/lti/tool-urls';
import { createInvite } from '../../src/application/registration-invites';

const TIMEOUT_MS = 1500; // the test system's outbound timeout (5 s in production)
let sys: TestSystem;
let c: LmsSimulator;
let clockOffsetMs = 0;
/** The invitation URL that registered platform C (set by the simulator's registration below). */
let registerUrlOfC = '';

interface Fake {
  server: Server;
  base: string;
  hits: string[];
  /** The client_id its registration endpoint answers. */
  clientId: string;
}
let fake: Fake;
let other: Fake;

async function startFake(peer: () => Fake | undefined): Promise<Fake> {
  const app = express();
  const state = { hits: [] as string[], base: '', clientId: 'fake-client' };
  app.use((req, _res, next) => {
    state.hits.push(`${req.method} ${req.path}`);
    next();
  });
  const conf = (issuer: string, registration: string) => ({ issuer, authorization_endpoint: `${state.base}/auth`, token_endpoint: `${state.base}/token`, jwks_uri: `${state.base}/certs`, registration_endpoint: registration });
  app.get('/openid-configuration', (_req, res) => res.json(conf(state.base, `${state.base}/register`)));
  // Served by this origin, but claiming platform C's issuer, whose client_id its registration answers (§2).
  app.get('/claims-c', (_req, res) => res.json(conf(c.issuer, `${state.base}/register-as-c`)));
  app.post('/register-as-c', (_req, res) => res.json({ client_id: 'cliente-c' }));
  // Its own issuer, but a registration endpoint on another origin (§3: a POST only to its own origin).
  app.get('/registration-elsewhere', (_req, res) => res.json(conf(state.base, `${peer()?.base ?? ''}/register`)));
  // A registration endpoint that refuses, saying something the caller must not read.
  app.get('/registration-refused', (_req, res) => res.json(conf(state.base, `${state.base}/register-403`)));
  app.post('/register-403', (_req, res) => res.status(403).type('text').send('SECRETO-INTERNO: token de administración abc123'));
  app.get('/status/:code', (req, res) => res.status(Number(req.params.code)).type('text').send('SECRETO-INTERNO: panel de administración'));
  app.get('/redirect', (_req, res) => res.redirect(`${state.base}/openid-configuration`));
  app.get('/huge', (_req, res) => res.json({ pad: 'x'.repeat(100_000) }));
  app.get('/slow', () => undefined); // never answers
  app.post('/register', (_req, res) => res.json({ client_id: state.clientId }));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  state.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return Object.assign(state, { server });
}

beforeAll(async () => {
  // This file registers more than 10 times a minute from one address: the limit is tested in security-audit-flood.
  sys = await startTestSystem({}, {
    rateLimits: { registrationsPerAddress: 1000 },
    registration: { now: () => new Date(Date.now() + clockOffsetMs), outboundTimeoutMs: TIMEOUT_MS },
  });
  const urls = toolUrls(sys.config.publicUrl);
  c = await startLmsSimulator({ port: 0, clientId: 'cliente-c', users: DEMO_USERS, tool: { loginUrl: urls.login, launchUrl: urls.launch, jwksUrl: urls.keys, deepLinkUrl: urls.launch } });
  fake = await startFake(() => other);
  other = await startFake(() => fake);
});
afterAll(async () => {
  for (const f of [fake, other]) {
    f?.server.closeAllConnections();
    f?.server.close();
  }
  await c?.close();
  await sys?.stop();
});
beforeEach(() => {
  fake.hits.length = 0;
  other.hits.length = 0;
  fake.clientId = 'fake-client';
  clockOffsetMs = 0;
});

const invite = async (hours = 24, name: string | null = 'Moodle C') => (await createInvite(sys.stores, { name, hours, now: new Date() })).code;
const platformsCount = async () => ((await sys.lti.provider.getAllPlatforms()) || []).length;
// One retry: after a slow test, the kept-alive socket may be closed by the server just as it is reused.
const csp = async () => ((await fetch(`${sys.url}/`).catch(() => fetch(`${sys.url}/`))).headers.get('content-security-policy') ?? '');
const register = (code: string, configuration: string, headers?: Record<string, string>) =>
  new HttpClient().get(`${sys.url}/lti/register?invite=${code}&openid_configuration=${encodeURIComponent(configuration)}&registration_token=t`, headers);
const platformOf = async (issuer: string, clientId: string) => {
  const p = await sys.lti.provider.getPlatform(issuer, clientId);
  return p && !Array.isArray(p) ? p : null;
};
const removeFakePlatform = async () => {
  for (const id of ['fake-client', 'fake-client-2']) await sys.lti.provider.deletePlatform(fake.base, id).catch(() => undefined);
  await sys.lti.refreshPlatformOrigins();
};
const stepsOf = (html: string) => /<ol id="dynreg-next-steps">([\s\S]*?)<\/ol>/.exec(html)?.[1]?.replace(/\s+/g, ' ') ?? '';
const lead = (html: string) => /<p class="lead">([\s\S]*?)<\/p>/.exec(html)?.[1] ?? '';

describe('without a valid invitation', () => {
  it.each([
    ['no invitation', ''],
    ['a malformed invitation', 'invite=abc&'],
    ['an unknown invitation', `invite=${'A'.repeat(32)}&`],
  ])('%s: 403 in Spanish, audited, no outbound request, no platform, CSP unchanged', async (_name, prefix) => {
    const before = await platformsCount();
    const res = await new HttpClient().get(`${sys.url}/lti/register?${prefix}openid_configuration=${encodeURIComponent(`${fake.base}/openid-configuration`)}&registration_token=t`);
    expect(res.status).toBe(403);
    expect(res.text).toMatch(/necesita una invitación del operador de Asistencia SENCE|La invitación no es válida/);
    expect(res.text).toContain('npm run cli -- platform invite');
    expect(fake.hits).toEqual([]);
    expect(await platformsCount()).toBe(before);
    expect(await csp()).not.toContain(fake.base);
    const audit = await sys.stores.audit.list({ limit: 1 });
    expect(audit[0]).toMatchObject({ event: 'registration-refused', accepted: false });
  });

  it('an expired invitation is refused before any outbound request', async () => {
    const { code } = await createInvite(sys.stores, { name: null, hours: 1, now: new Date(Date.now() - 2 * 3_600_000) });
    const res = await new HttpClient().get(`${sys.url}/lti/register?invite=${code}&openid_configuration=${encodeURIComponent(`${fake.base}/openid-configuration`)}`);
    expect(res.status).toBe(403);
    expect(res.text).toContain('La invitación venció.');
    expect(fake.hits).toEqual([]);
  });
});

describe('through the simulator\'s Moodle-like dynamic registration', () => {
  it('registers platform C, active at once, with the next steps and the real issuer and client_id', async () => {
    registerUrlOfC = `${sys.config.publicUrl}/lti/register?invite=${await invite()}`;
    const opened = c.startDynamicRegistration(registerUrlOfC);
    expect(opened).toContain('invite='); // Moodle keeps the tool URL's query
    const res = await new HttpClient().get(opened);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Registro completado');
    expect(res.text).toContain(`<strong>${c.issuer}</strong>`);
    expect(res.text).toContain('<code id="dynreg-client-id">cliente-c</code>');
    // What Moodle 4.5 shows after a first registration (REFERENCE §4.4): the tool card is pending, its
    // edit control is a pencil, and it is not in the activity chooser until the admin says so.
    const steps = stepsOf(res.text);
    expect(steps).toContain('aparece como <strong>pendiente</strong>: pulse <strong>Activar</strong>');
    expect(steps).toContain('lápiz');
    expect(steps).not.toContain('engranaje');
    expect(steps).toContain('«Mostrar en el selector de actividades y como herramienta preconfigurada»');
    expect(steps).toContain('«Incrustar, sin bloques»');
    expect(res.text).toContain('id="dynreg-close"'); // closes only when the admin presses the button
    expect(res.text).not.toMatch(/<script>[^<]/);
    // This very response may be framed by C (its CSP was computed before C existed).
    expect(res.headers.get('content-security-policy')).toMatch(new RegExp(`frame-ancestors [^;]*${c.url.replace(/[.:/]/g, '\\$&')}`));
    expect(c.toolRegistrations).toHaveLength(1);
    expect(c.toolRegistrations[0]!.request).toMatchObject({ initiate_login_uri: `${sys.config.publicUrl}/lti/login`, jwks_uri: `${sys.config.publicUrl}/lti/keys` });
    const platform = await sys.lti.provider.getPlatform(c.issuer, 'cliente-c');
    expect(platform && !Array.isArray(platform) && (await platform.platformActive())).toBe(true);
    expect(await csp()).toContain(c.url);
    // A learner of C can launch right away.
    const ana = await launchOn(c, 'ana');
    expect(ana.page.status).toBe(200);
    expect(ana.page.text).toContain('CLICK AQUÍ PARA ABRIR SESIÓN EN SENCE');
    const audit = await sys.stores.audit.list({ limit: 1 });
    expect(audit[0]).toMatchObject({ event: 'registration-completed', accepted: true });
  });

  it('Moodle\'s "Update" with the same (used) invitation updates the platform instead of a dead-end 409', async () => {
    const res = await new HttpClient().get(c.startDynamicRegistration(registerUrlOfC));
    expect(res.status).toBe(200);
    expect(res.text).toContain('Registro actualizado');
    expect(c.toolRegistrations).toHaveLength(2);
    // After "Update" Moodle keeps the tool active but resets two settings (REFERENCE §4.4): the page
    // says so and how to set them again, and does not ask to press "Activar".
    const steps = stepsOf(res.text);
    expect(steps).not.toContain('Activar');
    expect(steps).toContain('sigue <strong>activa</strong> en Moodle');
    expect(steps).toContain('Moodle volvió a poner «Uso de la configuración de la herramienta» en «Mostrar como herramienta preconfigurada al agregar una herramienta externa»');
    expect(steps).toContain('«Mostrar en el selector de actividades y como herramienta preconfigurada»');
    expect(steps).toContain('«Contenedor de lanzamiento predeterminado» en «Incrustar, sin bloques»');
    expect(steps).toContain('lápiz');
  });

  it('the used invitation cannot register another platform', async () => {
    const before = await platformsCount();
    const res = await new HttpClient().get(`${registerUrlOfC}&openid_configuration=${encodeURIComponent(`${fake.base}/openid-configuration`)}`);
    expect(res.status).toBe(403);
    expect(res.text).toContain('Esta invitación ya se usó para registrar otra plataforma.');
    expect(fake.hits).toEqual([]); // refused before any outbound request (issue #19 §3)
    expect(await platformsCount()).toBe(before);
  });
});

describe('§2: an invitation registers one new platform, served by its own origin', () => {
  it('a fresh invitation with a configuration that claims registered platform C\'s issuer from another origin: refused, C unchanged, no registration posted', async () => {
    const before = await platformOf(c.issuer, 'cliente-c');
    const jwksBefore = (await before!.platformAuthConfig()).key;
    const res = await register(await invite(), `${fake.base}/claims-c`);
    expect(res.status).toBe(424);
    expect(lead(res.text)).toContain(`El issuer de la configuración OpenID (${c.issuer}) no corresponde a la dirección desde la que se leyó (${fake.base})`);
    expect(fake.hits).toEqual(['GET /claims-c']);
    const after = await platformOf(c.issuer, 'cliente-c');
    expect((await after!.platformAuthConfig()).key).toBe(jwksBefore);
    expect(await after!.platformAuthEndpoint()).toBe(`${c.url}/auth`);
    expect(await after!.platformActive()).toBe(true);
  });

  it('the invitation that registered C, used with that configuration: refused before any outbound request', async () => {
    const res = await new HttpClient().get(`${registerUrlOfC}&openid_configuration=${encodeURIComponent(`${fake.base}/claims-c`)}&registration_token=t`);
    expect(res.status).toBe(403);
    expect(lead(res.text)).toContain('Esta invitación ya se usó para registrar otra plataforma.');
    expect(fake.hits).toEqual([]);
    expect((await (await platformOf(c.issuer, 'cliente-c'))!.platformAuthConfig()).key).toBe(`${c.url}/jwks`);
  });

  it('a fresh invitation whose platform answers an issuer and client_id already registered: refused with its own message, C unchanged', async () => {
    const before = await platformsCount();
    const res = await new HttpClient().get(c.startDynamicRegistration(`${sys.config.publicUrl}/lti/register?invite=${await invite()}`));
    expect(res.status).toBe(409);
    expect(lead(res.text)).toContain(`Esta plataforma ya está registrada en Asistencia SENCE (${c.issuer}, client_id cliente-c)`);
    expect(lead(res.text)).toContain('una invitación nueva solo registra una plataforma nueva');
    expect(await platformsCount()).toBe(before);
  });

  it('a registration endpoint on another origin is refused without posting anything there', async () => {
    const res = await register(await invite(), `${fake.base}/registration-elsewhere`);
    expect(res.status).toBe(424);
    expect(lead(res.text)).toContain(`El registration_endpoint (${other.base}/register) no está en la misma dirección que la configuración OpenID (${fake.base})`);
    expect(fake.hits).toEqual(['GET /registration-elsewhere']);
    expect(other.hits).toEqual([]);
  });

  describe('a used invitation: only Moodle\'s "Update" of the platform it created, within its validity', () => {
    let code = '';
    beforeAll(async () => {
      code = await invite(24, 'Moodle falso');
      const res = await register(code, `${fake.base}/openid-configuration`);
      expect(res.status).toBe(200);
      expect(res.text).toContain('Registro completado');
    });
    afterAll(removeFakePlatform);

    it('"Register as a new external tool" with it (a new client_id): refused, no second platform', async () => {
      const before = await platformsCount();
      fake.clientId = 'fake-client-2';
      const res = await register(code, `${fake.base}/openid-configuration`);
      expect(res.status).toBe(409);
      expect(lead(res.text)).toContain(`Esta invitación ya registró la plataforma ${fake.base} (client_id fake-client) y no sirve para registrar otra herramienta`);
      expect(await platformsCount()).toBe(before);
      expect(await platformOf(fake.base, 'fake-client-2')).toBeNull();
    });

    it('"Update" after the invitation expired: refused before any outbound request', async () => {
      clockOffsetMs = 25 * 3_600_000;
      const res = await register(code, `${fake.base}/openid-configuration`);
      expect(res.status).toBe(403);
      expect(lead(res.text)).toContain('La invitación venció.');
      expect(fake.hits).toEqual([]);
    });

    it('"Update" of a platform the operator deactivated: refused before any outbound request, and it stays inactive', async () => {
      const p = await platformOf(fake.base, 'fake-client');
      await p!.platformActive(false);
      await sys.lti.refreshPlatformOrigins();
      const res = await register(code, `${fake.base}/openid-configuration`);
      expect(res.status).toBe(403);
      expect(lead(res.text)).toContain('fue desactivada por el operador de Asistencia SENCE');
      expect(fake.hits).toEqual([]);
      expect(await (await platformOf(fake.base, 'fake-client'))!.platformActive()).toBe(false);
      expect(await csp()).not.toContain(fake.base);
      await p!.platformActive(true);
      await sys.lti.refreshPlatformOrigins();
    });

    it('"Update" within its validity, of its own active platform, from its own origin: "Registro actualizado"', async () => {
      const res = await register(code, `${fake.base}/openid-configuration`);
      expect(res.status).toBe(200);
      expect(res.text).toContain('Registro actualizado');
      expect(fake.hits).toEqual(['GET /openid-configuration', 'POST /register']);
    });
  });
});

describe('§3: bounded outbound requests, nothing the remote side said, three failed attempts per invitation', () => {
  it.each([
    ['a redirect', '/redirect', 'respondió con una redirección'],
    ['a body over 64 kB', '/huge', 'respondió más de 65536 bytes'],
  ])('%s is refused with a 424 page that tells the administrator why, and the invitation can be retried', async (_name, p, why) => {
    const code = await invite();
    const res = await register(code, `${fake.base}${p}`);
    expect(res.status).toBe(424);
    expect(lead(res.text)).toContain('No se pudo completar el registro dinámico');
    expect(lead(res.text)).toContain(why);
    expect(lead(res.text)).toContain('Le quedan 2 intentos con esta invitación');
    expect(fake.hits).toEqual([`GET ${p}`]);
    const retry = await register(code, `${fake.base}/openid-configuration`);
    expect(retry.status).toBe(200);
    expect(retry.text).toContain('fake-client');
    await removeFakePlatform();
  });

  it.each([
    ['the configuration', (b: string) => `${b}/status/403`, 'La configuración OpenID (openid_configuration) respondió 403'],
    ['the registration endpoint', (b: string) => `${b}/registration-refused`, 'El registration_endpoint respondió 403'],
  ])('a non-2xx answer of %s: its status, never its body', async (_name, url, says) => {
    const res = await register(await invite(), url(fake.base));
    expect(res.status).toBe(424);
    expect(lead(res.text)).toContain(says);
    expect(res.text).not.toContain('SECRETO');
    expect(res.text).not.toContain('abc123');
  });

  it('a closed port and a platform that never answers: the same page, and neither answers before the timeout', async () => {
    const closedPort = await freePort();
    const answers = [];
    for (const url of [`http://127.0.0.1:${closedPort}/openid-configuration`, `${fake.base}/slow`]) {
      const started = Date.now();
      const res = await register(await invite(), url);
      answers.push({ status: res.status, lead: lead(res.text), ms: Date.now() - started });
    }
    expect(answers[0]!.status).toBe(424);
    expect(answers[1]!.status).toBe(424);
    expect(answers[0]!.lead).toBe(answers[1]!.lead);
    expect(answers[0]!.lead).toContain('No se pudo conectar con la configuración OpenID (openid_configuration) o no respondió a tiempo');
    for (const a of answers) expect(a.ms).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(answers[1]!.ms).toBeLessThan(TIMEOUT_MS + 3000);
  });

  it('a successful registration makes exactly one GET of the configuration and one POST to its own registration endpoint', async () => {
    const res = await register(await invite(), `${fake.base}/openid-configuration`);
    expect(res.status).toBe(200);
    expect(fake.hits).toEqual(['GET /openid-configuration', 'POST /register']);
    await removeFakePlatform();
  });

  it('at the limit: after 2 failed attempts the 3rd may still succeed', async () => {
    const code = await invite();
    for (let i = 0; i < 2; i++) expect((await register(code, `${fake.base}/status/500`)).status).toBe(424);
    const third = await register(code, `${fake.base}/openid-configuration`);
    expect(third.status).toBe(200);
    expect(third.text).toContain('Registro completado');
    await removeFakePlatform();
  });

  it('past the limit: after 3 failed attempts the invitation is spent, refused before any outbound request', async () => {
    const code = await invite();
    const leads = [];
    for (let i = 0; i < 3; i++) {
      const res = await register(code, `${fake.base}/status/500`);
      expect(res.status).toBe(424);
      leads.push(lead(res.text));
    }
    expect(leads[0]).toContain('Le quedan 2 intentos con esta invitación');
    expect(leads[1]).toContain('Le queda 1 intento con esta invitación');
    expect(leads[2]).toContain('La invitación se agotó');
    fake.hits.length = 0;
    const fourth = await register(code, `${fake.base}/openid-configuration`);
    expect(fourth.status).toBe(403);
    expect(lead(fourth.text)).toContain('La invitación se agotó después de 3 intentos fallidos. Pida una nueva al operador de Asistencia SENCE.');
    expect(fake.hits).toEqual([]);
    expect(await platformOf(fake.base, 'fake-client')).toBeNull();
  });

  it('concurrent attempts with one fresh invitation: one at a time (the others are refused before any outbound request)', async () => {
    const code = await invite();
    const answers = await Promise.all([0, 1, 2, 3, 4].map(() => register(code, `${fake.base}/slow`)));
    expect(answers.filter((a) => a.status === 424)).toHaveLength(1);
    expect(answers.filter((a) => a.status === 403).every((a) => lead(a.text).includes('La invitación ya se está usando'))).toBe(true);
    expect(fake.hits).toEqual(['GET /slow']);
  });
});

describe('§7: error pages can be read inside the LMS that opened them', () => {
  const frameAncestors = (res: { headers: Headers }) => /frame-ancestors ([^;]*)/.exec(res.headers.get('content-security-policy') ?? '')?.[1]?.split(' ') ?? [];

  it('a refused registration may be framed by the page that opened it (Referer), with nothing to act on and what to do next', async () => {
    const res = await new HttpClient().get(`${sys.url}/lti/register?openid_configuration=${encodeURIComponent('https://moodle.otec.example/mod/lti/openid-configuration.php')}`, { referer: 'https://moodle.otec.example/mod/lti/startltiadvregistration.php?url=x' });
    expect(res.status).toBe(403);
    expect(frameAncestors(res)).toContain('https://moodle.otec.example');
    expect(res.text).toContain('necesita una invitación del operador de Asistencia SENCE');
    expect(res.text).not.toMatch(/<form|<a |data-ltik|<button/);
  });

  it('an inactive platform\'s login error may be framed by its Origin', async () => {
    const res = await new HttpClient().post(`${sys.url}/lti/login`, { iss: 'https://no-activa.example', login_hint: 'x', target_link_uri: `${sys.config.publicUrl}/lti` }, { origin: 'https://no-activa.example' });
    expect(res.status).toBe(400);
    expect(frameAncestors(res)).toContain('https://no-activa.example');
    expect(res.text).not.toMatch(/<form|<a |data-ltik|<button/);
  });

  it.each([
    ['a javascript: Referer', { referer: 'javascript:alert(1)' }],
    ['Origin: null', { origin: 'null' }],
    ['an Origin with a second directive', { origin: 'https://a.example; script-src *' }],
    ['an Origin list', { origin: 'https://a.example https://b.example' }],
    ['a data: Referer', { referer: 'data:text/html,x' }],
    ['an Origin whose host carries a semicolon (a URL parser accepts it)', { origin: 'https://a.example;script-src' }],
    ['an Origin whose host carries a comma', { origin: 'https://a.example,https://b.example' }],
  ])('%s is never put in the header', async (_name, headers) => {
    const normal = await csp();
    const res = await new HttpClient().get(`${sys.url}/lti/register`, headers);
    expect(res.status).toBe(403);
    expect(res.headers.get('content-security-policy')).toBe(normal);
  });

  it('normal pages are not framable by whoever sent the Referer', async () => {
    const res = await new HttpClient().get(`${sys.url}/`, { referer: 'https://moodle.otec.example/' });
    expect(res.status).toBe(200);
    expect(frameAncestors(res)).not.toContain('https://moodle.otec.example');
  });
});

describe('CSP and next steps for platforms', () => {
  it('an inactive platform\'s origin is not in the CSP; its launch page names the real issuer and client_id', async () => {
    const urls = toolUrls(sys.config.publicUrl);
    const d = await startLmsSimulator({ port: 0, clientId: 'cliente-d', users: DEMO_USERS, tool: { loginUrl: urls.login, launchUrl: urls.launch, jwksUrl: urls.keys } });
    try {
      await sys.lti.registerPlatform({ ...d.platform, name: 'Moodle D' });
      const p = await sys.lti.provider.getPlatform(d.issuer, 'cliente-d');
      if (!p || Array.isArray(p)) throw new Error('not registered');
      await p.platformActive(false);
      await sys.lti.refreshPlatformOrigins();
      expect(await csp()).not.toContain(d.url);
      const client = new HttpClient();
      const course = await client.get(`${d.url}/course?user=ana`);
      const form = /<form[^>]*id="lti-launch"[\s\S]*?<\/form>/.exec(course.text)![0];
      const fields = Object.fromEntries([...form.matchAll(/name="([^"]+)" value="([^"]*)"/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&').replace(/&#34;|&quot;/g, '"')]));
      const res = await client.post(`${sys.url}/lti/login`, fields);
      expect(res.status).toBe(401);
      expect(res.text).toContain(`npm run cli -- platform activate --issuer ${d.issuer} --client-id cliente-d`);
      expect(res.text).not.toContain('--issuer URL --client-id ID');
    } finally {
      await d.close();
    }
  });

  it('an activity with a legacy LTI 1.1 consumer key (sent as aud) gets a page whose staff hint says to recreate it', async () => {
    c.tamperNextIdToken({ claims: (cl) => ({ ...cl, aud: 'resourcekey-lti11', [CLAIM.roles]: cl[CLAIM.roles] }) });
    const { launched } = await postLaunch(c, 'diego');
    expect(launched.status).toBe(401);
    expect(launched.text).toContain('clave de consumidor');
    expect(launched.text).toContain('elimine la actividad y vuelva a crearla');
  });
});
