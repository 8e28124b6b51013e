import {
  ACTIVE_STATES,
  applyCloseError,
  applyCloseSuccess,
  applyStartError,
  applyStartSuccess,
  clockStatus,
  expireIfDue,
  hasAccessMark,
  isActiveState,
  newSession,
  requestClose,
  totalAccreditedSeconds,
  type NewSessionArgs,
} from '../../src/domain/attendance-rules';
import type { AttendanceSession, CourseSettings } from '../../src/domain/types';
import { AppError } from '../../src/errors';

const T0 = new Date('2026-11-22T13:00:00Z');
const at = (seconds: number): Date => new Date(T0.getTime() + seconds * 1000);
const H = 3600;
const M = 60;
const TTL = 30;

const settings: CourseSettings = {
  otecId: 'otec-1',
  lineaCapacitacion: 3,
  codSence: '1237654321',
  codigoCurso: 'ACCION-2026-001',
  requiredHours: 40,
  environment: 'test',
  sessionLimitMinutes: 180,
  warningMinutes: 10,
};

function args(over: Partial<NewSessionArgs> = {}): NewSessionArgs {
  return {
    id: 'sess-1',
    learner: { issuer: 'https://lms.example', clientId: 'c1', sub: 'u1' },
    course: { issuer: 'https://lms.example', clientId: 'c1', contextId: 'ctx1' },
    otecId: 'otec-1',
    environment: 'test',
    run: '12.345.678-5',
    otecRut: '76123456-0',
    settings,
    now: T0,
    ...over,
  };
}

const starting = (over: Partial<NewSessionArgs> = {}): AttendanceSession => newSession(args(over));
const opened = (): AttendanceSession => applyStartSuccess(starting(), { IdSesionSence: 'SENCE-99' }, T0);
const closing = (afterSeconds: number): AttendanceSession => requestClose(opened(), at(afterSeconds));

/** Deep-freezes a session so any mutation by the rules throws. */
function frozen(session: AttendanceSession): AttendanceSession {
  Object.freeze(session.sent);
  Object.freeze(session.lastErrorCodes);
  return Object.freeze(session);
}

describe('newSession', () => {
  it('starts in "starting" with what will be sent to SENCE', () => {
    const s = starting();
    expect(s.state).toBe('starting');
    expect(s.idSesionAlumno).toBe('AS-sess-1');
    expect(s.sent).toEqual({
      RutOtec: '76123456-0',
      CodSence: '1237654321',
      CodigoCurso: 'ACCION-2026-001',
      LineaCapacitacion: '3',
      RunAlumno: '12345678-5',
      IdSesionAlumno: 'AS-sess-1',
    });
    expect(s).toMatchObject({
      limitMinutes: 180,
      warningMinutes: 10,
      createdAt: T0,
      openedAt: null,
      idSesionSence: null,
      accreditedSeconds: 0,
      lastErrorCodes: [],
      endReason: null,
    });
  });

  it('sends an empty CodSence for line 1 even if one is stored', () => {
    const s = starting({ settings: { ...settings, lineaCapacitacion: 1, codSence: '1237654321' } });
    expect(s.sent.CodSence).toBe('');
    expect(s.sent.LineaCapacitacion).toBe('1');
  });

  it('keeps IdSesionAlumno within 149 characters', () => {
    expect(starting({ id: 'x'.repeat(146) }).idSesionAlumno).toHaveLength(149);
    expect(() => starting({ id: 'x'.repeat(147) })).toThrow(AppError);
  });

  it('refuses an invalid learner RUN or OTEC RUT', () => {
    expect(() => starting({ run: '12345678-6' })).toThrow(expect.objectContaining({ code: 'run-invalid' }));
    expect(() => starting({ otecRut: '76123456-1' })).toThrow(expect.objectContaining({ code: 'otec-invalid' }));
  });
});

describe('start callbacks', () => {
  it('success opens the session and starts the clock now', () => {
    const before = frozen(starting());
    const s = applyStartSuccess(before, { IdSesionSence: ' SENCE-99 ', FechaHora: '2026-11-22 10:00:01', ZonaHoraria: 'America/Santiago' }, at(5));
    expect(s).toMatchObject({
      state: 'open',
      idSesionSence: 'SENCE-99',
      openedAt: at(5),
      senceStartFechaHora: '2026-11-22 10:00:01',
      senceZonaHoraria: 'America/Santiago',
    });
    expect(before.state).toBe('starting');
  });

  it('success without IdSesionSence is refused', () => {
    expect(() => applyStartSuccess(starting(), { IdSesionSence: '  ' }, T0)).toThrow(
      expect.objectContaining({ code: 'sence-callback-invalid' }),
    );
  });

  it('success is only accepted while starting', () => {
    expect(() => applyStartSuccess(opened(), { IdSesionSence: 'X' }, T0)).toThrow(AppError);
  });

  it('error ends the attempt as start-failed with the codes and a Spanish reason', () => {
    const s = applyStartError(frozen(starting()), ['208'], at(10));
    expect(s).toMatchObject({ state: 'start-failed', endedAt: at(10), lastErrorCodes: ['208'], openedAt: null });
    expect(s.endReason).toContain('208');
    expect(s.endReason).toContain('no está autorizado');
  });

  it('error is only accepted while starting', () => {
    expect(() => applyStartError(opened(), ['300'], T0)).toThrow(AppError);
  });
});

describe('requestClose', () => {
  it('moves an open session to closing', () => {
    const s = requestClose(frozen(opened()), at(H));
    expect(s).toMatchObject({ state: 'closing', closeRequestedAt: at(H) });
  });

  it('refuses when no session is open', () => {
    for (const s of [starting(), closing(H)]) {
      expect(() => requestClose(s, at(H))).toThrow(expect.objectContaining({ code: 'sence-no-open-session', status: 409 }));
    }
  });

  it('returns the session expired when the limit already passed', () => {
    const s = requestClose(opened(), at(3 * H));
    expect(s.state).toBe('expired');
    expect(s.accreditedSeconds).toBe(0);
  });

  it('still allows closing one second before the limit', () => {
    expect(requestClose(opened(), at(3 * H - 1)).state).toBe('closing');
  });
});

describe('close callbacks', () => {
  it('success accredits the whole seconds since the start', () => {
    const s = applyCloseSuccess(frozen(closing(H)), at(H + 30 * M + 15.9));
    expect(s).toMatchObject({ state: 'closed', accreditedSeconds: H + 30 * M + 15, endedAt: at(H + 30 * M + 15.9) });
  });

  it('success caps the time at the session limit', () => {
    expect(applyCloseSuccess(closing(2 * H + 59 * M), at(3 * H + 5 * M)).accreditedSeconds).toBe(3 * H);
  });

  it('success is also accepted from open', () => {
    expect(applyCloseSuccess(opened(), at(M)).state).toBe('closed');
  });

  it('success is refused for a session that never opened or already ended', () => {
    expect(() => applyCloseSuccess(starting(), at(M))).toThrow(AppError);
    expect(() => applyCloseSuccess(applyCloseSuccess(opened(), at(M)), at(2 * M))).toThrow(AppError);
  });

  it.each(['301', '304', '305', '310'])('error %s means SENCE ended the session: no time, open a new one', (code) => {
    const s = applyCloseError(frozen(closing(H)), [code], at(H + 60));
    expect(s).toMatchObject({ state: 'ended-by-sence', accreditedSeconds: 0, lastErrorCodes: [code], endedAt: at(H + 60) });
    expect(s.endReason).toMatch(/nueva sesión/);
  });

  it('a session-gone code among several still ends the session', () => {
    expect(applyCloseError(closing(H), ['300', '301'], at(H + 60)).state).toBe('ended-by-sence');
  });

  it('any other error returns the session to open so the learner can retry', () => {
    const s = applyCloseError(frozen(closing(H)), ['312'], at(H + 60));
    expect(s).toMatchObject({ state: 'open', lastErrorCodes: ['312'], closeRequestedAt: null, openedAt: T0 });
    expect(requestClose(s, at(H + 120)).state).toBe('closing');
  });

  it('a retryable error after the limit leaves the session expired', () => {
    expect(applyCloseError(closing(2 * H), ['312'], at(3 * H + 1)).state).toBe('expired');
  });

  it('errors are refused for sessions that are not open or closing', () => {
    expect(() => applyCloseError(starting(), ['312'], T0)).toThrow(AppError);
  });
});

describe('expireIfDue', () => {
  it('abandons a start with no callback after the attempt TTL', () => {
    const s = expireIfDue(frozen(starting()), at(TTL * M), TTL);
    expect(s.state).toBe('abandoned');
    expect(s.endedAt).toEqual(at(TTL * M));
    // Issue #20 §10: what happened (the time the trip started, in Chile) and what to press.
    expect(s.endReason).toBe('No recibimos respuesta de SENCE al ingreso que empezaste a las 10:00: probablemente elegiste «Salir sin ingresar» o cerraste la ventana de SENCE antes de terminar con tu ClaveÚnica. Esa sesión no se abrió y no suma tiempo. Para registrar asistencia, presiona «CLICK AQUÍ PARA ABRIR SESIÓN EN SENCE».');
  });

  it('keeps a recent start waiting (same object)', () => {
    const s = starting();
    expect(expireIfDue(s, at(TTL * M - 1), TTL)).toBe(s);
  });

  it('expires an open session at the limit: the time is lost', () => {
    const s = expireIfDue(frozen(opened()), at(3 * H), TTL);
    expect(s).toMatchObject({ state: 'expired', accreditedSeconds: 0, endedAt: at(3 * H) });
    expect(s.endReason).toMatch(/perdiste el tiempo/);
    expect(s.endReason).toContain('tiempo máximo de 3 horas desde');
  });

  it('keeps an open session within the limit (same object)', () => {
    const s = opened();
    expect(expireIfDue(s, at(3 * H - 1), TTL)).toBe(s);
  });

  it('expires a closing session at the limit', () => {
    expect(expireIfDue(closing(2 * H + 55 * M), at(3 * H), TTL).state).toBe('expired');
  });

  it('returns a closing session with no callback after the TTL to open, within the limit', () => {
    const s = expireIfDue(frozen(closing(H)), at(H + TTL * M), TTL);
    expect(s).toMatchObject({ state: 'open', closeRequestedAt: null });
    // Issue #20 §10: the learner is told the close did not come back, and what to press.
    expect(s.endReason).toBe('No recibimos respuesta de SENCE al cierre que pediste a las 11:00: probablemente elegiste «Salir sin ingresar» o cerraste la ventana de SENCE antes de terminar. Tu sesión sigue abierta en SENCE: ciérrala con «CLICK AQUÍ PARA CERRAR SESIÓN EN SENCE» antes del límite o perderás su tiempo.');
    expect(expireIfDue(closing(H), at(H + TTL * M - 1), TTL).state).toBe('closing');
    // A new close request clears that notice.
    expect(requestClose(s, at(H + TTL * M + 5)).endReason).toBeNull();
  });

  it('leaves ended sessions alone', () => {
    const closed = applyCloseSuccess(opened(), at(H));
    expect(expireIfDue(closed, at(10 * H), TTL)).toBe(closed);
  });
});

describe('clockStatus for a 180-minute limit with a 10-minute warning', () => {
  const s = opened();
  it.each([
    [0, 'ok', 3 * H],
    [2 * H + 29 * M + 59, 'ok', 30 * M + 1],
    [2 * H + 30 * M, 'warning', 30 * M],
    [2 * H + 49 * M + 59, 'warning', 10 * M + 1],
    [2 * H + 50 * M, 'danger', 10 * M],
    [2 * H + 59 * M + 59, 'danger', 1],
    [3 * H, 'over', 0],
    [4 * H, 'over', 0],
  ])('after %p s the clock is %s', (elapsed, level, remaining) => {
    expect(clockStatus(s, at(elapsed))).toEqual({ elapsedSeconds: elapsed, remainingSeconds: remaining, level });
  });

  it('does not run before SENCE accepted the start', () => {
    expect(clockStatus(starting(), at(H))).toEqual({ elapsedSeconds: 0, remainingSeconds: 3 * H, level: 'ok' });
  });

  it('stops at the end of a closed session', () => {
    const closed = applyCloseSuccess(opened(), at(H));
    expect(clockStatus(closed, at(5 * H)).elapsedSeconds).toBe(H);
  });
});

describe('accounting', () => {
  const closedA = applyCloseSuccess(opened(), at(H + 30 * M));
  const closedB = applyCloseSuccess(opened(), at(20 * M));
  const expired = expireIfDue(opened(), at(4 * H), TTL);
  const failed = applyStartError(starting(), ['208'], T0);
  const abandoned = expireIfDue(starting(), at(H), TTL);

  it('sums only closed sessions', () => {
    expect(totalAccreditedSeconds([closedA, closedB, expired, failed, opened()])).toBe(H + 50 * M);
    expect(totalAccreditedSeconds([])).toBe(0);
  });

  it('grants the access mark once SENCE accepted any start, even if that session expired', () => {
    expect(hasAccessMark([failed, abandoned])).toBe(false);
    expect(hasAccessMark([failed, expired])).toBe(true);
    expect(hasAccessMark([opened()])).toBe(true);
    expect(hasAccessMark([])).toBe(false);
  });

  it('lists the active states', () => {
    expect([...ACTIVE_STATES]).toEqual(['starting', 'open', 'closing']);
  });
});

/** The AppError a rule throws (fails the test when it does not throw). */
function refusal(rule: () => unknown): AppError {
  try {
    rule();
  } catch (error) {
    if (error instanceof AppError) return error;
    throw error;
  }
  throw new Error('expected the rule to refuse');
}

describe('what learners and staff read when a rule refuses', () => {
  it('a session id that cannot make an IdSesionAlumno of 1–149 characters', () => {
    for (const id of ['', '   ', 'x'.repeat(147)]) {
      const e = refusal(() => newSession(args({ id })));
      expect(e).toMatchObject({ code: 'internal', status: 500, message: 'No pudimos preparar tu sesión SENCE.' });
      expect(e.staffHint).toBe('El id de sesión debe producir un IdSesionAlumno de 1 a 149 caracteres.');
    }
    expect(newSession(args({ id: 'x'.repeat(146) })).idSesionAlumno).toHaveLength(149);
  });

  it('an invalid RUN', () => {
    const e = refusal(() => newSession(args({ run: '12.345.678-9' })));
    expect(e).toMatchObject({ code: 'run-invalid', status: 400, message: 'Tu RUN no es válido, así que no podemos abrir tu sesión en SENCE.', details: { reason: 'check-digit' } });
  });

  it('an invalid OTEC RUT', () => {
    const e = refusal(() => newSession(args({ otecRut: '76123456-1' })));
    expect(e).toMatchObject({ code: 'otec-invalid', status: 400, message: 'La OTEC de este curso está mal configurada. Avísale a tu OTEC o a tu relator.', details: { reason: 'check-digit' } });
    expect(e.staffHint).toBe('El RUT de la OTEC no es válido (formato xxxxxxxx-x con dígito verificador correcto).');
  });

  it('a new session keeps its own copy of the learner and course keys', () => {
    const a = args();
    const s = newSession(a);
    expect(s.learner).toEqual(a.learner);
    expect(s.course).toEqual(a.course);
    expect(s.learner).not.toBe(a.learner);
    expect(s.course).not.toBe(a.course);
  });

  it.each([
    ['abrir', () => applyStartSuccess(opened(), { IdSesionSence: 'X' }, T0), 'open'],
    ['rechazar el inicio de', () => applyStartError(opened(), ['211'], T0), 'open'],
    ['cerrar', () => applyCloseSuccess(starting(), T0), 'starting'],
    ['rechazar el cierre de', () => applyCloseError(starting(), ['100'], T0), 'starting'],
  ])('a SENCE answer that no longer fits the session (%s)', (action, rule, state) => {
    const e = refusal(rule);
    expect(e).toMatchObject({ code: 'sence-callback-replayed', status: 409, message: 'Esta respuesta de SENCE ya no corresponde al estado de tu sesión. Recarga la página.', details: { sessionId: 'sess-1', state } });
    expect(e.staffHint).toBe(`No se puede ${action} una sesión en estado "${state}".`);
  });

  it('a successful start without IdSesionSence (blank counts as missing)', () => {
    const e = refusal(() => applyStartSuccess(starting(), { IdSesionSence: '  ' }, T0));
    expect(e).toMatchObject({ code: 'sence-callback-invalid', status: 400, message: 'SENCE no devolvió el identificador de tu sesión. Intenta abrirla nuevamente.' });
    expect(e.staffHint).toBe('Respuesta de inicio exitoso sin IdSesionSence.');
  });

  it('closing when no session is open', () => {
    const e = refusal(() => requestClose(starting(), T0));
    expect(e).toMatchObject({ code: 'sence-no-open-session', status: 409, message: 'No tienes una sesión abierta en SENCE para cerrar.', details: { sessionId: 'sess-1', state: 'starting' } });
  });
});

describe('what a session records from SENCE\'s answers', () => {
  it('stores FechaHora and ZonaHoraria trimmed, blank as nothing, and clears earlier error codes', () => {
    const s = applyStartSuccess({ ...starting(), lastErrorCodes: ['100'] }, { IdSesionSence: ' S-1 ', FechaHora: ' 2025-03-04 10:00:00 ', ZonaHoraria: ' America/Santiago ' }, T0);
    expect(s).toMatchObject({ idSesionSence: 'S-1', senceStartFechaHora: '2025-03-04 10:00:00', senceZonaHoraria: 'America/Santiago', lastErrorCodes: [] });
    const blank = applyStartSuccess(starting(), { IdSesionSence: 'S-1', FechaHora: '  ', ZonaHoraria: '' }, T0);
    expect(blank).toMatchObject({ senceStartFechaHora: null, senceZonaHoraria: null });
  });

  it('a refused start says which error and what it means; without codes, that SENCE gave none', () => {
    expect(applyStartError(starting(), ['211', '204'], T0).endReason).toBe(
      'SENCE no pudo abrir tu sesión (error 211, 204). La credencial de la OTEC configurada para este curso no corresponde.',
    );
    expect(applyStartError(starting(), [], T0).endReason).toBe('SENCE no pudo abrir tu sesión (error sin número). SENCE no indicó el motivo.');
  });

  it('an accepted close says so and clears the codes of an earlier refused close', () => {
    const retried = applyCloseError(closing(60), ['100'], at(61));
    expect(retried.lastErrorCodes).toEqual(['100']);
    const closed = applyCloseSuccess(retried, at(120));
    expect(closed).toMatchObject({ state: 'closed', endReason: 'Sesión correctamente cerrada en SENCE.', lastErrorCodes: [], accreditedSeconds: 120 });
  });

  it('a close error may also arrive for a session already back to open (after the close attempt expired)', () => {
    const s = applyCloseError(opened(), ['100'], at(60));
    expect(s).toMatchObject({ state: 'open', lastErrorCodes: ['100'], closeRequestedAt: null });
  });

  it('sessions in progress are starting, open and closing', () => {
    expect(['starting', 'open', 'closing'].map((s) => isActiveState(s as AttendanceSession['state']))).toEqual([true, true, true]);
    expect(['closed', 'expired', 'abandoned', 'start-failed', 'ended-by-sence'].map((s) => isActiveState(s as AttendanceSession['state']))).toEqual([false, false, false, false, false]);
  });
});
