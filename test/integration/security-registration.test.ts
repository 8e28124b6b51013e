/**
 * Issue #7, finding 5: dynamic registration needs the operator's one-time invitation. Without one:
 * 403 (Spanish page, audited) before any outbound request. With one, through the LMS simulator's
 * Moodle-like dynamic registration: the platform is active at once, the page says what to do next
 * with the real issuer and client_id and may be framed by the new platform, Moodle's "Update"
 * updates it, and outbound requests have a timeout, a size cap and no redirects. Only active
 * platforms enter the CSP.
 */
import express from 'express';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { HttpClient } from '../support/http-client';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { launchOn, postLaunch } from '../support/launch-on';
import { startLmsSimulator, CLAIM, DEMO_USERS, type LmsSimulator } from '../../src/simulators/lms';
import { toolUrls } from '../../src/lti/tool-urls';
import { createInvite } from '../../src/application/registration-invites';

let sys: TestSystem;
let c: LmsSimulator;
let fake: { server: Server; base: string; hits: string[] };

async function startFake(): Promise<typeof fake> {
  const app = express();
  const hits: string[] = [];
  let base = '';
  app.use((req, _res, next) => {
    hits.push(`${req.method} ${req.path}`);
    next();
  });
  app.get('/openid-configuration', (_req, res) => {
    res.json({ issuer: base, authorization_endpoint: `${base}/auth`, token_endpoint: `${base}/token`, jwks_uri: `${base}/certs`, registration_endpoint: `${base}/register` });
  });
  app.get('/redirect', (_req, res) => res.redirect(`${base}/openid-configuration`));
  app.get('/huge', (_req, res) => res.json({ pad: 'x'.repeat(100_000) }));
  app.get('/slow', () => undefined); // never answers
  app.post('/register', (_req, res) => res.json({ client_id: 'fake-client' }));
  const server = await new Promise<Server>((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { server, base, hits };
}

beforeAll(async () => {
  // This file registers more than 10 times a minute from one address: the limit is tested in security-audit-flood.
  sys = await startTestSystem({}, { rateLimits: { registrationsPerAddress: 1000 } });
  const urls = toolUrls(sys.config.publicUrl);
  c = await startLmsSimulator({ port: 0, clientId: 'cliente-c', users: DEMO_USERS, tool: { loginUrl: urls.login, launchUrl: urls.launch, jwksUrl: urls.keys, deepLinkUrl: urls.launch } });
  fake = await startFake();
});
afterAll(async () => {
  fake?.server.closeAllConnections();
  fake?.server.close();
  await c?.close();
  await sys?.stop();
});
beforeEach(() => {
  fake.hits.length = 0;
});

const invite = async (hours = 24, name: string | null = 'Moodle C') => (await createInvite(sys.stores, { name, hours, now: new Date() })).code;
const platformsCount = async () => ((await sys.lti.provider.getAllPlatforms()) || []).length;
// One retry: after the 5 s test, the kept-alive socket may be closed by the server just as it is reused.
const csp = async () => ((await fetch(`${sys.url}/`).catch(() => fetch(`${sys.url}/`))).headers.get('content-security-policy') ?? '');

describe('without a valid invitation', () => {
  it.each([
    ['no invitation', ''],
    ['a malformed invitation', 'invite=abc&'],
    ['an unknown invitation', `invite=${'A'.repeat(32)}&`],
  ])('%s: 403 in Spanish, audited, no outbound request, no platform, CSP unchanged', async (_name, prefix) => {
    const before = await platformsCount();
    const res = await new HttpClient().get(`${sys.url}/lti/register?${prefix}openid_configuration=${encodeURIComponent(`${fake.base}/openid-configuration`)}&registration_token=t`);
    expect(res.status).toBe(403);
    expect(res.text).toMatch(/necesitas una invitación del operador de Asistencia SENCE|La invitación no es válida/);
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
  let registerUrl = '';

  it('registers platform C, active at once, with the next steps and the real issuer and client_id', async () => {
    registerUrl = `${sys.config.publicUrl}/lti/register?invite=${await invite()}`;
    const opened = c.startDynamicRegistration(registerUrl);
    expect(opened).toContain('invite='); // Moodle keeps the tool URL's query
    const res = await new HttpClient().get(opened);
    expect(res.status).toBe(200);
    expect(res.text).toContain('Registro completado');
    expect(res.text).toContain(`<strong>${c.issuer}</strong>`);
    expect(res.text).toContain('<code id="dynreg-client-id">cliente-c</code>');
    expect(res.text).toContain('Mostrar en el selector de actividades');
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
    const res = await new HttpClient().get(c.startDynamicRegistration(registerUrl));
    expect(res.status).toBe(200);
    expect(res.text).toContain('Registro actualizado');
    expect(c.toolRegistrations).toHaveLength(2);
  });

  it('the used invitation cannot register another platform', async () => {
    const before = await platformsCount();
    const res = await new HttpClient().get(`${registerUrl}&openid_configuration=${encodeURIComponent(`${fake.base}/openid-configuration`)}`);
    expect(res.status).toBe(403);
    expect(res.text).toContain('Esta invitación ya se usó para registrar otra plataforma.');
    expect(fake.hits).not.toContain('POST /register');
    expect(await platformsCount()).toBe(before);
  });
});

describe('outbound requests: no redirects, a size cap, a timeout; a failure keeps the invitation usable', () => {
  it.each([
    ['a redirect', '/redirect'],
    ['a body over 64 kB', '/huge'],
  ])('%s is refused with a 424 page that tells the administrator why', async (_name, p) => {
    const code = await invite();
    const res = await new HttpClient().get(`${sys.url}/lti/register?invite=${code}&openid_configuration=${encodeURIComponent(`${fake.base}${p}`)}`);
    expect(res.status).toBe(424);
    expect(res.text).toContain('No se pudo completar el registro dinámico');
    expect(res.text).toMatch(/redirección|más de 65536 bytes/);
    expect(fake.hits).toEqual([`GET ${p}`]);
    // The invitation is still usable.
    const retry = await new HttpClient().get(`${sys.url}/lti/register?invite=${code}&openid_configuration=${encodeURIComponent(`${fake.base}/openid-configuration`)}`);
    expect(retry.status).toBe(200);
    expect(retry.text).toContain('fake-client');
    await sys.lti.provider.deletePlatform(fake.base, 'fake-client');
    await sys.lti.refreshPlatformOrigins();
  });

  it('a platform that never answers is given up after 5 s', async () => {
    const started = Date.now();
    const res = await new HttpClient().get(`${sys.url}/lti/register?invite=${await invite()}&openid_configuration=${encodeURIComponent(`${fake.base}/slow`)}`);
    expect(res.status).toBe(424);
    expect(res.text).toContain('no respondió en 5 s');
    expect(Date.now() - started).toBeLessThan(8000);
  }, 15_000);
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
