import { applyStartSuccess, newSession, requestClose } from '../../src/domain/attendance-rules';
import type { AttendanceSession, CallbackAttempt } from '../../src/domain/types';
import { deriveCallbackToken, deriveWindowKey, hashCallbackToken, tokenMatches } from '../../src/sence/callback-token';
import {
  CALLBACK_FIELDS,
  VERIFY_STEPS,
  parseCallbackBody,
  verifyCallback,
  type VerifyCallbackArgs,
} from '../../src/sence/verify-callback';

const T0 = new Date('2026-11-22T13:00:00Z');
const at = (minutes: number): Date => new Date(T0.getTime() + minutes * 60_000);

function starting(): AttendanceSession {
  return newSession({
    id: 's1',
    learner: { issuer: 'i', clientId: 'c', sub: 'u' },
    course: { issuer: 'i', clientId: 'c', contextId: 'x' },
    otecId: 'otec-1',
    environment: 'test',
    run: '10000013-K',
    otecRut: '76123456-0',
    settings: {
      otecId: 'otec-1',
      lineaCapacitacion: 3,
      codSence: '1237654321',
      codigoCurso: 'ACCION-0001',
      requiredHours: 10,
      environment: 'test',
      sessionLimitMinutes: 180,
      warningMinutes: 10,
    },
    now: T0,
  });
}
const closing = (): AttendanceSession => requestClose(applyStartSuccess(starting(), { IdSesionSence: 'SS-1' }, at(1)), at(60));

function attempt(phase: 'start' | 'close', over: Partial<CallbackAttempt> = {}): CallbackAttempt {
  return { id: 'a1', sessionId: 's1', phase, tokenHash: 'h', createdAt: T0, expiresAt: at(30), usedAt: null, ...over };
}

const echoed = {
  CodSence: '1237654321',
  CodigoCurso: 'ACCION-0001',
  IdSesionAlumno: 'AS-s1',
  RunAlumno: '10000013-K',
  FechaHora: '2026-11-22 10:00:05',
  ZonaHoraria: 'America/Santiago',
  LineaCapacitacion: '3',
};

function startArgs(over: Partial<VerifyCallbackArgs> = {}): VerifyCallbackArgs {
  return { kind: 'retoma', attempt: attempt('start'), session: starting(), fields: { ...echoed, IdSesionSence: 'SS-1' }, now: at(5), ...over };
}

function closeArgs(over: Partial<VerifyCallbackArgs> = {}): VerifyCallbackArgs {
  return { kind: 'retoma', attempt: attempt('close', { createdAt: at(60), expiresAt: at(90) }), session: closing(), fields: { ...echoed }, now: at(65), ...over };
}

describe('parseCallbackBody', () => {
  it('keeps the known fields and the raw payload', () => {
    const r = parseCallbackBody({ ...echoed, IdSesionSence: 'SS-1' });
    expect(r).toEqual({ ok: true, fields: { ...echoed, IdSesionSence: 'SS-1' }, raw: { ...echoed, IdSesionSence: 'SS-1' } });
  });

  it('trims field names (manual errata "LineaCapacitacion ")', () => {
    const r = parseCallbackBody({ 'LineaCapacitacion ': '3', ' GlosaError': '204' });
    expect(r.ok && r.fields).toEqual({ LineaCapacitacion: '3', GlosaError: '204' });
  });

  it('rejects a field sent twice (array value)', () => {
    expect(parseCallbackBody({ RunAlumno: ['1-9', '2-7'] })).toMatchObject({ ok: false, code: 'sence-callback-invalid', step: 'duplicate-field' });
  });

  it('rejects two names that trim to the same field', () => {
    expect(parseCallbackBody({ LineaCapacitacion: '3', 'LineaCapacitacion ': '6' })).toMatchObject({ ok: false, step: 'duplicate-field' });
  });

  it('rejects non-string values', () => {
    expect(parseCallbackBody({ RunAlumno: { a: '1' } })).toMatchObject({ ok: false, step: 'field-type' });
    expect(parseCallbackBody({ CodSence: 1237654321 })).toMatchObject({ ok: false, step: 'field-type' });
  });

  it.each(Object.entries(CALLBACK_FIELDS))('rejects %s longer than %i characters and accepts exactly the limit', (name, max) => {
    expect(parseCallbackBody({ [name]: 'x'.repeat(max) }).ok).toBe(true);
    expect(parseCallbackBody({ [name]: 'x'.repeat(max + 1) })).toMatchObject({ ok: false, step: 'field-length' });
  });

  it('keeps unknown fields only in raw, cut to 200 characters', () => {
    const r = parseCallbackBody({ RunAlumno: '1-9', Extra: 'y'.repeat(500) });
    expect(r.ok && r.fields).toEqual({ RunAlumno: '1-9' });
    expect(r.ok && r.raw.Extra).toHaveLength(200);
  });

  it('accepts 20 unknown fields and rejects 21', () => {
    const many = (n: number): Record<string, string> => Object.fromEntries(Array.from({ length: n }, (_, i) => [`x${i}`, 'v']));
    expect(parseCallbackBody(many(20)).ok).toBe(true);
    expect(parseCallbackBody(many(21))).toMatchObject({ ok: false, step: 'too-many-fields' });
  });

  it('rejects absurdly long field names', () => {
    expect(parseCallbackBody({ ['x'.repeat(65)]: 'v' })).toMatchObject({ ok: false, step: 'field-name' });
    expect(parseCallbackBody({ ['x'.repeat(64)]: 'v' }).ok).toBe(true);
  });

  it('does not let a "__proto__" field touch prototypes', () => {
    const body = JSON.parse('{"__proto__": "x", "RunAlumno": "1-9"}') as unknown;
    const r = parseCallbackBody(body);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(Object.getPrototypeOf(r.raw)).toBe(Object.prototype);
      expect(Object.prototype.hasOwnProperty.call(r.raw, '__proto__')).toBe(true);
    }
  });

  it.each([null, undefined, 'RunAlumno=1', ['a'], 42])('rejects body %p', (body) => {
    expect(parseCallbackBody(body)).toMatchObject({ ok: false, step: 'body-shape' });
  });
});

describe('verifyCallback', () => {
  it('runs its steps in a fixed order', () => {
    expect(VERIFY_STEPS).toEqual([
      'attempt-session',
      'attempt-unused',
      'attempt-not-expired',
      'session-state',
      'id-sesion-alumno',
      'run-alumno',
      'cod-sence',
      'codigo-curso',
      'outcome',
    ]);
  });

  it('accepts a successful start', () => {
    expect(verifyCallback(startArgs())).toEqual({ ok: true, outcome: 'success', codes: [] });
  });

  it('accepts a successful close (no IdSesionSence needed)', () => {
    expect(verifyCallback(closeArgs())).toEqual({ ok: true, outcome: 'success', codes: [] });
  });

  it('accepts a start error with its codes', () => {
    const r = verifyCallback(startArgs({ kind: 'error', fields: { ...echoed, IdSesionSence: '', GlosaError: '211;204' } }));
    expect(r).toEqual({ ok: true, outcome: 'error', codes: ['211', '204'] });
  });

  it('accepts a close error', () => {
    expect(verifyCallback(closeArgs({ kind: 'error', fields: { ...echoed, GlosaError: '301' } }))).toEqual({ ok: true, outcome: 'error', codes: ['301'] });
  });

  it('treats a GlosaError on the success URL as an error', () => {
    expect(verifyCallback(startArgs({ fields: { ...echoed, IdSesionSence: 'SS-1', GlosaError: '300' } }))).toEqual({ ok: true, outcome: 'error', codes: ['300'] });
  });

  it('matches RunAlumno case-insensitively on K and ignores surrounding spaces', () => {
    expect(verifyCallback(startArgs({ fields: { ...echoed, RunAlumno: ' 10000013-k ', IdSesionSence: 'SS-1' } })).ok).toBe(true);
  });

  it('accepts a blank or space CodSence for line 1', () => {
    const s = starting();
    const line1 = { ...s, sent: { ...s.sent, CodSence: '', LineaCapacitacion: '1' } };
    expect(verifyCallback(startArgs({ session: line1, fields: { ...echoed, CodSence: ' ', IdSesionSence: 'SS-1' } })).ok).toBe(true);
    const { CodSence: _omit, ...withoutCodSence } = echoed;
    expect(verifyCallback(startArgs({ session: line1, fields: { ...withoutCodSence, IdSesionSence: 'SS-1' } })).ok).toBe(true);
  });

  const failures: [string, string, () => VerifyCallbackArgs][] = [
    ['attempt-session', 'sence-callback-mismatch', () => startArgs({ attempt: attempt('start', { sessionId: 'other' }) })],
    ['attempt-unused', 'sence-callback-replayed', () => startArgs({ attempt: attempt('start', { usedAt: at(2) }) })],
    ['attempt-not-expired', 'sence-attempt-expired', () => startArgs({ now: at(30) })],
    ['session-state', 'sence-callback-replayed', () => startArgs({ session: closing() })],
    ['session-state', 'sence-callback-replayed', () => closeArgs({ session: starting() })],
    ['id-sesion-alumno', 'sence-callback-mismatch', () => startArgs({ fields: { ...echoed, IdSesionAlumno: 'AS-s2', IdSesionSence: 'SS-1' } })],
    ['id-sesion-alumno', 'sence-callback-mismatch', () => startArgs({ fields: { RunAlumno: echoed.RunAlumno, IdSesionSence: 'SS-1' } })],
    ['run-alumno', 'sence-callback-mismatch', () => startArgs({ fields: { ...echoed, RunAlumno: '12345678-5', IdSesionSence: 'SS-1' } })],
    ['cod-sence', 'sence-callback-mismatch', () => startArgs({ fields: { ...echoed, CodSence: '9999999999', IdSesionSence: 'SS-1' } })],
    ['codigo-curso', 'sence-callback-mismatch', () => closeArgs({ fields: { ...echoed, CodigoCurso: 'OTRA-ACCION' } })],
    ['outcome', 'sence-callback-invalid', () => startArgs({ kind: 'error', fields: { ...echoed, IdSesionSence: 'SS-1' } })],
    ['outcome', 'sence-callback-invalid', () => closeArgs({ kind: 'error', fields: { ...echoed, GlosaError: ' ; ' } })],
    ['outcome', 'sence-callback-invalid', () => startArgs({ fields: { ...echoed, IdSesionSence: '  ' } })],
  ];

  it.each(failures)('fails at step %s with %s', (step, code, make) => {
    const r = verifyCallback(make());
    expect(r).toMatchObject({ ok: false, step, code });
    if (!r.ok) expect(r.reason.length).toBeGreaterThan(0);
  });

  it('reports the first failing step when several fail', () => {
    const r = verifyCallback(startArgs({ attempt: attempt('start', { usedAt: at(2) }), now: at(60), fields: {} }));
    expect(r).toMatchObject({ ok: false, step: 'attempt-unused' });
  });
});

describe('callback tokens', () => {
  const secret = Buffer.alloc(32, 7);
  const otherSecret = Buffer.alloc(32, 8);

  it('are 22 base64url characters (fits the 100-character URL) with a sha256 hex hash', () => {
    const token = deriveCallbackToken(secret, 'abcdefghijkl');
    expect(token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(hashCallbackToken(token)).toMatch(/^[0-9a-f]{64}$/);
  });

  it('are the same for the same attempt (a double click renders the same form) and differ otherwise', () => {
    expect(deriveCallbackToken(secret, 'attempt-1')).toBe(deriveCallbackToken(secret, 'attempt-1'));
    expect(deriveCallbackToken(secret, 'attempt-1')).not.toBe(deriveCallbackToken(secret, 'attempt-2'));
    expect(deriveCallbackToken(otherSecret, 'attempt-1')).not.toBe(deriveCallbackToken(secret, 'attempt-1'));
    // A window key for a session is not a callback token for an attempt with the same id.
    expect(deriveWindowKey(secret, 'x')).not.toBe(deriveCallbackToken(secret, 'x'));
  });

  it('match only the token they were made from', () => {
    const token = deriveCallbackToken(secret, 'attempt-1');
    const hash = hashCallbackToken(token);
    expect(tokenMatches(token, hash)).toBe(true);
    expect(tokenMatches(`${token}x`, hash)).toBe(false);
    expect(tokenMatches('', hash)).toBe(false);
    expect(tokenMatches(token, 'short')).toBe(false);
    expect(tokenMatches(token, hashCallbackToken('other'))).toBe(false);
  });
});

describe('parseCallbackBody: the reason recorded in the audit log for each refused body', () => {
  it.each([
    // The reason is one of a fixed set (the audit fingerprint, issue #19); the field's name apart.
    ['body-shape', null, 'body is not a form object', undefined],
    ['duplicate-field', { RunAlumno: ['1-9', '2-7'] }, 'field sent more than once', 'RunAlumno'],
    ['duplicate-field', { LineaCapacitacion: '3', 'LineaCapacitacion ': '6' }, 'field sent more than once', 'LineaCapacitacion'],
    ['field-type', { CodSence: 1237654321 }, 'field is not plain text', 'CodSence'],
    ['field-length', { CodSence: '12345678901' }, 'field longer than its maximum', 'CodSence'],
    ['field-name', { ['x'.repeat(65)]: 'v' }, 'field name longer than 64 characters', undefined],
    ['too-many-fields', Object.fromEntries(Array.from({ length: 21 }, (_, i) => [`Extra${i}`, 'v'])), 'more than 20 unknown fields', undefined],
  ])('%s: %j', (step, body, reason, field) => {
    expect(parseCallbackBody(body)).toEqual({ ok: false, code: 'sence-callback-invalid', step, reason, ...(field === undefined ? {} : { field }) });
  });
});
