/**
 * The whole LTI 1.3 launch over real HTTP through the LMS simulator (login → authorization →
 * form_post → panel), for learners and instructors, and every bad input of issue #2: each gets a
 * clear Spanish page (or JSON), a 4xx, a log line, and changes nothing stored.
 */
import { HttpClient, parseForms } from '../support/http-client';
import { authorize, launchAs, loginInitiation } from '../support/lti-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { DEMO_USERS } from '../../src/simulators/lms';

let sys: TestSystem;
const EVA = { id: 'eva', name: 'Eva Muñoz', givenName: 'Eva', familyName: 'Muñoz', email: 'eva@example.cl', role: 'learner' as const, customRut: '11111111-1', sourcedId: '' };
const ZOE = { id: 'zoe', name: 'Zoe Lara', givenName: 'Zoe', familyName: 'Lara', email: 'zoe@example.cl', role: 'learner' as const, customRut: '12.345.678-9', sourcedId: '' };

beforeAll(async () => {
  sys = await startTestSystem({}, { lms: { users: [...DEMO_USERS, EVA, ZOE] } });
});
afterAll(async () => {
  await sys?.stop();
});

const keyOf = (sub: string) => ({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, sub });
const logged = (code: string) => sys.logger.lines.some((l) => l.fields.code === code);

describe('learner launch', () => {
  it('shows Ana the Asistencia SENCE panel with progress bar, accredited time and the open button', async () => {
    const { panel, ltik } = await launchAs(sys, 'ana');
    expect(panel.status).toBe(200);
    expect(ltik).not.toBe('');
    expect(panel.text).toContain('<html lang="es">');
    expect(panel.text).toMatch(/<progress[^>]*value="0"/);
    expect(panel.text).toContain('TIEMPO ACREDITADO EN SENCE: 0 minutos');
    expect(panel.text).toContain('CLICK AQUÍ PARA ABRIR SESIÓN EN SENCE');
    expect(panel.text).toContain('RUN 12345678-5');
    expect(panel.text).not.toContain('MARCA DE ACCESO EN SENCE ACREDITADA PREVIAMENTE');
    expect(panel.text).toContain('claveunica.gob.cl');
    expect(panel.text).toMatch(/declaración jurada/i);
    const learner = await sys.stores.learners.get(keyOf('ana'));
    expect(learner).toMatchObject({ run: '12345678-5', runSource: 'custom', name: 'Ana Pérez' });
  });

  it('takes the RUN from lis.person_sourcedid when no custom parameter is configured (Camila)', async () => {
    const { panel } = await launchAs(sys, 'camila');
    expect(panel.status).toBe(200);
    expect(panel.text).toContain('RUN 9876543-3');
    expect((await sys.stores.learners.get(keyOf('camila')))?.runSource).toBe('lis');
  });

  it('tells Bruno in plain Spanish what to do when the LMS sent no RUN, shows staff which setting to fix, and stores nothing', async () => {
    const { panel } = await launchAs(sys, 'bruno');
    expect(panel.status).toBe(422);
    expect(panel.text).toContain('No tenemos tu RUN');
    expect(panel.text).toContain('Avísale a tu relator o coordinador');
    expect(panel.text).toContain('llegó «$User.username» sin reemplazar');
    expect(panel.text).toContain('rut=$Person.sourcedId');
    expect(panel.text).toMatch(/id="open-button"[^>]*disabled/);
    expect(panel.text).not.toMatch(/at \w+ \(|Error:/); // never a stack trace
    expect(await sys.stores.learners.get(keyOf('bruno'))).toBeNull();
    expect(logged('run-missing')).toBe(true);
  });

  it('refuses a RUN whose check digit is wrong (Zoe) with the same guidance, storing nothing', async () => {
    const { panel } = await launchAs(sys, 'zoe');
    expect(panel.status).toBe(422);
    expect(panel.text).toContain('cuyo dígito verificador no es válido');
    expect(await sys.stores.learners.get(keyOf('zoe'))).toBeNull();
    expect(logged('run-invalid')).toBe(true);
  });

  it('serves the status JSON the panel polls, with server time', async () => {
    const { client, ltik } = await launchAs(sys, 'ana');
    const res = await client.get(`${sys.url}/lti/api/status?ltik=${encodeURIComponent(ltik)}`, { accept: 'application/json' });
    expect(res.status).toBe(200);
    const body = JSON.parse(res.text);
    expect(body).toMatchObject({ configured: true, accreditedText: '0 minutos', percent: 0, percentText: '0\u202f%', accessMark: false, active: null });
    expect(Math.abs(Date.parse(body.now) - Date.now())).toBeLessThan(5000);
  });

  it('accepts the OIDC login initiation as a GET too (query parameters)', async () => {
    const client = new HttpClient();
    const fields = sys.lms!.loginInitiation('camila');
    const toAuth = await client.get(`${sys.url}/lti/login?${new URLSearchParams(fields).toString()}`);
    expect(toAuth.status).toBe(302);
    const auth = await client.get(new URL(toAuth.headers.get('location')!, toAuth.url).toString());
    const panel = await client.submit(parseForms(auth.text, auth.url)[0]!);
    expect(panel.status).toBe(200);
    expect(panel.text).toContain('RUN 9876543-3');
  });

  it('sends the platform a fresh random state and nonce and the link without its query, and the launch still opens the panel', async () => {
    const client = new HttpClient();
    const login = await loginInitiation(sys, client, 'ana');
    login.fields.target_link_uri = `${login.fields.target_link_uri}?vista=panel`;
    const locations = [];
    for (let i = 0; i < 2; i++) {
      const toAuth = await client.submit(login);
      expect(toAuth.status).toBe(302);
      locations.push(new URL(toAuth.headers.get('location')!, toAuth.url));
    }
    const [first, second] = locations as [URL, URL];
    expect(first.searchParams.get('redirect_uri')).toBe(`${sys.config.publicUrl}/lti`);
    expect(first.searchParams.get('nonce')).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect(first.searchParams.get('state')).toMatch(/^[0-9a-f]{50}$/);
    expect(second.searchParams.get('nonce')).not.toBe(first.searchParams.get('nonce'));
    expect(second.searchParams.get('state')).not.toBe(first.searchParams.get('state'));
    const auth = await client.get(second.toString());
    const [post] = parseForms(auth.text, auth.url);
    const panel = await client.submit(post!);
    expect(panel.status).toBe(200);
    expect(panel.text).toContain('TIEMPO ACREDITADO EN SENCE');
  });

  it('caches the platform key set instead of fetching it on every launch', async () => {
    const before = sys.lti.keyCache.fetches;
    await launchAs(sys, 'ana');
    await launchAs(sys, 'camila');
    expect(sys.lti.keyCache.fetches - before).toBe(0);
    expect(sys.lti.keyCache.fetches).toBeLessThanOrEqual(1);
  });
});

describe('instructor launch', () => {
  it('tells Diego he is staff and links to the course setup', async () => {
    const { panel, ltik } = await launchAs(sys, 'diego');
    expect(panel.status).toBe(200);
    expect(panel.text).toContain('Ingresó como parte del equipo docente');
    // The settings link carries no ltik: public/tool-nav.js posts it with the page's session.
    expect(panel.text).toContain('<a class="nav-link" id="nav-settings" href="/lti/staff"><span>Configuración<span class="nav-more"> SENCE</span></span></a>');
    expect(panel.text).toContain(`<div id="tool-session" hidden data-ltik="${ltik}"`);
    expect(panel.text).toContain('<script src="/public/tool-nav.js" defer></script>');
    expect(panel.text).not.toContain(`ltik=${encodeURIComponent(ltik)}`);
    expect(panel.text).not.toContain('CLICK AQUÍ PARA ABRIR SESIÓN EN SENCE');
  });

  it('lets Diego place the panel from the content picker (deep linking back to the LMS)', async () => {
    const { client, panel } = await launchAs(sys, 'diego', { deepLink: true });
    expect(panel.status).toBe(200);
    expect(panel.text).toContain('Agregar Asistencia SENCE');
    const picker = parseForms(panel.text, panel.url).find((f) => f.action.endsWith('/lti/deep-link'))!;
    const back = await client.submit(picker, { title: 'Asistencia SENCE — módulo 1' });
    expect(back.status).toBe(200);
    const [toLms] = parseForms(back.text, back.url);
    expect(toLms!.action).toBe(`${sys.lms!.url}/deep-linking/return`);
    const done = await client.submit(toLms!);
    expect(done.status).toBe(200);
    expect(sys.lms!.deepLinkResponses.at(-1)?.items).toEqual([expect.objectContaining({ type: 'ltiResourceLink', title: 'Asistencia SENCE — módulo 1' })]);
  });
});

describe('registration values', () => {
  it('publishes the tool JWKS at /lti/keys', async () => {
    const res = await new HttpClient().get(`${sys.url}/lti/keys`);
    expect(res.status).toBe(200);
    const jwks = JSON.parse(res.text);
    expect(jwks.keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', use: 'sig' });
    expect(typeof jwks.keys[0].kid).toBe('string');
  });

  it('serves the Canvas developer-key JSON with the RUT custom parameter', async () => {
    const res = await new HttpClient().get(`${sys.url}/lti/canvas.json`);
    expect(res.status).toBe(200);
    const json = JSON.parse(res.text);
    expect(json).toMatchObject({
      oidc_initiation_url: `${sys.config.publicUrl}/lti/login`,
      target_link_uri: `${sys.config.publicUrl}/lti`,
      public_jwk_url: `${sys.config.publicUrl}/lti/keys`,
      custom_fields: { rut: '$Canvas.user.sisIntegrationId' },
    });
    // Embedded in the course by default: no cookie is needed, Canvas's Platform Storage binds the launch.
    expect(res.text).not.toContain('windowTarget');
  });

  it('shows LMS admins the values for Moodle (manual and dynamic registration)', async () => {
    const res = await new HttpClient().get(`${sys.url}/setup`);
    expect(res.status).toBe(200);
    expect(res.text).toContain(`${sys.config.publicUrl}/lti/register`);
    expect(res.text).toContain(`${sys.config.publicUrl}/lti/login`);
    expect(res.text).toContain('rut=$User.username');
    // The fallback when a browser blocks everything inside the course frame.
    expect(res.text).toContain('Abrir en una ventana nueva');
    expect(res.text).toMatch(/Moodle<\/strong>: [^<]*«Contenedor de lanzamiento predeterminado» → <strong>Nueva ventana/);
    expect(res.text).toContain('"windowTarget": "_blank"');
  });
});

// Dynamic registration (now behind an operator's invitation): test/integration/security-registration.test.ts.

describe('bad input: clear Spanish error, 4xx, a log line, nothing stored', () => {
  const expectRejected = async (res: { status: number; text: string }, status: number, code: string) => {
    expect(res.status).toBe(status);
    expect(res.text).toContain('<html lang="es">');
    expect(res.text).toContain(code);
    expect(res.text).not.toMatch(/\n\s+at /);
    expect(logged(code)).toBe(true);
    expect(await sys.stores.learners.get(keyOf('eva'))).toBeNull();
  };

  it('unknown issuer at login', async () => {
    const res = await new HttpClient().post(`${sys.url}/lti/login`, { iss: 'https://moodle.desconocido.cl', login_hint: 'x', target_link_uri: `${sys.config.publicUrl}/lti`, client_id: 'abc' });
    await expectRejected(res, 400, 'lti-unregistered-platform');
    expect(res.text).toContain('clave de consumidor');
  });

  it('unknown client id at login', async () => {
    const res = await new HttpClient().post(`${sys.url}/lti/login`, { iss: sys.lms!.issuer, login_hint: 'eva', target_link_uri: `${sys.config.publicUrl}/lti`, client_id: 'otro-cliente' });
    await expectRejected(res, 400, 'lti-unregistered-platform');
  });

  it('a bad signature', async () => {
    sys.lms!.tamperNextIdToken({ signWithForeignKey: true });
    const { client, post } = await authorize(sys, 'eva');
    await expectRejected(await client.submit(post), 401, 'lti-bad-signature');
  });

  it('a wrong audience', async () => {
    sys.lms!.tamperNextIdToken({ claims: (c) => ({ ...c, aud: 'otra-herramienta' }) });
    const { client, post } = await authorize(sys, 'eva');
    await expectRejected(await client.submit(post), 401, 'lti-wrong-audience');
  });

  it('an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    sys.lms!.tamperNextIdToken({ claims: (c) => ({ ...c, iat: now - 900, exp: now - 600 }) });
    const { client, post } = await authorize(sys, 'eva');
    await expectRejected(await client.submit(post), 401, 'lti-token-expired');
  });

  it('a token from the future', async () => {
    const now = Math.floor(Date.now() / 1000);
    sys.lms!.tamperNextIdToken({ claims: (c) => ({ ...c, iat: now + 900, exp: now + 1200 }) });
    const { client, post } = await authorize(sys, 'eva');
    await expectRejected(await client.submit(post), 401, 'lti-token-not-yet-valid');
  });

  it('a signed launch without roles or with another LTI version (claims LTI 1.3 requires)', async () => {
    const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';
    sys.lms!.tamperNextIdToken({
      claims: (c) => {
        const copy = { ...c };
        delete copy[`${LTI}roles`];
        return copy;
      },
    });
    const noRoles = await authorize(sys, 'eva');
    const res = await noRoles.client.submit(noRoles.post);
    await expectRejected(res, 401, 'lti-invalid-token');
    expect(res.text).toContain('No pudimos validar tu ingreso desde la plataforma del curso. Vuelve a entrar desde tu curso.');
    sys.lms!.tamperNextIdToken({ claims: (c) => ({ ...c, [`${LTI}version`]: '1.1' }) });
    const oldVersion = await authorize(sys, 'eva');
    await expectRejected(await oldVersion.client.submit(oldVersion.post), 401, 'lti-invalid-token');
  });

  it('a nonce that is not the one issued for this login (replayed from another login)', async () => {
    const first = await authorize(sys, 'eva');
    sys.lms!.tamperNextIdToken({ claims: (c) => ({ ...c, nonce: first.nonce }) });
    const second = await authorize(sys, 'eva');
    await expectRejected(await second.client.submit(second.post), 401, 'lti-nonce-mismatch');
  });

  it('a replayed id_token (same form_post twice)', async () => {
    const { client, post } = await authorize(sys, 'ana');
    expect((await client.submit(post)).status).toBe(200);
    const replay = await client.submit(post);
    expect(replay.status).toBe(401);
    expect(replay.text).toContain('lti-replayed-launch');
    expect(logged('lti-replayed-launch')).toBe(true);
  });

  it('the same form_post sent five times at once (a double-clicking browser, a replay race): one panel, four refused as replayed', async () => {
    // The five launches' login-state reads-and-deletes land in one group commit: exactly one gets it.
    const { client, post } = await authorize(sys, 'ana');
    const answers = await Promise.all(Array.from({ length: 5 }, () => client.submit(post)));
    const panels = answers.filter((r) => r.status === 200);
    expect(panels).toHaveLength(1);
    expect(panels[0]!.text).toContain('TIEMPO ACREDITADO EN SENCE');
    const refused = answers.filter((r) => r.status !== 200);
    expect(refused.map((r) => r.status)).toEqual([401, 401, 401, 401]);
    for (const r of refused) expect(r.text).toContain('Este ingreso ya se usó o expiró. Vuelve a entrar desde tu curso.');
  });

  it('an id_token sent with another method than POST (PUT) is refused before any check, and the real form_post still opens the panel', async () => {
    // A browser that keeps the state cookie: ltijs's own check, which ltijs ran on such requests, would have had what it needs.
    const { client, post } = await authorize(sys, 'ana', new HttpClient({ cookies: true }));
    const put = await client.request(post.action, { method: 'PUT', form: post.fields });
    expect(put.status).toBe(405);
    expect(put.text).toContain('El ingreso desde la plataforma solo se acepta como formulario enviado con POST. Vuelve a entrar desde tu curso.');
    const panel = await client.submit(post);
    expect(panel.status).toBe(200);
    expect(panel.text).toContain('TIEMPO ACREDITADO EN SENCE');
  });

  it('a launch without state', async () => {
    const { client, post } = await authorize(sys, 'eva');
    const res = await client.post(post.action, { id_token: post.fields.id_token! });
    await expectRejected(res, 400, 'lti-missing-state');
  });

  it('a request without a valid ltik (page and JSON)', async () => {
    const page = await new HttpClient().get(`${sys.url}/lti/?ltik=not-a-valid-ltik`);
    expect(page.status).toBe(401);
    expect(page.text).toContain('Vuelve a entrar desde tu curso');
    const api = await new HttpClient().get(`${sys.url}/lti/api/status`, { accept: 'application/json' });
    expect(api.status).toBe(401);
    expect(JSON.parse(api.text).error.code).toMatch(/^lti-/);
  });

  it('a student opening an instructor page', async () => {
    const { client, ltik } = await launchAs(sys, 'ana');
    const before = await sys.stores.courses.get({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });
    const res = await client.get(`${sys.url}/lti/staff?ltik=${encodeURIComponent(ltik)}`);
    expect(res.status).toBe(403);
    expect(res.text).toContain('solo para el equipo docente');
    expect(logged('forbidden-role')).toBe(true);
    const post = await client.post(`${sys.url}/lti/staff/settings`, { ltik, otecId: 'x', lineaCapacitacion: '3', codSence: '1234567890', codigoCurso: '1234567', requiredHours: '10', environment: 'production' });
    expect(post.status).toBe(403);
    const after = await sys.stores.courses.get({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });
    expect(after?.settings).toEqual(before?.settings);
  });
});
