/**
 * Issue #3 end to end over real HTTP: the panel's buttons send the browser through the SENCE
 * emulator (RCE IniciarSesion / CerrarSesion, stand-in ClaveÚnica) and SENCE's answers come back to
 * the tool, which stores them per LMS user. Success, every emulated error code, the time rules, and
 * the attacks that must fail safely (4xx, audit entry, nothing stored changed).
 */
import { HttpClient, parseForms } from '../support/http-client';
import { launchAs, openToolPage, type Launch } from '../support/lti-flow';
import { claveUnicaForm, loginAtClaveUnica, postBackForm, pressPanelButton, senceRoundTrip } from '../support/sence-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { CLAIM, DEMO_USERS } from '../../src/simulators/lms';
import { ADMIN_ROLES } from '../support/launch-on';
import { DEMO_OTEC, DEMO_REVOKED_TOKEN, DEMO_SENCE_COURSE, demoEmulatorState } from '../../src/simulators/sence';
import type { AttendanceSession, CourseSettings } from '../../src/domain/types';
import { sealSecret, secretHint } from '../../src/domain/token-crypto';
import { DEMO_OTEC_ID } from '../../src/demo-seed';
import { computeCheckDigit } from '../../src/domain/rut';
import { BUSY_TRIES } from '../../src/store/mongo/mongo-stores';

let sys: TestSystem;
let clock = Date.now();
const MIN = 60_000;

// Extra learners on the emulator's roster, one per scenario, so sessions do not interfere.
// 60 valid RUNs (10000000-… with their mod-11 check digit).
const RUNS = Array.from({ length: 60 }, (_, i) => String(10_000_000 + i * 7919)).map((body) => `${body}-${computeCheckDigit(body)}`);
const extraUsers = RUNS.map((run, i) => ({ id: `u${i}`, name: `Estudiante ${i}`, givenName: 'Estudiante', familyName: String(i), email: `u${i}@example.cl`, role: 'learner' as const, customRut: run, sourcedId: '' }));
let nextUser = 0;
const takeUser = () => extraUsers[nextUser++]!;

beforeAll(async () => {
  sys = await startTestSystem({}, { now: () => new Date(clock), lms: { users: [...DEMO_USERS, ...extraUsers] } });
  sys.sence!.setClock(() => new Date(clock));
  const state = demoEmulatorState(new Date());
  state.courses[0]!.roster.push(...RUNS);
  for (const run of RUNS) state.people[run] = 'clave1234';
  Object.assign(sys.sence!.state, state);
});
afterAll(async () => {
  await sys?.stop();
});

const courseKey = () => ({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });
const learnerKey = (sub: string) => ({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, sub });
const sessionsOf = (sub: string) => sys.stores.attendance.listSessions(learnerKey(sub), courseKey());
const status = async (l: Launch) => JSON.parse((await l.client.get(`${sys.url}/lti/api/status?ltik=${encodeURIComponent(l.ltik)}`, { accept: 'application/json' })).text);
const auditHas = async (event: string, reasonPart: string) =>
  (await sys.stores.audit.list({ limit: 500 })).some((e) => e.event === event && e.reason.includes(reasonPart));

async function withSettings<T>(patch: Partial<CourseSettings>, fn: () => Promise<T>): Promise<T> {
  const course = await sys.stores.courses.get(courseKey());
  const original = course!.settings!;
  await sys.stores.courses.saveSettings(courseKey(), { ...original, ...patch });
  try {
    return await fn();
  } finally {
    await sys.stores.courses.saveSettings(courseKey(), original);
  }
}

describe('a full SENCE session: open, SENCE accepts, close, time accredited', () => {
  it('walks Ana from the panel through ClaveÚnica and back, and the panel and the stored record follow', async () => {
    const ana = await launchAs(sys, 'ana');
    const trip = await pressPanelButton(sys, ana.client, ana.ltik, 'start');
    // The form that leaves for SENCE: exact RCE field names, the OTEC token, short callback URLs.
    expect(trip.senceForm.action).toBe(`${sys.sence!.testBaseUrl}/IniciarSesion`);
    expect(Object.keys(trip.senceForm.fields).sort()).toEqual(['CodSence', 'CodigoCurso', 'IdSesionAlumno', 'LineaCapacitacion', 'RunAlumno', 'RutOtec', 'Token', 'UrlError', 'UrlRetoma']);
    expect(trip.senceForm.fields).toMatchObject({ RutOtec: DEMO_OTEC.rut, Token: DEMO_OTEC.token, CodSence: DEMO_SENCE_COURSE.codSence, CodigoCurso: DEMO_SENCE_COURSE.codigoCurso, LineaCapacitacion: '3', RunAlumno: '12345678-5' });
    expect(trip.senceForm.fields.UrlRetoma!.length).toBeLessThanOrEqual(100);
    expect(trip.senceForm.fields.UrlError!.length).toBeLessThanOrEqual(100);
    expect(trip.toSence.text).toContain('<noscript>');
    expect(trip.toSence.headers.get('content-security-policy')).toContain(`form-action 'self' ${sys.sence!.url}`);
    // While the learner is at ClaveÚnica the panel says so.
    expect((await status(ana)).active.state).toBe('starting');
    expect(trip.atSence.text).toContain('esto NO es SENCE');

    const back = await loginAtClaveUnica(ana.client, trip.atSence, '12345678-5');
    const callback = postBackForm(back);
    expect(callback.action).toBe(trip.senceForm.fields.UrlRetoma);
    const opened = await ana.client.submit(callback);
    expect(opened.status).toBe(200);
    expect(opened.text).toContain('Asistencia correctamente ingresada');
    expect(opened.text).toContain('Recuerda que debes cerrar tu sesión antes de 3 horas continuas');
    expect(opened.text).toContain('Cerrar Sesión Sence');
    expect(opened.text).toContain('Cerrar ventana');
    expect(opened.text).toMatch(/id="session-timer"[^>]*>0:00:0\d</);

    const [session] = await sessionsOf('ana');
    expect(session).toMatchObject({ state: 'open', idSesionAlumno: trip.senceForm.fields.IdSesionAlumno });
    expect(session!.idSesionSence).toMatch(/\S/);
    expect(session!.senceStartFechaHora).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/);
    const answers = await sys.stores.attendance.listAnswers(session!.id);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ phase: 'start', outcome: 'success', errorCodes: [] });
    expect(answers[0]!.payload.IdSesionSence).toBe(session!.idSesionSence);

    // The panel in the LMS updates by itself (its poll sees the open session) and shows the clock.
    const s1 = await status(ana);
    expect(s1).toMatchObject({ accessMark: true, active: { state: 'open', level: 'ok', limitMinutes: 180, warningMinutes: 10 } });
    const panel = await openToolPage(sys, ana, '/lti/');
    expect(panel.text).toContain('MARCA DE ACCESO EN SENCE ACREDITADA PREVIAMENTE');
    expect(panel.text).toContain('CLICK AQUÍ PARA CERRAR SESIÓN EN SENCE');
    expect(panel.text).toMatch(/class="clock clock-ok"/);

    // 65 minutes later (server clock) she closes from the panel.
    clock += 65 * MIN;
    expect((await status(ana)).active.elapsedSeconds).toBeGreaterThanOrEqual(65 * 60);
    const close = await senceRoundTrip(sys, ana.client, ana.ltik, 'close');
    expect(close.senceForm.action).toBe(`${sys.sence!.testBaseUrl}/CerrarSesion`);
    expect(close.senceForm.fields).toMatchObject({ IdSesionAlumno: session!.idSesionAlumno, IdSesionSence: session!.idSesionSence, RunAlumno: '12345678-5', CodSence: DEMO_SENCE_COURSE.codSence });
    expect(close.result.status).toBe(200);
    expect(close.result.text).toContain('Sesión correctamente cerrada');
    expect(close.result.text).toContain('1 hora y 5 minutos');
    const s2 = await status(ana);
    expect(s2).toMatchObject({ active: null, accreditedText: '1 hora y 5 minutos', percent: 5.4, percentText: '5,4\u202f%', accessMark: true });
    const after = await openToolPage(sys, ana, '/lti/');
    expect(after.text).toContain('TIEMPO ACREDITADO EN SENCE: 1 hora y 5 minutos');
    expect(after.text).toMatch(/<progress[^>]*value="5.4"/);
  });

  it('closes from the SENCE window ("Cerrar Sesión Sence") without the LMS', async () => {
    const u = takeUser();
    const l = await launchAs(sys, u.id);
    const opened = await senceRoundTrip(sys, l.client, l.ltik, 'start', u.customRut);
    const closeForm = parseForms(opened.result.text, opened.result.url).find((f) => f.action.includes('/sence/window/'))!;
    clock += 10 * MIN;
    const fresh = new HttpClient(); // no cookie, no ltik: the window key alone
    const toSence = await fresh.submit(closeForm);
    expect(toSence.status).toBe(200);
    const atSence = await fresh.submit(parseForms(toSence.text, toSence.url)[0]!);
    const back = await loginAtClaveUnica(fresh, atSence, u.customRut);
    const result = await fresh.submit(postBackForm(back));
    expect(result.text).toContain('Sesión correctamente cerrada');
    expect((await sessionsOf(u.id))[0]).toMatchObject({ state: 'closed', accreditedSeconds: 600 });
    // A forged window key is refused.
    const forged = await new HttpClient().post(closeForm.action, { k: 'x'.repeat(22) });
    expect(forged.status).toBe(403);
  });
});

describe('every emulated SENCE error reaches the learner with number, description and solution', () => {
  async function expectStartError(code: string, arrange: () => unknown, run?: string) {
    const u = takeUser();
    const l = await launchAs(sys, u.id);
    await arrange();
    const trip = await pressPanelButton(sys, l.client, l.ltik, 'start');
    const back = claveUnicaForm(trip.atSence) ? await loginAtClaveUnica(l.client, trip.atSence, run ?? u.customRut) : trip.atSence;
    const callback = postBackForm(back);
    expect(callback.action).toContain('/cb/er/');
    const result = await l.client.submit(callback);
    expect(result.status).toBe(200);
    expect(result.text).toContain('Error en el inicio de asistencia Sence');
    for (const c of code.split(';')) expect(result.text).toContain(`Número Error: ${c}`);
    expect(result.text).toContain('Descripción:');
    expect(result.text).toContain('Solución:');
    expect(result.text).toContain('Volver a intentar');
    const [session] = await sessionsOf(u.id);
    expect(session).toMatchObject({ state: 'start-failed', lastErrorCodes: code.split(';') });
    const [answer] = await sys.stores.attendance.listAnswers(session!.id);
    expect(answer).toMatchObject({ outcome: 'error', errorCodes: code.split(';') });
    expect(answer!.payload.GlosaError).toBe(code);
    // The panel explains it too.
    const panel = await openToolPage(sys, l, '/lti/');
    expect(panel.text).toContain(`Número de error: ${code.split(';')[0]}`);
    return { l, result, session: session! };
  }

  const roster = () => sys.sence!.state.courses[0]!;

  it('208: RUN not on the action roster', async () => {
    const u = extraUsers[nextUser]!;
    const saved = [...roster().roster];
    await expectStartError('208', () => { roster().roster = saved.filter((r) => r !== u.customRut); });
    roster().roster = saved;
  });
  it('311: a different RUN typed at ClaveÚnica', async () => {
    await expectStartError('311', () => undefined, '12345678-5');
  });
  it('309: today outside the course dates', async () => {
    const saved = roster().endDate;
    await expectStartError('309', () => { roster().endDate = '2020-01-01'; });
    roster().endDate = saved;
  });
  it('310: course finished', async () => {
    await expectStartError('310', () => { roster().state = 'finished'; });
    roster().state = 'active';
  });
  it('307: course not e-learning', async () => {
    await expectStartError('307', () => { roster().elearning = false; });
    roster().elearning = true;
  });
  it('212: revoked token; 211: token of another OTEC; 303: unknown token', async () => {
    const otec = (await sys.stores.otecs.get(DEMO_OTEC_ID))!;
    const setToken = (t: string) => sys.stores.otecs.save({ ...otec, tokenSealed: sealSecret(t, sys.config.tokenKey), tokenHint: secretHint(t) });
    await expectStartError('212', () => setToken(DEMO_REVOKED_TOKEN));
    const other = 'B2C3D4E5-F6A7-4B8C-9D0E-1F2A3B4C5D6E';
    sys.sence!.state.otecs.push({ rut: '77777777-7', tokens: [other], revokedTokens: [] });
    await expectStartError('211', () => setToken(other));
    await expectStartError('303', () => setToken('C3D4E5F6-A7B8-4C9D-8E0F-2A3B4C5D6E7F'));
    await sys.stores.otecs.save(otec);
  });
  it('204 / 205 / 306 / 308: codes SENCE does not accept', async () => {
    await withSettings({ codSence: '9999999999' }, () => expectStartError('204', () => undefined));
    await withSettings({ codigoCurso: 'ZZZ-9999999' }, () => expectStartError('205', () => undefined));
    sys.sence!.state.courses.push({ ...roster(), codSence: '1111111111', codigoCurso: '7777777', otecRut: '77777777-7' });
    await withSettings({ codSence: '1111111111', codigoCurso: DEMO_SENCE_COURSE.codigoCurso }, () => expectStartError('306', () => undefined));
    await withSettings({ codSence: '1111111111', codigoCurso: '7777777' }, () => expectStartError('308', () => undefined));
  });
  it.each(['200', '201', '202', '203', '206', '207', '209', '300', '302', '304', '305', '312', '313', '100', '210', '211;204', '999'])(
    'code %s (forced in the emulator) maps to a Spanish description and solution',
    async (code) => {
      const { result } = await expectStartError(code, () => sys.sence!.failNext(code));
      if (code === '999') expect(result.text).toContain('999');
    },
  );

  it('301 on close: the SENCE session is gone, it ends locally with a clear message', async () => {
    const u = takeUser();
    const l = await launchAs(sys, u.id);
    await senceRoundTrip(sys, l.client, l.ltik, 'start', u.customRut);
    const savedMax = sys.sence!.state.sessionMaxMinutes;
    sys.sence!.state.sessionMaxMinutes = 60;
    clock += 90 * MIN;
    const close = await senceRoundTrip(sys, l.client, l.ltik, 'close', u.customRut);
    sys.sence!.state.sessionMaxMinutes = savedMax;
    expect(close.callback.action).toContain('/cb/er/');
    expect(close.result.text).toContain('Error en el cierre de asistencia Sence');
    expect(close.result.text).toContain('Número Error: 301');
    const [session] = await sessionsOf(u.id);
    expect(session).toMatchObject({ state: 'ended-by-sence', accreditedSeconds: 0, lastErrorCodes: ['301'] });
    const panel = await openToolPage(sys, l, '/lti/');
    expect(panel.text).toContain('CLICK AQUÍ PARA ABRIR SESIÓN EN SENCE');
    expect(panel.text).toContain(session!.endReason!);
  });
});

describe('rules in time', () => {
  it('an open session past the limit expires, its time is lost, and the panel explains why', async () => {
    const u = takeUser();
    const l = await launchAs(sys, u.id);
    await senceRoundTrip(sys, l.client, l.ltik, 'start', u.customRut);
    clock += 170 * MIN;
    expect((await status(l)).active).toMatchObject({ state: 'open', level: 'danger' });
    clock += 11 * MIN;
    const s = await status(l);
    expect(s.active).toBeNull();
    expect(s.lastEnded.state).toBe('expired');
    expect(s.accreditedSeconds).toBe(0);
    const panel = await openToolPage(sys, l, '/lti/');
    expect(panel.text).toContain(s.lastEnded.reason);
    expect(await auditHas('session-expired', '')).toBe(true);
  });

  it('the clock turns amber 30 minutes before the limit and red at the guide\'s 2 h 50 min', async () => {
    const u = takeUser();
    const l = await launchAs(sys, u.id);
    await senceRoundTrip(sys, l.client, l.ltik, 'start', u.customRut);
    clock += 149 * MIN;
    expect((await status(l)).active.level).toBe('ok');
    clock += 2 * MIN;
    expect((await status(l)).active.level).toBe('warning');
    expect((await openToolPage(sys, l, '/lti/')).text).toMatch(/class="clock clock-warning"/);
    clock += 20 * MIN;
    expect((await status(l)).active.level).toBe('danger');
    expect((await openToolPage(sys, l, '/lti/')).text).toMatch(/class="clock clock-danger"/);
    clock += 20 * MIN; // leave it expired
  });

  it('an attempt with no callback (learner left ClaveÚnica) is abandoned after the attempt TTL', async () => {
    const u = takeUser();
    const l = await launchAs(sys, u.id);
    const trip = await pressPanelButton(sys, l.client, l.ltik, 'start');
    const leave = parseForms(trip.atSence.text, trip.atSence.url); // the page has a "Salir sin ingresar" link
    expect(trip.atSence.text).toContain('Salir sin ingresar');
    expect(leave.length).toBeGreaterThan(0);
    clock += 31 * MIN;
    const s = await status(l);
    expect(s.active).toBeNull();
    expect(s.lastEnded.state).toBe('abandoned');
    expect(s.lastEnded.reason).toContain('ClaveÚnica');
    // And the learner can start again right away.
    const again = await pressPanelButton(sys, l.client, l.ltik, 'start');
    expect(again.senceForm.fields.IdSesionAlumno).not.toBe(trip.senceForm.fields.IdSesionAlumno);
  });
});

describe('bad input and attacks fail safely: 4xx, audit entry, nothing stored changed', () => {
  let victim: { l: Launch; session: AttendanceSession; callback: ReturnType<typeof postBackForm> };

  beforeAll(async () => {
    const u = takeUser();
    const l = await launchAs(sys, u.id);
    const trip = await pressPanelButton(sys, l.client, l.ltik, 'start');
    const back = await loginAtClaveUnica(l.client, trip.atSence, u.customRut);
    const callback = postBackForm(back);
    const [session] = await sessionsOf(u.id);
    victim = { l, session: session!, callback };
  });

  const unchanged = async () => {
    const now = await sys.stores.attendance.getSession(victim.session.id);
    expect(now).toEqual(victim.session);
  };

  it('a forged callback with a guessed token', async () => {
    const forgedUrl = victim.callback.action.replace(/\.[A-Za-z0-9_-]{22}$/, '.AAAAAAAAAAAAAAAAAAAAAA');
    const res = await new HttpClient().post(forgedUrl, victim.callback.fields);
    expect(res.status).toBe(403);
    expect(res.text).toContain('sence-callback-token');
    await unchanged();
    expect(await auditHas('callback-rejected', 'callback-token')).toBe(true);
    const unknown = await new HttpClient().post(`${sys.url}/cb/ok/AAAAAAAAAAAA.AAAAAAAAAAAAAAAAAAAAAA`, victim.callback.fields);
    expect(unknown.status).toBe(403);
  });

  it('a callback with mismatched RunAlumno, codes, or another learner\'s IdSesionAlumno', async () => {
    for (const [field, value] of [['RunAlumno', '12345678-5'], ['CodSence', '9999999999'], ['CodigoCurso', 'OTRO-123'], ['IdSesionAlumno', 'AS-00000000-0000-0000-0000-000000000000']] as const) {
      const res = await new HttpClient().post(victim.callback.action, { ...victim.callback.fields, [field]: value });
      expect(res.status).toBe(400);
      expect(res.text).toContain('no corresponde a tu sesión');
      await unchanged();
    }
    expect(await auditHas('callback-rejected', 'run-alumno')).toBe(true);
  });

  it('a callback with missing or oversized fields', async () => {
    const { IdSesionSence: _drop, ...missing } = victim.callback.fields;
    expect((await new HttpClient().post(victim.callback.action, missing)).status).toBe(400);
    expect((await new HttpClient().post(victim.callback.action, { ...victim.callback.fields, IdSesionAlumno: 'A'.repeat(500) })).status).toBe(400);
    await unchanged();
  });

  it('the real callback is then accepted once, and a replay after use is refused', async () => {
    const ok = await victim.l.client.submit(victim.callback);
    expect(ok.status).toBe(200);
    const stored = await sys.stores.attendance.getSession(victim.session.id);
    expect(stored?.state).toBe('open');
    const replay = await new HttpClient().post(victim.callback.action, victim.callback.fields);
    expect(replay.status).toBe(409);
    expect(replay.text).toContain('ya fue registrada');
    // A start answered twice (two SENCE windows for one trip, issue #20 §11): which one counts.
    expect(replay.text).toContain('tu sesión SENCE ya se había abierto desde otra ventana, y esa es la que cuenta en tu curso');
    expect(await sys.stores.attendance.getSession(victim.session.id)).toEqual(stored);
    expect(await auditHas('callback-rejected', 'attempt-unused')).toBe(true);
    expect(await sys.stores.attendance.listAnswers(victim.session.id)).toHaveLength(1);
  });

  it('a store failure right after the attempt is marked used loses nothing: 503, then the same callback is accepted', async () => {
    const u = takeUser();
    const l = await launchAs(sys, u.id);
    const trip = await pressPanelButton(sys, l.client, l.ltik, 'start');
    const callback = postBackForm(await loginAtClaveUnica(l.client, trip.atSence, u.customRut));
    // The store fails once between marking the attempt used and writing the session (SQLITE_BUSY,
    // as FerretDB's SQLite backend answers under load). On SQLite the failure is inside the
    // callback's one unit (its session statement throws); on MongoDB the session write throws.
    const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
    const store = sys.stores.attendance;
    const sessionStatement = (store as unknown as { updateSessionStmt?: { get: (...args: unknown[]) => unknown } }).updateSessionStmt;
    const original = store.updateSession.bind(store);
    let failures = 0;
    if (sessionStatement) {
      sessionStatement.get = () => {
        delete (sessionStatement as { get?: unknown }).get; // back to the prototype's real statement
        failures += 1;
        throw busy();
      };
    } else {
      // MongoDB: a busy store is tried again (BUSY_TRIES times), so it stays busy for every try.
      store.updateSession = async () => {
        failures += 1;
        throw busy();
      };
    }
    try {
      const failed = await l.client.submit(callback);
      expect(failed.status).toBe(503);
      expect(failed.text).toContain('No se guardó nada de esta acción. Intenta nuevamente en unos minutos.');
      expect(failures).toBe(sessionStatement ? 1 : BUSY_TRIES);
    } finally {
      store.updateSession = original;
    }
    const ok = await l.client.submit(callback);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('Asistencia correctamente ingresada');
    const session = (await sys.stores.attendance.listSessions({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, sub: u.id }, { issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId }))[0]!;
    expect(session.state).toBe('open');
    expect(await sys.stores.attendance.listAnswers(session.id)).toHaveLength(1);
  });

  // Only the MongoDB adapter tries a busy write again: on SQLite the callback is one unit that
  // SQLite's own busy timeout (5 s) already waited for (the test above covers its failure).
  (process.env.TEST_STORE === 'mongo' ? it : it.skip)('MongoDB: a store busy for a moment while the callback is written is tried again: accepted at once, nothing lost or doubled', async () => {
    const u = takeUser();
    const l = await launchAs(sys, u.id);
    const trip = await pressPanelButton(sys, l.client, l.ltik, 'start');
    const callback = postBackForm(await loginAtClaveUnica(l.client, trip.atSence, u.customRut));
    const store = sys.stores.attendance;
    const originals = { markAttemptUsed: store.markAttemptUsed.bind(store), updateSession: store.updateSession.bind(store), saveAnswer: store.saveAnswer.bind(store) };
    const before = (await sys.stores.attendance.listSessions({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, sub: u.id }, { issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId }))[0]!;
    let failures = 0;
    const busyOnce = <A extends unknown[], R>(real: (...args: A) => Promise<R>, when: 'before' | 'after') => {
      let failed = false;
      return async (...args: A): Promise<R> => {
        if (failed) return real(...args);
        failed = true;
        failures += 1;
        // 'after': the write happened but its answer was lost in the lock (the retry must not double it).
        if (when === 'after') await real(...args);
        throw Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });
      };
    };
    // Each of the three writes happens, and its answer is lost once: every retry must find it done.
    store.markAttemptUsed = busyOnce(originals.markAttemptUsed, 'after');
    store.updateSession = busyOnce(originals.updateSession, 'after');
    store.saveAnswer = busyOnce(originals.saveAnswer, 'after');
    try {
      const ok = await l.client.submit(callback);
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('Asistencia correctamente ingresada');
      expect(failures).toBe(3);
    } finally {
      Object.assign(store, originals);
    }
    const session = (await sys.stores.attendance.listSessions({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, sub: u.id }, { issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId }))[0]!;
    expect(session.state).toBe('open');
    expect(session.version).toBe(before.version + 1);
    expect(await sys.stores.attendance.listAnswers(session.id)).toHaveLength(1);
    // Filed in sence_answers and taken off the session document (written there with the session).
    const sessionsModel = (store as unknown as { sessions: { findById(id: string): { lean(): { exec(): Promise<{ unfiledAnswers?: unknown[] } | null> } } } }).sessions;
    expect((await sessionsModel.findById(session.id).lean().exec())?.unfiledAnswers).toEqual([]);
    const again = await l.client.submit(callback);
    expect(again.status).toBe(409);
    expect(await sys.stores.attendance.listAnswers(session.id)).toHaveLength(1);
  });

  // Only the MongoDB adapter writes the callback's unit in steps (no transactions on FerretDB); on
  // SQLite the session and the answer are one transaction, which the test above already breaks.
  (process.env.TEST_STORE === 'mongo' ? it.each : it.skip.each)([
    ['cannot be filed', false],
    ['is filed but the store\'s reply is lost', true],
  ])('MongoDB: when SENCE\'s answer %s after the session was written, the learner is still told it worked and the answer is kept once', async (_case, filed) => {
    const u = takeUser();
    const l = await launchAs(sys, u.id);
    const trip = await pressPanelButton(sys, l.client, l.ltik, 'start');
    const callback = postBackForm(await loginAtClaveUnica(l.client, trip.atSence, u.customRut));
    const store = sys.stores.attendance;
    const original = store.saveAnswer.bind(store);
    let failures = 0;
    // Every try fails with an error that is not "busy" (the connection drops, the disk is full…);
    // in the second case the answer was written before its reply was lost.
    store.saveAnswer = async (answer) => {
      failures += 1;
      if (filed) await original(answer);
      throw new Error('connection reset while filing the answer');
    };
    try {
      const ok = await l.client.submit(callback);
      expect(failures).toBeGreaterThan(0);
      expect(ok.status).toBe(200);
      expect(ok.text).toContain('Asistencia correctamente ingresada');
    } finally {
      store.saveAnswer = original;
    }
    const session = (await sessionsOf(u.id))[0]!;
    expect(session.state).toBe('open');
    const answers = await store.listAnswers(session.id);
    expect(answers).toHaveLength(1);
    expect(answers[0]).toMatchObject({ sessionId: session.id, phase: 'start', outcome: 'success' });
    expect(answers[0]!.payload.IdSesionSence).toBe(session.idSesionSence);
    const again = await l.client.submit(callback);
    expect(again.status).toBe(409);
    expect(await store.listAnswers(session.id)).toHaveLength(1);
  });

  it('a double click on "Abrir sesión" makes one attempt, not two', async () => {
    const u = takeUser();
    const l = await launchAs(sys, u.id);
    const [a, b] = await Promise.all([
      l.client.post(`${sys.url}/lti/sence/start`, { ltik: l.ltik }),
      l.client.post(`${sys.url}/lti/sence/start`, { ltik: l.ltik }),
    ]);
    expect(a.status).toBe(200);
    expect(b.status).toBe(200);
    const fa = parseForms(a.text, a.url)[0]!.fields;
    const fb = parseForms(b.text, b.url)[0]!.fields;
    expect(fb.IdSesionAlumno).toBe(fa.IdSesionAlumno);
    expect(fb.UrlRetoma).toBe(fa.UrlRetoma);
    expect(await sessionsOf(u.id)).toHaveLength(1);
  });

  it('a second press of "Abrir sesión" while the start waits for SENCE (another tab): the pending trip is shown, not a second trip; "continuar" sends the same one (issue #20 §11)', async () => {
    const u = takeUser();
    const l = await launchAs(sys, u.id);
    const first = await l.client.post(`${sys.url}/lti/sence/start`, { ltik: l.ltik });
    const sent = sys.sence!.received.length;
    const f1 = parseForms(first.text, first.url)[0]!.fields;
    // 9 s later: still the same click (a double click), the same form.
    clock += 9_000;
    const double = await l.client.post(`${sys.url}/lti/sence/start`, { ltik: l.ltik });
    expect(parseForms(double.text, double.url)[0]!.fields.UrlRetoma).toBe(f1.UrlRetoma);
    // 10 s after the start (the limit): the pending trip is shown, with a button to continue it.
    clock += 1_000;
    const second = await l.client.post(`${sys.url}/lti/sence/start`, { ltik: l.ltik });
    expect(second.status).toBe(200);
    expect(second.text).toContain('Ya tienes un ingreso a SENCE en curso');
    expect(second.text).toContain('Si en SENCE elegiste «Salir sin ingresar», cerraste esa ventana o no la encuentras, continúa el mismo ingreso aquí.');
    expect(second.text).not.toContain(f1.UrlRetoma!);
    expect(sys.sence!.received.length).toBe(sent);
    const continued = await l.client.post(`${sys.url}/lti/sence/start`, { ltik: l.ltik, continuar: '1' });
    const f2 = parseForms(continued.text, continued.url)[0]!.fields;
    expect(f2.IdSesionAlumno).toBe(f1.IdSesionAlumno);
    expect(f2.UrlRetoma).toBe(f1.UrlRetoma);
    expect(await sessionsOf(u.id)).toHaveLength(1);
  });

  it('a close without an open session', async () => {
    const u = takeUser();
    const l = await launchAs(sys, u.id);
    const res = await l.client.post(`${sys.url}/lti/sence/close`, { ltik: l.ltik });
    expect(res.status).toBe(409);
    expect(res.text).toContain('No tienes una sesión SENCE abierta');
    expect(await sessionsOf(u.id)).toHaveLength(0);
  });

  it('a learner posting to staff settings', async () => {
    const before = await sys.stores.courses.get(courseKey());
    const res = await victim.l.client.post(`${sys.url}/lti/staff/settings`, { ltik: victim.l.ltik, otecId: DEMO_OTEC_ID, lineaCapacitacion: '3', codSence: '1234567890', codigoCurso: '1234567', requiredHours: '1', environment: 'production' });
    expect(res.status).toBe(403);
    expect(await sys.stores.courses.get(courseKey())).toEqual(before);
    expect(await auditHas('access-denied', 'learner tried a staff page')).toBe(true);
  });
});

describe('staff: course settings, OTECs, attendance and audit', () => {
  let diego: Launch;
  beforeAll(async () => {
    diego = await launchAs(sys, 'diego');
  });
  const post = (path: string, form: Record<string, string>) => diego.client.post(`${sys.url}/lti/staff/${path}`, { ltik: diego.ltik, ...form });

  it('refuses invalid settings with messages that say what to fix, and keeps the stored ones', async () => {
    const before = await sys.stores.courses.get(courseKey());
    const res = await post('settings', { otecId: DEMO_OTEC_ID, lineaCapacitacion: '3', codSence: '12345', codigoCurso: '-1', requiredHours: '0', environment: 'production', sessionLimitMinutes: '180', warningMinutes: '10' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('No se guardó la configuración');
    expect(res.text).toMatch(/id="err-codSence"/);
    expect(res.text).toMatch(/id="err-codigoCurso"/);
    expect(res.text).toMatch(/id="err-requiredHours"/);
    expect(await sys.stores.courses.get(courseKey())).toEqual(before);
    expect(await auditHas('settings-rejected', 'codSence')).toBe(true);
  });

  it('refuses a session limit the learner\'s panel would not outlast (LTIK_MAX_AGE_MINUTES 360: at most 300 minutes)', async () => {
    const before = await sys.stores.courses.get(courseKey());
    const form = { otecId: DEMO_OTEC_ID, lineaCapacitacion: '3', codSence: '1237654321', codigoCurso: 'RLAB-19-02-08-0071-1', requiredHours: '40', environment: 'production', warningMinutes: '10' };
    const page = await diego.client.get(`${sys.url}/lti/staff?ltik=${encodeURIComponent(diego.ltik)}`);
    expect(page.text).toContain('Entre 30 y 300 minutos en esta instalación');
    const res = await post('settings', { ...form, sessionLimitMinutes: '301' });
    expect(res.status).toBe(400);
    expect(res.text).toContain('En esta instalación el tiempo máximo de una sesión puede ser de hasta 300 minutos');
    expect(res.text).toContain('el operador de Asistencia SENCE debe aumentar LTIK_MAX_AGE_MINUTES');
    expect(await sys.stores.courses.get(courseKey())).toEqual(before);
  });

  it('adds an OTEC with its token encrypted at rest and never shown back in full', async () => {
    // Since issue #7 only an LMS administrator manages OTECs (security-otec-tenancy.test.ts).
    sys.lms!.tamperNextIdToken({ claims: (c) => ({ ...c, [CLAIM.roles]: ADMIN_ROLES }) });
    const admin = await launchAs(sys, 'diego');
    const post = (path: string, form: Record<string, string>) => admin.client.post(`${sys.url}/lti/staff/${path}`, { ltik: admin.ltik, ...form });
    const token = 'd4e5f6a7-b8c9-4d0e-9f1a-2b3c4d5e6f70';
    const bad = await post('otecs', { name: 'OTEC Sur', rut: '76.123.456-1', token });
    expect(bad.status).toBe(400);
    expect(bad.text).not.toContain(token);
    const ok = await post('otecs', { name: 'OTEC Sur', rut: '76.123.456-0', token });
    expect(ok.status).toBe(200);
    expect(ok.text).toContain('OTEC OTEC Sur agregado');
    expect(ok.text).not.toContain(token.toUpperCase());
    expect(ok.text).toContain('…6F70');
    const stored = (await sys.stores.otecs.list()).find((o) => o.rut === '76123456-0')!;
    expect(stored.tokenSealed).not.toContain(token.toUpperCase());
    expect(JSON.stringify(sys.logger.lines)).not.toContain(token.toUpperCase());
  });

  it('saves valid settings (line 1 with a blank CodSence)', async () => {
    const before = (await sys.stores.courses.get(courseKey()))!.settings!;
    const res = await post('settings', { otecId: DEMO_OTEC_ID, lineaCapacitacion: '1', codSence: '', codigoCurso: 'RLAB-19-02-08-0071-1', requiredHours: '40', environment: 'test', sessionLimitMinutes: '180', warningMinutes: '10' });
    expect(res.status).toBe(200);
    expect(res.text).toContain('Configuración guardada');
    expect((await sys.stores.courses.get(courseKey()))?.settings).toMatchObject({ lineaCapacitacion: 1, codSence: '', requiredHours: 40 });
    await sys.stores.courses.saveSettings(courseKey(), before);
  });

  it('shows the course attendance in the report, exports its sessions as CSV, and lists the audit log', async () => {
    // Issue #20: the report (not the old "Sesiones" page, now 410) and its sessions export.
    const report = await diego.client.get(`${sys.url}/lti/staff/report?ltik=${encodeURIComponent(diego.ltik)}`);
    expect(report.status).toBe(200);
    expect(report.text).toContain('Ana Pérez');
    expect(report.text).toMatch(/1 hora y 5 minutos|1 h 05 min/);
    const csv = await diego.client.get(`${sys.url}/lti/staff/export/sessions.csv?ltik=${encodeURIComponent(diego.ltik)}`);
    expect(csv.headers.get('content-type')).toContain('text/csv');
    expect(csv.text).toContain('"12345678-5"');
    expect(csv.text).toContain('"cerrada"');
    const audit = await diego.client.get(`${sys.url}/lti/staff/audit?ltik=${encodeURIComponent(diego.ltik)}`);
    expect(audit.status).toBe(200);
    expect(audit.text).toContain('Respuesta rechazada');
    expect(audit.text).toContain('Respuesta de SENCE registrada');
    expect(audit.text).not.toMatch(/callback-(accepted|rejected)|start success|close success/); // in Spanish, none raw
    expect(audit.text).toContain('127.0.0.1');
  });
});
