import { newSession, applyStartSuccess } from '../../src/domain/attendance-rules';
import type { AttendanceSession, CourseSettings } from '../../src/domain/types';
import { buildCloseForm, buildStartForm, type RceFormArgs } from '../../src/sence/rce-form';

const settings: CourseSettings = {
  otecId: 'otec-1',
  lineaCapacitacion: 3,
  codSence: '1237654321',
  codigoCurso: 'RLAB-19-02-08-0071-1',
  requiredHours: 40,
  environment: 'test',
  sessionLimitMinutes: 180,
  warningMinutes: 10,
};
const now = new Date('2026-11-22T13:00:00Z');

function session(over: Partial<CourseSettings> = {}): AttendanceSession {
  return newSession({
    id: '6f1c2a9e-1b2c-4d5e-8f90-123456789abc',
    learner: { issuer: 'i', clientId: 'c', sub: 'u' },
    course: { issuer: 'i', clientId: 'c', contextId: 'x' },
    otecId: 'otec-1',
    environment: 'test',
    run: '10000013-k',
    otecRut: '76123456-0',
    settings: { ...settings, ...over },
    now,
  });
}

const base = 'https://sistemas.sence.cl/rcetest/Registro';
const token = '0a1b2c3d-4e5f-6789-abcd-ef0123456789';
const urlRetoma = 'https://asistencia.example.cl/sence/s/ok/AbCdEfGhIjKlMnOpQrStUvWxYz012345';
const urlError = 'https://asistencia.example.cl/sence/s/err/AbCdEfGhIjKlMnOpQrStUvWxYz012345';

function startArgs(over: Partial<RceFormArgs> = {}): RceFormArgs {
  return { baseUrl: base, token, session: session(), urlRetoma, urlError, ...over };
}

const START_FIELDS = ['RutOtec', 'Token', 'CodSence', 'CodigoCurso', 'LineaCapacitacion', 'RunAlumno', 'IdSesionAlumno', 'UrlRetoma', 'UrlError'];

describe('buildStartForm', () => {
  it('posts exactly the nine IniciarSesion fields to …/IniciarSesion', () => {
    const form = buildStartForm(startArgs());
    expect(form.action).toBe('https://sistemas.sence.cl/rcetest/Registro/IniciarSesion');
    expect(Object.keys(form.fields)).toEqual(START_FIELDS);
    expect(form.fields).toEqual({
      RutOtec: '76123456-0',
      Token: token.toUpperCase(),
      CodSence: '1237654321',
      CodigoCurso: 'RLAB-19-02-08-0071-1',
      LineaCapacitacion: '3',
      RunAlumno: '10000013-K',
      IdSesionAlumno: 'AS-6f1c2a9e-1b2c-4d5e-8f90-123456789abc',
      UrlRetoma: urlRetoma,
      UrlError: urlError,
    });
  });

  it('tolerates a trailing slash on the base URL', () => {
    expect(buildStartForm(startArgs({ baseUrl: `${base}/` })).action).toBe(`${base}/IniciarSesion`);
  });

  it('sends a blank CodSence for line 1', () => {
    const form = buildStartForm(startArgs({ session: session({ lineaCapacitacion: 1, codSence: '' }) }));
    expect(form.fields.CodSence).toBe('');
    expect(form.fields.LineaCapacitacion).toBe('1');
  });

  it('refuses a blank CodSence outside line 1', () => {
    expect(() => buildStartForm(startArgs({ session: session({ codSence: '' }) }))).toThrow(
      expect.objectContaining({ code: 'settings-invalid', status: 400 }),
    );
  });

  it('refuses a token that is not 36 characters', () => {
    expect(() => buildStartForm(startArgs({ token: '12345678-1234-1234-1234-123456789' }))).toThrow(
      expect.objectContaining({ code: 'settings-invalid' }),
    );
  });

  it('accepts URLs of exactly 100 characters and refuses 101', () => {
    const url100 = `https://a.cl/${'x'.repeat(100 - 13)}`;
    expect(url100).toHaveLength(100);
    expect(buildStartForm(startArgs({ urlRetoma: url100, urlError: url100 })).fields.UrlRetoma).toBe(url100);
    expect(() => buildStartForm(startArgs({ urlError: `${url100}y` }))).toThrow(expect.objectContaining({ code: 'settings-invalid' }));
  });

  it.each(['/sence/ok', 'asistencia.example.cl/ok', 'ftp://a.cl/x', ''])('refuses non-absolute URL %p', (bad) => {
    expect(() => buildStartForm(startArgs({ urlRetoma: bad }))).toThrow(expect.objectContaining({ code: 'settings-invalid' }));
  });

  it.each([
    ['CodSence', { CodSence: '12345678901' }],
    ['CodigoCurso', { CodigoCurso: 'x'.repeat(51) }],
    ['RutOtec', { RutOtec: '761234567-0' }],
    ['RunAlumno', { RunAlumno: '123456789-0' }],
    ['IdSesionAlumno', { IdSesionAlumno: 'x'.repeat(150) }],
    ['LineaCapacitacion', { LineaCapacitacion: '4' }],
  ])('refuses %s beyond the RCE limit', (field, sent) => {
    const s = session();
    const bad = { ...s, sent: { ...s.sent, ...sent } };
    try {
      buildStartForm(startArgs({ session: bad }));
      throw new Error('should have thrown');
    } catch (error) {
      expect(error).toMatchObject({ code: 'settings-invalid', status: 400, details: { field } });
      expect((error as Error).message).toMatch(/OTEC/);
    }
  });

  it('accepts the longest allowed values', () => {
    const s = session();
    const longest = { ...s, sent: { ...s.sent, CodigoCurso: 'x'.repeat(50), IdSesionAlumno: 'x'.repeat(149) } };
    expect(() => buildStartForm(startArgs({ session: longest }))).not.toThrow();
  });
});

describe('buildCloseForm', () => {
  const open = (): AttendanceSession => applyStartSuccess(session(), { IdSesionSence: 'SENCE-123456' }, now);

  it('resends the start values plus IdSesionSence to …/CerrarSesion', () => {
    const start = buildStartForm(startArgs({ session: open() }));
    const close = buildCloseForm(startArgs({ session: open() }));
    expect(close.action).toBe('https://sistemas.sence.cl/rcetest/Registro/CerrarSesion');
    expect(Object.keys(close.fields)).toEqual([...START_FIELDS, 'IdSesionSence']);
    expect(close.fields).toEqual({ ...start.fields, IdSesionSence: 'SENCE-123456' });
  });

  it('refuses a session SENCE never opened', () => {
    expect(() => buildCloseForm(startArgs())).toThrow(expect.objectContaining({ code: 'sence-no-open-session' }));
  });

  it('refuses an IdSesionSence longer than 149 characters', () => {
    const s = { ...open(), idSesionSence: 'x'.repeat(150) };
    expect(() => buildCloseForm(startArgs({ session: s }))).toThrow(expect.objectContaining({ code: 'settings-invalid' }));
  });
});
