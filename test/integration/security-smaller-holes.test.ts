/**
 * Issue #19 §6, the smaller holes of the second attack round, over real HTTP on both stores
 * (TEST_STORE=mongo runs it on FerretDB): the deep-link POST without a body, the Platform Storage
 * check page (no ltik in it, its pending launch usable once), staff POSTs only from the ltik's own
 * platform, every course reference checked, and SENCE callback paths normalised once for the
 * routing, the per-attempt limit and the logs.
 */
import { HttpClient, formById, parseForms } from '../support/http-client';
import { launchAs } from '../support/lti-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { courseRef, PENDING_LAUNCH_SECONDS } from '../../src/lti/platform-storage';
import { DEMO_OTEC_ID } from '../../src/demo-seed';

const PER_ATTEMPT = 3;
const PLATFORM_B = { url: 'https://moodle-b.example', clientId: 'cliente-b', origin: 'https://moodle-b.example', auth: 'https://auth.moodle-b.example' };

let sys: TestSystem;
beforeAll(async () => {
  sys = await startTestSystem({ TRUST_PROXY: '1' }, { rateLimits: { callbacksPerAttempt: PER_ATTEMPT } });
  // A second, active platform: its origin is allowed to frame the tool, but not to post with A's ltiks.
  await sys.lti.registerPlatform({
    url: PLATFORM_B.url,
    name: 'Moodle B',
    clientId: PLATFORM_B.clientId,
    authenticationEndpoint: `${PLATFORM_B.auth}/auth`,
    accesstokenEndpoint: `${PLATFORM_B.url}/token`,
    authConfig: { method: 'JWK_SET', key: `${PLATFORM_B.url}/jwks` },
  });
});
afterAll(async () => {
  await sys?.stop();
});

const courseKey = () => ({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });
const settingsForm = { otecId: DEMO_OTEC_ID, lineaCapacitacion: '3', codSence: '1234567890', codigoCurso: '7654321', requiredHours: '12', environment: 'test', sessionLimitMinutes: '180', warningMinutes: '10' };

describe('POST /lti/deep-link without a body', () => {
  it('from a deep-linking launch answers 400 in Spanish (it was a 500: req.body undefined)', async () => {
    const { client, ltik } = await launchAs(sys, 'diego', { deepLink: true });
    expect(ltik).not.toBe('');
    const res = await client.request(`${sys.url}/lti/deep-link`, { method: 'POST', headers: { authorization: `Bearer ${ltik}` } });
    expect(res.status).toBe(400);
    expect(res.text).toContain('El formulario para agregar la actividad llegó vacío. Vuelva a abrir el selector de contenido desde su plataforma.');
    expect(sys.lms!.deepLinkResponses).toEqual([]);
  });
});

describe('the Platform Storage check page', () => {
  async function storageLaunch(client: HttpClient) {
    const fields = sys.lms!.loginInitiation('ana', { platformStorage: 'on' });
    const page = await client.post(`${sys.url}/lti/login`, fields);
    const el = /<div id="platform-storage"([^>]*)>/.exec(page.text)?.[1] ?? '';
    const data = (name: string) => (new RegExp(`data-${name}="([^"]*)"`).exec(el)?.[1] ?? '').replace(/&amp;/g, '&');
    const auth = await client.get(data('next'));
    const [post] = parseForms(auth.text, auth.url);
    const check = await client.submit(post!);
    return { state: data('value'), check, form: formById(check.text, check.url, 'storage-check-form') };
  }

  it('holds no ltik at all before the check passed (it had one in #tool-session, usable on /lti/api/status)', async () => {
    const client = new HttpClient({ cookies: false });
    const { check } = await storageLaunch(client);
    expect(check.status).toBe(200);
    expect(check.text).toContain('Confirmando que este ingreso se inició en este navegador');
    expect(check.text).not.toContain('tool-session');
    expect(check.text).not.toContain('data-ltik');
    // Nothing in the page that looks like a signed token (an ltik is a JWT: eyJ…).
    expect(check.text).not.toMatch(/eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\./);
  });

  it('its pending launch opens the panel once; a replay of the same answer is refused in Spanish', async () => {
    const client = new HttpClient({ cookies: false });
    const { form, state } = await storageLaunch(client);
    const first = await client.submit(form, { value: state });
    expect(first.status).toBe(200);
    expect(first.text).toContain('Ingreso confirmado. Abriendo tu panel');
    const replay = await client.submit(form, { value: state });
    expect(replay.status).toBe(401);
    expect(replay.text).toContain('Esta confirmación de ingreso ya se usó. Vuelve a entrar desde tu curso.');
    expect(replay.text).not.toMatch(/name="ltik"/);
  });

  it('two answers posted at once: exactly one opens the panel', async () => {
    const client = new HttpClient({ cookies: false });
    const { form, state } = await storageLaunch(client);
    const answers = await Promise.all([1, 2, 3].map(() => client.submit(form, { value: state })));
    expect(answers.map((a) => a.status).sort()).toEqual([200, 401, 401]);
  });

  it('a failed check spends it too (a wrong value, then the right one)', async () => {
    const client = new HttpClient({ cookies: false });
    const { form, state } = await storageLaunch(client);
    const wrong = await client.submit(form, { value: 'otro-estado' });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('Este ingreso no se inició en este navegador');
    const right = await client.submit(form, { value: state });
    expect(right.status).toBe(401);
    expect(right.text).toContain('Esta confirmación de ingreso ya se usó.');
  });

  it('the store keeps each pending launch once, until its expiry; the sweep removes expired ones', async () => {
    const t0 = new Date('2026-03-02T12:00:00Z');
    const expiresAt = new Date(t0.getTime() + PENDING_LAUNCH_SECONDS * 1000);
    await sys.stores.pendingLaunches.save('p-uno', expiresAt);
    await sys.stores.pendingLaunches.save('p-dos', expiresAt);
    await sys.stores.pendingLaunches.save('p-tres', expiresAt);
    expect(await sys.stores.pendingLaunches.consume('p-uno', t0)).toBe(true);
    expect(await sys.stores.pendingLaunches.consume('p-uno', t0)).toBe(false);
    expect(await sys.stores.pendingLaunches.consume('desconocido', t0)).toBe(false);
    // At exactly its expiry it is no longer usable.
    expect(await sys.stores.pendingLaunches.consume('p-dos', expiresAt)).toBe(false);
    // One millisecond before its expiry the sweep keeps it; at its expiry the sweep removes it.
    expect(await sys.stores.pendingLaunches.deleteExpired(new Date(expiresAt.getTime() - 1))).toBe(0);
    expect(await sys.stores.pendingLaunches.deleteExpired(expiresAt, 10)).toBe(2); // p-dos and p-tres
    expect(await sys.stores.pendingLaunches.consume('p-tres', t0)).toBe(false);
  });
});

describe('staff POSTs accept only the Origin of the ltik\'s own platform (and the tool\'s)', () => {
  it('refuses A\'s ltik posted with the Origin of active platform B (403, nothing saved); accepts A\'s origin and the tool\'s', async () => {
    expect(sys.lti.platformOrigins()).toContain(PLATFORM_B.origin);
    const diego = await launchAs(sys, 'diego');
    const before = await sys.stores.courses.get(courseKey());
    for (const origin of [PLATFORM_B.origin, PLATFORM_B.auth]) {
      const res = await diego.client.post(`${sys.url}/lti/staff/settings`, { ltik: diego.ltik, ...settingsForm, codigoCurso: '1111111' }, { origin });
      expect([origin, res.status]).toEqual([origin, 403]);
      expect(res.text).toContain('Esta acción solo se puede hacer desde las páginas de Asistencia SENCE o de tu plataforma.');
    }
    expect(await sys.stores.courses.get(courseKey())).toEqual(before);
    const fromA = await diego.client.post(`${sys.url}/lti/staff/settings`, { ltik: diego.ltik, ...settingsForm, codigoCurso: '7654322' }, { origin: new URL(sys.lms!.url).origin });
    expect(fromA.status).toBe(200);
    expect((await sys.stores.courses.get(courseKey()))?.settings?.codigoCurso).toBe('7654322');
    const fromTool = await diego.client.post(`${sys.url}/lti/staff/settings`, { ltik: diego.ltik, ...settingsForm, codigoCurso: '7654323' }, { origin: new URL(sys.config.publicUrl).origin });
    expect(fromTool.status).toBe(200);
    expect((await sys.stores.courses.get(courseKey()))?.settings?.codigoCurso).toBe('7654323');
  });

  it('the learner\'s button too: B\'s origin with A\'s ltik is refused and opens no session', async () => {
    const ana = await launchAs(sys, 'ana');
    const res = await ana.client.post(`${sys.url}/lti/sence/start`, { ltik: ana.ltik }, { origin: PLATFORM_B.origin });
    expect(res.status).toBe(403);
    expect(res.text).toContain('Esta acción solo se puede hacer desde las páginas de Asistencia SENCE o de tu plataforma.');
    expect(await sys.stores.attendance.listSessions({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, sub: 'ana' }, courseKey())).toEqual([]);
  });
});

describe('course binding: every course reference present must match', () => {
  it('refuses a request whose body names its course but whose header or query names another', async () => {
    const diego = await launchAs(sys, 'diego');
    const other = courseRef({ ...courseKey(), contextId: 'otro-curso' });
    const cases: Array<{ name: string; query: string; headers: Record<string, string>; body: Record<string, string> }> = [
      { name: 'body ok, header other', query: '', headers: { 'x-asistencia-course': other }, body: { course: diego.course } },
      { name: 'body ok, query other', query: `?course=${other}`, headers: {}, body: { course: diego.course } },
      { name: 'header ok, query other', query: `?course=${other}`, headers: { 'x-asistencia-course': diego.course }, body: {} },
      { name: 'body other, header ok', query: '', headers: { 'x-asistencia-course': diego.course }, body: { course: other } },
    ];
    const before = await sys.stores.courses.get(courseKey());
    for (const c of cases) {
      const res = await diego.client.post(`${sys.url}/lti/staff/settings${c.query}`, { ltik: diego.ltik, ...settingsForm, codigoCurso: '2222222', ...c.body }, c.headers);
      expect([c.name, res.status]).toEqual([c.name, 403]);
      expect(res.text).toContain('Esta página pertenece a otro curso o a otro ingreso.');
    }
    expect(await sys.stores.courses.get(courseKey())).toEqual(before);
    // All three naming the same (its own) course: accepted.
    const ok = await diego.client.post(`${sys.url}/lti/staff/settings?course=${diego.course}`, { ltik: diego.ltik, ...settingsForm, course: diego.course }, { 'x-asistencia-course': diego.course });
    expect(ok.status).toBe(200);
  });
});

describe('SENCE callback paths: one normalised form for routing, the per-attempt limit and the logs', () => {
  const ATTEMPT = 'AtTeMpT_0123';
  const TOKEN = 'SeCrEtToKeN-0123456789';
  const from = (ip: string) => ({ 'x-forwarded-for': ip });
  /** Percent-encodes every character of `s` (all unreserved). */
  const encodeAll = (s: string) => [...s].map((ch) => `%${ch.charCodeAt(0).toString(16).toUpperCase().padStart(2, '0')}`).join('');

  const variants = (attempt: string, token: string): string[] => [
    `/cb/ok/${attempt}.${token}`,
    `/CB/ok/${attempt}.${token}`,
    `/cB/Ok/${attempt}.${token}`,
    `/cb/ok/${attempt}%2E${token}`,
    `/cb/ok/${attempt}%2e${token}`,
    `/cb/ok/${encodeAll(attempt)}.${token}`,
    `/c%62/o%4B/${attempt}.${token}`,
    `//cb/ok/${attempt}.${token}`,
    `/cb//ok//${attempt}.${token}`,
    `/cb/ok/${attempt}.${token}/`,
  ];

  it(`every variant of one attempt's path counts on the same key: ${PER_ATTEMPT} answered, then 429`, async () => {
    for (let i = 0; i < variants(ATTEMPT, TOKEN).length; i++) {
      // A fresh attempt id per variant, its first PER_ATTEMPT posts in the canonical form.
      const attempt = `${ATTEMPT.slice(0, 10)}${String(i).padStart(2, '0')}`;
      for (let n = 1; n <= PER_ATTEMPT; n++) {
        const res = await new HttpClient().post(`${sys.url}/cb/ok/${attempt}.${TOKEN}`, {}, from(`198.51.100.${i + 1}`));
        expect([attempt, n, res.status]).toEqual([attempt, n, 403]);
      }
      const path = variants(attempt, TOKEN)[i]!;
      const over = await new HttpClient().post(`${sys.url}${path}`, {}, from(`198.51.100.${i + 1}`));
      expect([path, over.status]).toEqual([path, 429]);
      expect(over.text).toContain('Demasiadas solicitudes seguidas.');
    }
  });

  it('every variant reaches the callback route (a 403 for an unknown attempt, not a 404), as the canonical form does', async () => {
    // One attempt id per variant (the per-attempt limit is not what this test is about).
    for (let i = 0; i < variants(ATTEMPT, TOKEN).length; i++) {
      const v = variants(`VaRiAnT_01${String(i).padStart(2, '0')}`, TOKEN)[i]!;
      const res = await new HttpClient().post(`${sys.url}${v}`, {}, from(`198.51.100.${100 + i}`));
      expect([v, res.status]).toEqual([v, 403]);
      expect(res.text).toContain('Este enlace de respuesta de SENCE no es válido.');
    }
  });

  it('the callback token is redacted from the request\'s log line in every variant', async () => {
    for (let i = 0; i < variants(ATTEMPT, TOKEN).length; i++) {
      const attempt = `LoGgEd_012${String(i).padStart(2, '0')}`;
      const v = variants(attempt, TOKEN)[i]!;
      const res = await new HttpClient().post(`${sys.url}${v}`, {}, { ...from(`198.51.100.${200 + i}`), 'x-request-id': `req-callback-${i}-variant` });
      expect(res.status).not.toBe(500);
      const lines = sys.logger.lines.filter((l) => l.fields.reqId === `req-callback-${i}-variant`);
      expect([v, lines.length > 0]).toEqual([v, true]);
      const text = JSON.stringify(lines);
      expect([v, text.includes(TOKEN)]).toEqual([v, false]);
      const request = lines.find((l) => l.message === 'request');
      expect([v, request?.fields.path]).toEqual([v, `/cb/ok/${attempt}.[redactado]`]);
    }
  });
});
