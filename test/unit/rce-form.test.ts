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

/** The error a build throws (fails the test when it does not throw). */
function thrown(build: () => unknown): { code: string; status: number; message: string; staffHint?: string; details?: Record<string, unknown> } {
  try {
    build();
  } catch (error) {
    return error as ReturnType<typeof thrown>;
  }
  throw new Error('expected the form to be refused');
}

const ASK_OTEC = 'Avísale a tu OTEC o a tu relator para que revise la configuración del curso.';

describe('what the learner and staff read when a form cannot be built', () => {
  const withSent = (sent: Partial<AttendanceSession['sent']>): AttendanceSession => {
    const s = session();
    return { ...s, sent: { ...s.sent, ...sent } };
  };

  it('a blank field (spaces only count as blank)', () => {
    for (const blank of ['', '   ']) {
      const e = thrown(() => buildStartForm(startArgs({ session: withSent({ CodigoCurso: blank }) })));
      expect(e).toMatchObject({ code: 'settings-invalid', status: 400, details: { field: 'CodigoCurso' } });
      expect(e.message).toBe(`Falta un dato del curso para registrar tu asistencia en SENCE (CodigoCurso). ${ASK_OTEC}`);
      expect(e.staffHint).toBe('CodigoCurso está vacío.');
    }
  });

  it('a field longer than SENCE accepts', () => {
    const e = thrown(() => buildStartForm(startArgs({ session: withSent({ CodigoCurso: 'x'.repeat(51) }) })));
    expect(e.message).toBe(`Un dato del curso es demasiado largo para SENCE (CodigoCurso). ${ASK_OTEC}`);
    expect(e.staffHint).toBe('CodigoCurso tiene 51 caracteres; SENCE acepta como máximo 50.');
  });

  it('a return address that is not an absolute http(s) URL, named by its field', () => {
    const retoma = thrown(() => buildStartForm(startArgs({ urlRetoma: 'ftp://a.cl/x' })));
    expect(retoma).toMatchObject({ code: 'settings-invalid', details: { field: 'UrlRetoma' } });
    expect(retoma.message).toBe(`La dirección de retorno para SENCE no es válida (UrlRetoma). ${ASK_OTEC}`);
    expect(retoma.staffHint).toBe('UrlRetoma debe ser una URL absoluta http(s): "ftp://a.cl/x".');
    const error = thrown(() => buildStartForm(startArgs({ urlError: '/sence/err' })));
    expect(error).toMatchObject({ details: { field: 'UrlError' } });
    expect(error.message).toBe(`La dirección de retorno para SENCE no es válida (UrlError). ${ASK_OTEC}`);
    expect(thrown(() => buildStartForm(startArgs({ urlError: '' }))).staffHint).toBe('UrlError está vacío.');
  });

  it('plain http return addresses are accepted (a development PUBLIC_URL)', () => {
    const form = buildStartForm(startArgs({ urlRetoma: 'http://localhost:3000/cb/ok/x', urlError: 'http://localhost:3000/cb/er/x' }));
    expect(form.fields.UrlRetoma).toBe('http://localhost:3000/cb/ok/x');
    expect(form.fields.UrlError).toBe('http://localhost:3000/cb/er/x');
  });

  it('a token of the wrong length', () => {
    const e = thrown(() => buildStartForm(startArgs({ token: token.slice(1) })));
    expect(e).toMatchObject({ code: 'settings-invalid', details: { field: 'Token' } });
    expect(e.message).toBe(`La credencial de la OTEC no es válida. ${ASK_OTEC}`);
    expect(e.staffHint).toBe('El token tiene 35 caracteres; SENCE exige 36.');
  });

  it('a token pasted with spaces around it is sent trimmed, in upper case', () => {
    expect(buildStartForm(startArgs({ token: `  ${token}\n` })).fields.Token).toBe(token.toUpperCase());
  });

  it('a training line other than 1, 3 or 6', () => {
    const e = thrown(() => buildStartForm(startArgs({ session: withSent({ LineaCapacitacion: '4' }) })));
    expect(e.message).toBe(`La línea de capacitación del curso no es válida. ${ASK_OTEC}`);
    expect(e.staffHint).toBe('LineaCapacitacion "4" debe ser 1, 3 o 6.');
  });

  it('lines 1, 3 and 6 are each accepted', () => {
    expect(buildStartForm(startArgs({ session: session({ lineaCapacitacion: 1, codSence: '' }) })).fields.LineaCapacitacion).toBe('1');
    expect(buildStartForm(startArgs({ session: session({ lineaCapacitacion: 3 }) })).fields.LineaCapacitacion).toBe('3');
    expect(buildStartForm(startArgs({ session: session({ lineaCapacitacion: 6 }) })).fields.LineaCapacitacion).toBe('6');
  });

  it('several trailing slashes on the base URL are all dropped', () => {
    expect(buildStartForm(startArgs({ baseUrl: `${base}///` })).action).toBe(`${base}/IniciarSesion`);
  });

  it('closing a session SENCE never opened', () => {
    const e = thrown(() => buildCloseForm(startArgs()));
    expect(e).toMatchObject({ code: 'sence-no-open-session', status: 409, details: { sessionId: '6f1c2a9e-1b2c-4d5e-8f90-123456789abc', state: 'starting' } });
    expect(e.message).toBe('No tienes una sesión abierta en SENCE para cerrar.');
    expect(e.staffHint).toBe('La sesión no tiene IdSesionSence: SENCE nunca confirmó su inicio.');
  });

  it('closing with a blank IdSesionSence names that field', () => {
    const s = { ...applyStartSuccess(session(), { IdSesionSence: 'SENCE-1' }, now), idSesionSence: ' ' };
    const e = thrown(() => buildCloseForm(startArgs({ session: s })));
    expect(e).toMatchObject({ code: 'settings-invalid', details: { field: 'IdSesionSence' } });
    expect(e.staffHint).toBe('IdSesionSence está vacío.');
  });
});
