/**
 * The built-in SENCE emulator as a real HTTP server: RCE form in, ClaveÚnica stand-in, browser
 * auto-post back to UrlRetoma / UrlError, every GlosaError code the emulator produces.
 */
import request from 'supertest';
import {
  DEMO_CLAVEUNICA_PASSWORD,
  DEMO_OTEC,
  DEMO_SENCE_COURSE,
  demoEmulatorState,
  startSenceEmulator,
  type EmulatedCourse,
  type SenceEmulator,
} from '../../src/simulators/sence';

const BANNER =
  'Emulador de SENCE para demostraciones y pruebas — esto NO es SENCE. Nada de lo que hagas aquí se registra en SENCE.';
const RETOMA = 'https://lms.example.cl/sence/retoma?n=abc';
const ERROR_URL = 'https://lms.example.cl/sence/error?n=abc';
const FECHA_HORA = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

const START_OK_FIELDS = ['CodSence', 'CodigoCurso', 'IdSesionAlumno', 'IdSesionSence', 'RunAlumno', 'FechaHora', 'ZonaHoraria', 'LineaCapacitacion'];
const START_ERROR_FIELDS = [...START_OK_FIELDS, 'GlosaError'];
const CLOSE_OK_FIELDS = ['CodSence', 'CodigoCurso', 'IdSesionAlumno', 'RunAlumno', 'FechaHora', 'ZonaHoraria', 'LineaCapacitacion'];
const CLOSE_ERROR_FIELDS = [...CLOSE_OK_FIELDS, 'GlosaError'];

// A second OTEC and extra actions, on top of the demo state.
const OTHER_OTEC = { rut: '77654321-7', token: 'B0B0B0B0-1111-4222-8333-444455556666' };
const LEARNER = '12345678-5';
const LEARNER_2 = '9876543-3';
const NOT_ON_ROSTER = '11111111-1';

function course(partial: Partial<EmulatedCourse> & Pick<EmulatedCourse, 'codSence' | 'codigoCurso'>): EmulatedCourse {
  return {
    lineaCapacitacion: 3,
    otecRut: DEMO_OTEC.rut,
    state: 'active',
    startDate: '2000-01-01',
    endDate: '2999-12-31',
    roster: [LEARNER, LEARNER_2],
    elearning: true,
    ...partial,
  };
}

const EXTRA_COURSES: EmulatedCourse[] = [
  course({ codSence: '1111111111', codigoCurso: '7000001', otecRut: OTHER_OTEC.rut }),
  course({ codSence: '2222222222', codigoCurso: '7000002', elearning: false }),
  course({ codSence: '3333333333', codigoCurso: '7000003', state: 'finished' }),
  course({ codSence: '3333333334', codigoCurso: '7000033', state: 'annulled' }),
  course({ codSence: '4444444444', codigoCurso: '7000004', startDate: '2999-01-01', endDate: '2999-12-31' }),
  course({ codSence: '', codigoCurso: 'RLAB-19-02-08-0071-1', lineaCapacitacion: 1 }),
  course({ codSence: '5555555555', codigoCurso: 'FPT12', lineaCapacitacion: 6 }),
];

// ----------------------------------------------------------------------------------------------
// Helpers (HTML parsing of the emulator's pages)
// ----------------------------------------------------------------------------------------------

function decodeEntities(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39|#96);/g, (_m, e: string) =>
    ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`' })[e] ?? _m,
  );
}

function attr(tag: string, name: string): string | undefined {
  const m = new RegExp(`\\s${name}="([^"]*)"`).exec(tag);
  return m?.[1] === undefined ? undefined : decodeEntities(m[1]);
}

interface AutoPost {
  action: string;
  names: string[];
  fields: Record<string, string>;
}

/** Parses the auto-submitting callback form; null when the page is not one. */
function parseAutoPost(html: string): AutoPost | null {
  const form = /<form id="emu-autopost"[^>]*>([\s\S]*?)<\/form>/.exec(html);
  if (!form || form[1] === undefined) return null;
  const action = attr(form[0].slice(0, form[0].indexOf('>') + 1), 'action') ?? '';
  const names: string[] = [];
  const fields: Record<string, string> = {};
  for (const tag of form[1].match(/<input[^>]*>/g) ?? []) {
    if (attr(tag, 'type') !== 'hidden') continue;
    const name = attr(tag, 'name') ?? '';
    names.push(name);
    fields[name] = attr(tag, 'value') ?? '';
  }
  return { action, names, fields };
}

function mustAutoPost(html: string): AutoPost {
  const post = parseAutoPost(html);
  if (!post) throw new Error(`expected an auto-post page, got:\n${html}`);
  return post;
}

interface LoginForm {
  action: string;
  solicitud: string;
  leaveHref: string;
}

function parseLoginForm(html: string): LoginForm {
  const form = /<form method="post" action="([^"]*)">/.exec(html);
  const hidden = /<input type="hidden" name="solicitud" value="([^"]*)">/.exec(html);
  const leave = /<a href="([^"]*)">Salir sin ingresar<\/a>/.exec(html);
  if (!form?.[1] || !hidden?.[1] || !leave?.[1]) throw new Error(`expected the ClaveÚnica stand-in page, got:\n${html}`);
  return { action: decodeEntities(form[1]), solicitud: decodeEntities(hidden[1]), leaveHref: decodeEntities(leave[1]) };
}

// ----------------------------------------------------------------------------------------------

let emu: SenceEmulator;

beforeAll(async () => {
  const demo = demoEmulatorState();
  emu = await startSenceEmulator({
    port: 0,
    publicHost: '127.0.0.1',
    state: {
      otecs: [...demo.otecs, { rut: OTHER_OTEC.rut, tokens: [OTHER_OTEC.token], revokedTokens: [] }],
      courses: [...demo.courses, ...EXTRA_COURSES],
    },
  });
});

afterAll(async () => {
  await emu.close();
});

afterEach(() => {
  emu.setClock(() => new Date());
});

type Env = 'rcetest' | 'rce';
type Op = 'IniciarSesion' | 'CerrarSesion';

function startFields(overrides: Record<string, string | undefined> = {}): Record<string, string> {
  const base: Record<string, string | undefined> = {
    RutOtec: DEMO_OTEC.rut,
    Token: DEMO_OTEC.token,
    CodSence: DEMO_SENCE_COURSE.codSence,
    CodigoCurso: DEMO_SENCE_COURSE.codigoCurso,
    LineaCapacitacion: String(DEMO_SENCE_COURSE.lineaCapacitacion),
    RunAlumno: LEARNER,
    IdSesionAlumno: `asis-${Math.random().toString(36).slice(2)}`,
    UrlRetoma: RETOMA,
    UrlError: ERROR_URL,
    ...overrides,
  };
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(base)) if (v !== undefined) out[k] = v;
  return out;
}

function postOp(op: Op, fields: Record<string, string>, env: Env = 'rcetest') {
  return request(emu.url).post(`/${env}/Registro/${op}`).type('form').send(new URLSearchParams(fields).toString());
}

async function login(loginHtml: string, run: string, clave: string = DEMO_CLAVEUNICA_PASSWORD) {
  const form = parseLoginForm(loginHtml);
  return request(emu.url)
    .post(form.action)
    .type('form')
    .send(new URLSearchParams({ solicitud: form.solicitud, run, clave }).toString());
}

/** Full start flow; returns the UrlRetoma callback fields. */
async function startSession(fields: Record<string, string>, env: Env = 'rcetest'): Promise<AutoPost> {
  const page = await postOp('IniciarSesion', fields, env);
  expect(page.status).toBe(200);
  const done = await login(page.text, fields.RunAlumno ?? '');
  return mustAutoPost(done.text);
}

function closeFields(start: Record<string, string>, idSesionSence: string, overrides: Record<string, string | undefined> = {}) {
  return startFields({ ...start, IdSesionSence: idSesionSence, ...overrides });
}

async function expectErrorPost(res: request.Response, code: string, op: Op = 'IniciarSesion'): Promise<AutoPost> {
  expect(res.status).toBe(200);
  const post = mustAutoPost(res.text);
  expect(post.action).toBe(ERROR_URL);
  expect(post.names).toEqual(op === 'IniciarSesion' ? START_ERROR_FIELDS : CLOSE_ERROR_FIELDS);
  expect(post.fields.GlosaError).toBe(code);
  expect(post.fields.FechaHora).toMatch(FECHA_HORA);
  expect(post.fields.ZonaHoraria).toBe('America/Santiago');
  if (op === 'IniciarSesion') expect(post.fields.IdSesionSence).toBe('');
  return post;
}

// ----------------------------------------------------------------------------------------------

describe('demo data', () => {
  function dv(body: string): string {
    let sum = 0;
    let factor = 2;
    for (const d of body.split('').reverse()) {
      sum += Number(d) * factor;
      factor = factor === 7 ? 2 : factor + 1;
    }
    const r = 11 - (sum % 11);
    return r === 11 ? '0' : r === 10 ? 'K' : String(r);
  }

  it('has a valid OTEC RUT, a GUID token, a live franquicia course and valid roster RUNs', () => {
    const [body, check] = DEMO_OTEC.rut.split('-') as [string, string];
    expect(DEMO_OTEC.rut).toMatch(/^76\d{6}-[\dK]$/);
    expect(dv(body)).toBe(check);
    expect(DEMO_OTEC.name).toBe('OTEC Demo Capacitación');
    expect(DEMO_OTEC.token).toMatch(/^[0-9A-F]{8}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{4}-[0-9A-F]{12}$/);
    expect(DEMO_SENCE_COURSE).toEqual({ codSence: '1237654321', codigoCurso: '6731234', lineaCapacitacion: 3 });
    expect(DEMO_CLAVEUNICA_PASSWORD).toBe('clave1234');

    const state = demoEmulatorState();
    expect(state.otecs).toHaveLength(1);
    expect(state.otecs[0]?.tokens).toEqual([DEMO_OTEC.token]);
    expect(state.otecs[0]?.revokedTokens).toHaveLength(1);
    const c = state.courses[0];
    expect(c).toMatchObject({ ...DEMO_SENCE_COURSE, otecRut: DEMO_OTEC.rut, state: 'active', elearning: true });
    const today = new Date().toISOString().slice(0, 10);
    expect(c!.startDate < today && today < c!.endDate).toBe(true);
    expect(c!.roster).toEqual(['12345678-5', '9876543-3']);
    for (const run of c!.roster) {
      const [b, d] = run.split('-') as [string, string];
      expect(dv(b)).toBe(d);
      expect(state.people[run]).toBe('clave1234');
    }
    expect(state.sessionMaxMinutes).toBe(180);
  });

  it('exposes url, testBaseUrl and productionBaseUrl (default public host localhost)', async () => {
    const other = await startSenceEmulator({ port: 0 });
    try {
      expect(other.url).toMatch(/^http:\/\/localhost:\d+$/);
      expect(other.testBaseUrl).toBe(`${other.url}/rcetest/Registro`);
      expect(other.productionBaseUrl).toBe(`${other.url}/rce/Registro`);
      expect(other.state.courses[0]?.codSence).toBe('1237654321');
    } finally {
      await other.close();
    }
  });
});

describe('GET / and common page properties', () => {
  it('explains the emulator and lists the demo OTEC, codes, roster and password', async () => {
    const res = await request(emu.url).get('/');
    expect(res.status).toBe(200);
    expect(res.text).toContain('<html lang="es">');
    expect(res.text).toContain(BANNER);
    for (const s of [DEMO_OTEC.name, DEMO_OTEC.rut, DEMO_OTEC.token, '1237654321', '6731234', '12345678-5', '9876543-3', 'clave1234', `${emu.url}/rcetest/Registro/IniciarSesion`]) {
      expect(res.text).toContain(s);
    }
  });

  it('shows the NOT-SENCE banner on every page and sends a nonce CSP that lets forms post anywhere', async () => {
    const fields = startFields();
    const loginPage = await postOp('IniciarSesion', fields);
    const pages = [
      await request(emu.url).get('/'),
      loginPage,
      await login(loginPage.text, LEARNER, 'wrong-password'),
      await login(loginPage.text, LEARNER), // auto-post to UrlRetoma
      await postOp('IniciarSesion', startFields({ RunAlumno: NOT_ON_ROSTER })), // auto-post to UrlError
      await postOp('IniciarSesion', startFields({ UrlError: '' })), // SENCE-side error page
      await request(emu.url).get(parseLoginForm((await postOp('IniciarSesion', startFields())).text).leaveHref),
      await request(emu.url).post('/rcetest/Registro/ClaveUnica').type('form').send('solicitud=nope&run=1-9&clave=x'),
      await request(emu.url).get('/rcetest/Registro/IniciarSesion'),
      await request(emu.url).get('/no-such-page'),
    ];
    for (const res of pages) {
      expect(res.headers['content-type']).toMatch(/^text\/html/);
      expect(res.text).toContain('<html lang="es">');
      expect(res.text).toContain('name="viewport"');
      expect(res.text).toContain(BANNER);
      const csp = String(res.headers['content-security-policy']);
      expect(csp).toContain("form-action 'self' http: https:");
      const nonce = /script-src 'nonce-([^']+)'/.exec(csp)?.[1];
      expect(nonce).toBeTruthy();
      for (const m of res.text.matchAll(/<(script|style)( nonce="([^"]*)")?>/g)) expect(m[3]).toBe(nonce);
    }
    const autoPost = pages[3]!.text;
    expect(autoPost).toMatch(/<script nonce="[^"]+">document\.getElementById\('emu-autopost'\)\.submit\(\);<\/script>/);
    expect(autoPost).toContain('<noscript><button type="submit">Continuar</button></noscript>');
  });
});

describe('IniciarSesion / CerrarSesion success', () => {
  it('start: form → ClaveÚnica stand-in → login → auto-post to UrlRetoma', async () => {
    const fields = startFields();
    const page = await postOp('IniciarSesion', fields);
    expect(page.status).toBe(200);
    for (const s of ['Portal de Aplicaciones Sence', 'Requiere autenticación', '<label for="run">Ingresa tu RUN</label>', '<label for="clave">Ingresa tu Clave</label>', '<button type="submit">Continuar</button>', '¿Olvidaste tu ClaveÚnica?', 'Salir sin ingresar', DEMO_CLAVEUNICA_PASSWORD]) {
      expect(page.text).toContain(s);
    }
    expect(page.text).toContain('id="run" name="run"');
    expect(page.text).toContain('id="clave" name="clave"');
    expect(page.text).not.toContain(DEMO_OTEC.token);
    expect(parseAutoPost(page.text)).toBeNull();

    // The learner may type the RUN with dots, as on ClaveÚnica.
    const done = await login(page.text, '12.345.678-5');
    const post = mustAutoPost(done.text);
    expect(post.action).toBe(RETOMA);
    expect(post.names).toEqual(START_OK_FIELDS);
    expect(post.fields).toMatchObject({
      CodSence: '1237654321',
      CodigoCurso: '6731234',
      IdSesionAlumno: fields.IdSesionAlumno,
      RunAlumno: LEARNER,
      ZonaHoraria: 'America/Santiago',
      LineaCapacitacion: '3',
    });
    expect(post.fields.FechaHora).toMatch(FECHA_HORA);
    expect(post.fields.IdSesionSence).toMatch(/^EMU-/);
    const session = emu.sessions.get(post.fields.IdSesionSence ?? '');
    expect(session).toMatchObject({ run: LEARNER, codSence: '1237654321', codigoCurso: '6731234', idSesionAlumno: fields.IdSesionAlumno, closedAt: null });

    const last = emu.received[emu.received.length - 1];
    expect(last).toMatchObject({ op: 'IniciarSesion', env: 'rcetest', fields });

    // The pending request is single-use.
    const replay = await login(page.text, LEARNER);
    expect(replay.status).toBe(404);
    expect(parseAutoPost(replay.text)).toBeNull();
  });

  it('FechaHora is the emulator clock in America/Santiago', async () => {
    emu.setClock(() => new Date('2025-01-15T15:04:05Z')); // Chilean summer time, UTC-3
    const post = await startSession(startFields({ CodSence: '-1', CodigoCurso: '-1' }));
    expect(post.fields.FechaHora).toBe('2025-01-15 12:04:05');
    emu.setClock(() => new Date('2025-07-15T15:04:05Z')); // winter, UTC-4
    const post2 = await startSession(startFields({ CodSence: '-1', CodigoCurso: '-1' }));
    expect(post2.fields.FechaHora).toBe('2025-07-15 11:04:05');
  });

  it('close: CerrarSesion with IdSesionSence → ClaveÚnica → auto-post to UrlRetoma without IdSesionSence', async () => {
    const start = startFields({ RunAlumno: LEARNER_2 });
    const started = await startSession(start);
    const idSesionSence = started.fields.IdSesionSence ?? '';
    const closeReq = closeFields(start, idSesionSence);
    const page = await postOp('CerrarSesion', closeReq);
    expect(page.status).toBe(200);
    expect(page.text).toContain('Portal de Aplicaciones Sence');
    expect(page.text).toContain('CerrarSesion');
    const done = await login(page.text, LEARNER_2);
    const post = mustAutoPost(done.text);
    expect(post.action).toBe(RETOMA);
    expect(post.names).toEqual(CLOSE_OK_FIELDS);
    expect(post.fields).toMatchObject({ CodSence: '1237654321', CodigoCurso: '6731234', IdSesionAlumno: start.IdSesionAlumno, RunAlumno: LEARNER_2, ZonaHoraria: 'America/Santiago', LineaCapacitacion: '3' });
    expect(post.fields.FechaHora).toMatch(FECHA_HORA);
    expect(emu.sessions.get(idSesionSence)?.closedAt).toBeInstanceOf(Date);
    expect(emu.received[emu.received.length - 1]).toMatchObject({ op: 'CerrarSesion', env: 'rcetest', fields: closeReq });

    // Closing again: 301.
    await expectErrorPost(await postOp('CerrarSesion', closeReq), '301', 'CerrarSesion');
  });

  it('line 1 (blank CodSence, SIC course code) and line 6 (short CodigoCurso) are accepted', async () => {
    const line1 = await startSession(startFields({ CodSence: '', CodigoCurso: 'RLAB-19-02-08-0071-1', LineaCapacitacion: '1' }));
    expect(line1.action).toBe(RETOMA);
    expect(line1.fields.CodSence).toBe('');
    const line1Space = await startSession(startFields({ CodSence: ' ', CodigoCurso: 'RLAB-19-02-08-0071-1', LineaCapacitacion: '1' }));
    expect(line1Space.action).toBe(RETOMA);
    const line6 = await startSession(startFields({ CodSence: '5555555555', CodigoCurso: 'FPT12', LineaCapacitacion: '6' }));
    expect(line6.action).toBe(RETOMA);
    expect(line6.fields.LineaCapacitacion).toBe('6');
  });
});

describe('the ClaveÚnica stand-in', () => {
  it('wrong password or unknown RUN: same page with "Datos de acceso no válidos", no callback', async () => {
    const page = await postOp('IniciarSesion', startFields());
    for (const [run, clave] of [[LEARNER, 'nope'], [NOT_ON_ROSTER, DEMO_CLAVEUNICA_PASSWORD], ['no-es-run', DEMO_CLAVEUNICA_PASSWORD]] as const) {
      const res = await login(page.text, run, clave);
      expect(res.status).toBe(200);
      expect(res.text).toContain('Datos de acceso no válidos');
      expect(res.text).toContain('Portal de Aplicaciones Sence');
      expect(parseAutoPost(res.text)).toBeNull();
      expect(parseLoginForm(res.text).solicitud).toBe(parseLoginForm(page.text).solicitud);
    }
    // Still usable afterwards.
    expect(mustAutoPost((await login(page.text, LEARNER)).text).action).toBe(RETOMA);
  });

  it('"Salir sin ingresar" shows that nothing will be sent back, and the request is gone', async () => {
    const page = await postOp('IniciarSesion', startFields());
    const form = parseLoginForm(page.text);
    const left = await request(emu.url).get(form.leaveHref);
    expect(left.status).toBe(200);
    expect(left.text).toContain('No se enviará nada de vuelta');
    expect(parseAutoPost(left.text)).toBeNull();
    const late = await login(page.text, LEARNER);
    expect(late.status).toBe(404);
    expect(parseAutoPost(late.text)).toBeNull();
  });

  it('311: logging in with a RUN other than RunAlumno posts the error to UrlError', async () => {
    const before = emu.sessions.size;
    const page = await postOp('IniciarSesion', startFields({ RunAlumno: LEARNER }));
    const res = await login(page.text, LEARNER_2);
    const post = await expectErrorPost(res, '311');
    expect(post.fields.RunAlumno).toBe(LEARNER);
    expect(emu.sessions.size).toBe(before);
  });

  it('311 on close posts the close-error fields', async () => {
    const start = startFields();
    const started = await startSession(start);
    const page = await postOp('CerrarSesion', closeFields(start, started.fields.IdSesionSence ?? ''));
    await expectErrorPost(await login(page.text, LEARNER_2), '311', 'CerrarSesion');
    expect(emu.sessions.get(started.fields.IdSesionSence ?? '')?.closedAt).toBeNull();
  });
});

describe('errors posted back to UrlError', () => {
  const cases: Array<[string, string, Record<string, string | undefined>, Env?]> = [
    ['200', 'IdSesionAlumno missing', { IdSesionAlumno: undefined }],
    ['200', 'RutOtec whitespace-only', { RutOtec: '   ' }],
    ['200', 'RunAlumno misspelled as RutAlumno', { RunAlumno: undefined, RutAlumno: LEARNER }],
    ['200', 'CodSence empty on line 3', { CodSence: '' }],
    ['200', 'field names are case-sensitive', { Token: undefined, token: DEMO_OTEC.token }],
    ['202', 'UrlRetoma not absolute', { UrlRetoma: 'lms.example.cl/retoma' }],
    ['202', 'UrlRetoma not http(s)', { UrlRetoma: 'ftp://lms.example.cl/retoma' }],
    ['202', 'UrlRetoma over 100 chars', { UrlRetoma: `https://lms.example.cl/${'x'.repeat(80)}` }],
    ['204', 'CodSence not 10 digits', { CodSence: '12345' }],
    ['204', 'CodSence unknown', { CodSence: '9999999999' }],
    ['204', 'CodSence not blank on line 1', { CodSence: '1237654321', CodigoCurso: 'RLAB-19-02-08-0071-1', LineaCapacitacion: '1' }],
    ['205', 'CodigoCurso under 7 chars', { CodigoCurso: '123' }],
    ['205', 'CodigoCurso unknown', { CodigoCurso: '7999999' }],
    ['206', 'line 2', { LineaCapacitacion: '2' }],
    ['206', 'line not a number', { LineaCapacitacion: 'tres' }],
    ['207', 'RunAlumno wrong check digit', { RunAlumno: '12345678-9' }],
    ['207', 'RunAlumno with dots', { RunAlumno: '12.345.678-5' }],
    ['208', 'RUN not on the roster', { RunAlumno: NOT_ON_ROSTER }],
    ['209', 'RutOtec wrong check digit', { RutOtec: '76543210-4' }],
    ['209', 'RutOtec with dots', { RutOtec: '76.543.210-3' }],
    ['211', "another OTEC's token", { Token: OTHER_OTEC.token }],
    ['212', 'revoked token', { Token: demoEmulatorState().otecs[0]?.revokedTokens[0] }],
    ['303', 'token not a GUID', { Token: '12345678-1234-1234-1234-123456789' }],
    ['303', 'token unknown', { Token: 'FFFFFFFF-FFFF-4FFF-8FFF-FFFFFFFFFFFF' }],
    ['303', 'token in lower case (tokens are upper-case)', { Token: DEMO_OTEC.token.toLowerCase() }],
    ['306', 'CodigoCurso of another CodSence', { CodigoCurso: '7000002' }],
    ['307', 'course not e-learning', { CodSence: '2222222222', CodigoCurso: '7000002' }],
    ['308', "another OTEC's course", { CodSence: '1111111111', CodigoCurso: '7000001' }],
    ['309', 'today outside the dates', { CodSence: '4444444444', CodigoCurso: '7000004' }],
    ['310', 'course finished', { CodSence: '3333333333', CodigoCurso: '7000003' }],
    ['310', 'course annulled', { CodSence: '3333333334', CodigoCurso: '7000033' }],
    ['301', 'line differs from the course line', { LineaCapacitacion: '6' }],
    ['304', 'IdSesionAlumno over 149 chars', { IdSesionAlumno: 'x'.repeat(150) }],
    ['204', '-1 CodSence on rce', { CodSence: '-1', CodigoCurso: '-1' }, 'rce'],
    ['205', '-1 CodigoCurso on rce', { CodigoCurso: '-1' }, 'rce'],
    ['204', '-1 CodSence on line 1 even in rcetest', { CodSence: '-1', CodigoCurso: '-1', LineaCapacitacion: '1' }],
    ['207', '-1 wildcards still require a valid RUN', { CodSence: '-1', CodigoCurso: '-1', RunAlumno: '1-1' }],
    ['209', '-1 wildcards still require a valid OTEC RUT', { CodSence: '-1', CodigoCurso: '-1', RutOtec: '1-1' }],
    ['211', '-1 wildcards still require the OTEC token', { CodSence: '-1', CodigoCurso: '-1', Token: OTHER_OTEC.token }],
  ];

  // Rows as objects: a 4-parameter callback over 3-element rows would make Jest pass `done`.
  it.each(cases.map(([code, label, overrides, env]) => ({ code, label, overrides, env })))('$code: $label', async ({ code, overrides, env }) => {
    const fields = startFields(overrides);
    const res = await postOp('IniciarSesion', fields, env ?? 'rcetest');
    const post = await expectErrorPost(res, code);
    expect(post.fields.IdSesionAlumno).toBe(fields.IdSesionAlumno ?? '');
    expect(post.fields.CodSence).toBe(fields.CodSence ?? '');
    expect(post.fields.RunAlumno).toBe(fields.RunAlumno ?? '');
  });

  it('the same rules apply on CerrarSesion, plus a mandatory IdSesionSence', async () => {
    const start = startFields();
    const started = await startSession(start);
    const id = started.fields.IdSesionSence ?? '';
    await expectErrorPost(await postOp('CerrarSesion', closeFields(start, id, { IdSesionSence: undefined })), '200', 'CerrarSesion');
    await expectErrorPost(await postOp('CerrarSesion', closeFields(start, id, { IdSesionSence: ' ' })), '200', 'CerrarSesion');
    await expectErrorPost(await postOp('CerrarSesion', closeFields(start, id, { Token: demoEmulatorState().otecs[0]?.revokedTokens[0] })), '212', 'CerrarSesion');
    await expectErrorPost(await postOp('CerrarSesion', closeFields(start, id, { RunAlumno: NOT_ON_ROSTER })), '208', 'CerrarSesion');
    // Still open and closable.
    const page = await postOp('CerrarSesion', closeFields(start, id));
    expect(mustAutoPost((await login(page.text, LEARNER)).text).action).toBe(RETOMA);
  });

  it('301 on close: unknown IdSesionSence, another learner, another environment', async () => {
    const start = startFields();
    const started = await startSession(start);
    const id = started.fields.IdSesionSence ?? '';
    await expectErrorPost(await postOp('CerrarSesion', closeFields(start, 'EMU-NO-EXISTE')), '301', 'CerrarSesion');
    await expectErrorPost(await postOp('CerrarSesion', closeFields(start, id, { RunAlumno: LEARNER_2 })), '301', 'CerrarSesion');
    await expectErrorPost(await postOp('CerrarSesion', closeFields(start, id), 'rce'), '301', 'CerrarSesion');
  });

  it('301 on close of a session opened more than sessionMaxMinutes ago (setClock)', async () => {
    const t0 = Date.now();
    emu.setClock(() => new Date(t0));
    const start = startFields();
    const started = await startSession(start);
    const id = started.fields.IdSesionSence ?? '';
    emu.setClock(() => new Date(t0 + 181 * 60_000));
    const post = await expectErrorPost(await postOp('CerrarSesion', closeFields(start, id)), '301', 'CerrarSesion');
    expect(post.fields.IdSesionAlumno).toBe(start.IdSesionAlumno);
    // At exactly 180 minutes it is still closable.
    emu.setClock(() => new Date(t0 + 180 * 60_000));
    const page = await postOp('CerrarSesion', closeFields(start, id));
    expect(mustAutoPost((await login(page.text, LEARNER)).text).action).toBe(RETOMA);
  });

  it("failNext('211;204') forces the next answer, once", async () => {
    emu.failNext('211;204');
    const fields = startFields();
    const post = await expectErrorPost(await postOp('IniciarSesion', fields), '211;204');
    expect(post.fields.IdSesionAlumno).toBe(fields.IdSesionAlumno);
    const next = await postOp('IniciarSesion', startFields());
    expect(next.text).toContain('Portal de Aplicaciones Sence');

    emu.failNext('300');
    const start = startFields();
    await expectErrorPost(await postOp('CerrarSesion', closeFields(start, 'EMU-X')), '300', 'CerrarSesion');
  });

  it('escapes a hostile IdSesionAlumno everywhere', async () => {
    const hostile = `"><script>alert('x')</script><img src=x onerror=alert(1)>&amp;`;
    const err = await postOp('IniciarSesion', startFields({ IdSesionAlumno: hostile, RunAlumno: NOT_ON_ROSTER }));
    const ok = await startSession(startFields({ IdSesionAlumno: hostile }));
    expect(ok.fields.IdSesionAlumno).toBe(hostile);
    const errPost = await expectErrorPost(err, '208');
    expect(errPost.fields.IdSesionAlumno).toBe(hostile);
    expect(err.text).not.toContain("<script>alert('x')");
    expect(err.text).not.toContain('<img src=x');
    expect(err.text).toContain('&quot;&gt;&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;');

    // Field names are echoed (escaped) on the SENCE-side error page.
    const page = await request(emu.url).post('/rcetest/Registro/IniciarSesion').type('form').send(`${encodeURIComponent('<img src=x>')}=1`);
    expect(page.status).toBe(400);
    expect(page.text).not.toContain('<img src=x>');
    expect(page.text).toContain('&lt;img src=x&gt;');
  });
});

describe('errors that cannot be posted back (SENCE-side page)', () => {
  const cases: Array<[string, string, Record<string, string | undefined>]> = [
    ['201', 'UrlError empty', { UrlError: '' }],
    ['201', 'UrlRetoma missing', { UrlRetoma: undefined }],
    ['201', 'both whitespace', { UrlRetoma: ' ', UrlError: ' ' }],
    ['203', 'UrlError malformed', { UrlError: 'no es una url' }],
    ['203', 'UrlError over 100 chars', { UrlError: `https://lms.example.cl/${'y'.repeat(80)}` }],
    ['202', 'UrlRetoma malformed and UrlError unusable', { UrlRetoma: 'x', UrlError: 'y' }],
  ];

  it.each(cases)('%s: %s', async (code, _label, overrides) => {
    const res = await postOp('IniciarSesion', startFields(overrides));
    expect(res.status).toBe(400);
    expect(parseAutoPost(res.text)).toBeNull();
    expect(res.text).toContain(`Error ${code}`);
    expect(res.text).toContain(BANNER);
  });

  it('201 on close too', async () => {
    const res = await postOp('CerrarSesion', startFields({ IdSesionSence: 'EMU-X', UrlRetoma: '' }));
    expect(res.status).toBe(400);
    expect(res.text).toContain('Error 201');
  });
});

describe('-1 wildcards', () => {
  it('are accepted on rcetest (course checks skipped) and the session can be closed', async () => {
    const start = startFields({ CodSence: '-1', CodigoCurso: '-1', RunAlumno: LEARNER_2 });
    const started = await startSession(start);
    expect(started.action).toBe(RETOMA);
    expect(started.fields).toMatchObject({ CodSence: '-1', CodigoCurso: '-1', RunAlumno: LEARNER_2 });
    const page = await postOp('CerrarSesion', closeFields(start, started.fields.IdSesionSence ?? ''));
    expect(mustAutoPost((await login(page.text, LEARNER_2)).text).action).toBe(RETOMA);
  });

  it('a learner outside any roster can start with -1 on rcetest (roster not checked)', async () => {
    const page = await postOp('IniciarSesion', startFields({ CodSence: '-1', CodigoCurso: '-1', RunAlumno: '15000000-9' }));
    expect(page.text).toContain('Portal de Aplicaciones Sence');
  });

  it('line 1 in rcetest: blank CodSence and -1 CodigoCurso', async () => {
    const started = await startSession(startFields({ CodSence: '', CodigoCurso: '-1', LineaCapacitacion: '1' }));
    expect(started.action).toBe(RETOMA);
  });

  it('are rejected on rce with 204 / 205', async () => {
    await expectErrorPost(await postOp('IniciarSesion', startFields({ CodSence: '-1', CodigoCurso: '-1' }), 'rce'), '204');
    await expectErrorPost(await postOp('IniciarSesion', startFields({ CodigoCurso: '-1' }), 'rce'), '205');
    // The real codes work on rce.
    const started = await startSession(startFields(), 'rce');
    expect(started.action).toBe(RETOMA);
    expect(emu.received[emu.received.length - 1]?.env).toBe('rce');
  });
});
