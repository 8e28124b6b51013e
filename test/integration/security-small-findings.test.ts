/**
 * Issue #7, finding 8: cross-site state-changing requests are refused (Origin check), personal
 * pages and the CSV are `Cache-Control: no-store`, and `/lti/login` bounds `login_hint` instead of
 * echoing 16 kB into `Location`. (CSV cells and PUBLIC_URL: test/unit/security-csv-config.test.ts;
 * busy port: security-busy-port.test.ts.)
 */
import { HttpClient } from '../support/http-client';
import { launchAs } from '../support/lti-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { DEMO_OTEC_ID } from '../../src/demo-seed';

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem();
});
afterAll(async () => {
  await sys?.stop();
});

const courseKey = () => ({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });
const settingsForm = { otecId: DEMO_OTEC_ID, lineaCapacitacion: '3', codSence: '1234567890', codigoCurso: '7654321', requiredHours: '12', environment: 'test', sessionLimitMinutes: '180', warningMinutes: '10' };

describe('Origin check on state-changing requests', () => {
  it('refuses a staff form posted from another site with a leaked ltik (403, nothing saved)', async () => {
    const diego = await launchAs(sys, 'diego');
    const before = await sys.stores.courses.get(courseKey());
    const res = await diego.client.post(`${sys.url}/lti/staff/settings`, { ltik: diego.ltik, ...settingsForm }, { origin: 'https://atacante.example' });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Esta acción solo se puede hacer desde las páginas de Asistencia SENCE o de tu plataforma.');
    expect(await sys.stores.courses.get(courseKey())).toEqual(before);
  });

  it('refuses Origin: null from another site or a sandboxed frame; accepts it from the tool\'s own page (Sec-Fetch-Site: same-origin)', async () => {
    const diego = await launchAs(sys, 'diego');
    for (const site of [undefined, 'cross-site', 'same-site']) {
      const res = await diego.client.post(`${sys.url}/lti/staff/settings`, { ltik: diego.ltik, ...settingsForm }, { origin: 'null', ...(site ? { 'sec-fetch-site': site } : {}) });
      expect([site, res.status]).toEqual([site, 403]);
    }
    // Our pages say Referrer-Policy: no-referrer, so the browser sends Origin: null for their own forms.
    const own = await diego.client.post(`${sys.url}/lti/staff/settings`, { ltik: diego.ltik, ...settingsForm }, { origin: 'null', 'sec-fetch-site': 'same-origin' });
    expect(own.status).toBe(200);
  });

  it('accepts the same form from the tool\'s own page and from the platform', async () => {
    const diego = await launchAs(sys, 'diego');
    const own = await diego.client.post(`${sys.url}/lti/staff/settings`, { ltik: diego.ltik, ...settingsForm }, { origin: new URL(sys.config.publicUrl).origin });
    expect(own.status).toBe(200);
    expect(own.text).toContain('Configuración guardada.');
    const fromPlatform = await diego.client.post(`${sys.url}/lti/staff/settings`, { ltik: diego.ltik, ...settingsForm, codigoCurso: '7654322' }, { origin: sys.lms!.url });
    expect(fromPlatform.status).toBe(200);
    expect((await sys.stores.courses.get(courseKey()))?.settings?.codigoCurso).toBe('7654322');
  });

  it('refuses the learner\'s "open session" button posted cross-site', async () => {
    const ana = await launchAs(sys, 'ana');
    const res = await ana.client.post(`${sys.url}/lti/sence/start`, { ltik: ana.ltik }, { origin: 'https://atacante.example' });
    expect(res.status).toBe(403);
    expect(await sys.stores.attendance.listSessions({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, sub: 'ana' }, courseKey())).toEqual([]);
  });
});

describe('Cache-Control: no-store', () => {
  it('on the panel, the staff pages, the CSV and the status JSON', async () => {
    const ana = await launchAs(sys, 'ana');
    expect(ana.panel.headers.get('cache-control')).toBe('no-store');
    const diego = await launchAs(sys, 'diego');
    const q = `ltik=${encodeURIComponent(diego.ltik)}`;
    for (const p of ['/lti/staff', '/lti/staff/report', '/lti/staff/export/sessions.csv', '/lti/staff/audit', '/lti/api/status']) {
      const res = await diego.client.get(`${sys.url}${p}?${q}`);
      expect([p, res.status, res.headers.get('cache-control')]).toEqual([p, 200, 'no-store']);
    }
  });

  it('not on the public key set', async () => {
    const res = await new HttpClient().get(`${sys.url}/lti/keys`);
    expect(res.headers.get('cache-control')).not.toBe('no-store');
  });
});

describe('/lti/login bounds login_hint (1024 characters)', () => {
  const login = (hint: string) => new HttpClient().post(`${sys.url}/lti/login`, { iss: sys.lms!.issuer, client_id: sys.lms!.clientId, login_hint: hint, target_link_uri: `${sys.config.publicUrl}/lti`, lti_message_hint: 'x' });
  it('accepts exactly 1024', async () => {
    const res = await login('a'.repeat(1024));
    expect(res.status).toBe(302);
  });
  it('refuses 1025 with a Spanish 400 and no Location', async () => {
    const res = await login('a'.repeat(1025));
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
    expect(res.text).toContain('La solicitud trae parámetros repetidos o con un formato no válido (login_hint)');
  });
  it('refuses 16 kB', async () => {
    const res = await login('a'.repeat(16 * 1024));
    expect(res.status).toBe(400);
    expect(res.headers.get('location')).toBeNull();
  });
});
