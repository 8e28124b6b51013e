import { validateCourseSettings, validateOtecInput } from '../../src/domain/course-settings';

const ctx = {
  otecIds: ['otec-1', 'otec-2'],
  publicUrl: 'https://asistencia.example.cl',
  defaults: { sessionLimitMinutes: 180, warningMinutes: 10 },
  ltikMaxAgeMinutes: 360,
};

const valid = {
  otecId: 'otec-1',
  lineaCapacitacion: '3',
  codSence: '1237654321',
  codigoCurso: 'RLAB-19-02-08-0071-1',
  requiredHours: '40',
  environment: 'production',
  sessionLimitMinutes: '',
  warningMinutes: '',
};

function errorsOf(input: Record<string, unknown>, c = ctx): Record<string, string> {
  const result = validateCourseSettings(input, c);
  if (result.ok) throw new Error('expected errors');
  return result.errors;
}

describe('validateCourseSettings', () => {
  it('accepts a franquicia tributaria course and applies the default limit and warning', () => {
    expect(validateCourseSettings(valid, ctx)).toEqual({
      ok: true,
      settings: {
        otecId: 'otec-1',
        lineaCapacitacion: 3,
        codSence: '1237654321',
        codigoCurso: 'RLAB-19-02-08-0071-1',
        requiredHours: 40,
        environment: 'production',
        sessionLimitMinutes: 180,
        warningMinutes: 10,
      },
    });
  });

  it('trims values and accepts decimal hours with a comma or a dot', () => {
    const r1 = validateCourseSettings({ ...valid, codSence: ' 1237654321 ', requiredHours: '40,5' }, ctx);
    const r2 = validateCourseSettings({ ...valid, requiredHours: '12.25' }, ctx);
    expect(r1.ok && r1.settings.codSence).toBe('1237654321');
    expect(r1.ok && r1.settings.requiredHours).toBe(40.5);
    expect(r2.ok && r2.settings.requiredHours).toBe(12.25);
  });

  it('requires an existing OTEC', () => {
    expect(errorsOf({ ...valid, otecId: '' }).otecId).toMatch(/OTEC/);
    expect(errorsOf({ ...valid, otecId: 'otec-9' }).otecId).toMatch(/no existe/);
  });

  it.each(['0', '2', '4', 'tres', ''])('refuses training line %p', (line) => {
    expect(errorsOf({ ...valid, lineaCapacitacion: line }).lineaCapacitacion).toMatch(/1.*3.*6/);
  });

  it.each(['123456789', '12345678901', '12345abcde', ''])('refuses CodSence %p for line 3', (code) => {
    expect(errorsOf({ ...valid, codSence: code }).codSence).toMatch(/10 dígitos/);
  });

  it('requires a blank CodSence for line 1, in production and in test', () => {
    const line1 = { ...valid, lineaCapacitacion: '1', codigoCurso: 'BOTIC-SOFOF-19-12-13-0046' };
    expect(errorsOf({ ...line1, codSence: '1237654321' }).codSence).toMatch(/en blanco/);
    expect(errorsOf({ ...line1, codSence: '-1', environment: 'test' }).codSence).toMatch(/en blanco/);
    const ok = validateCourseSettings({ ...line1, codSence: '' }, ctx);
    expect(ok.ok && ok.settings.codSence).toBe('');
  });

  it('accepts -1 codes only in the test environment', () => {
    const wildcard = { ...valid, codSence: '-1', codigoCurso: '-1' };
    const test = validateCourseSettings({ ...wildcard, environment: 'test' }, ctx);
    expect(test.ok && test.settings).toMatchObject({ codSence: '-1', codigoCurso: '-1', environment: 'test' });
    const errors = errorsOf(wildcard);
    expect(errors.codSence).toMatch(/prueba/);
    expect(errors.codigoCurso).toMatch(/prueba/);
  });

  it('requires CodigoCurso of 7 to 50 characters except for line 6', () => {
    expect(errorsOf({ ...valid, codigoCurso: '123456' }).codigoCurso).toMatch(/entre 7 y 50/);
    expect(errorsOf({ ...valid, codigoCurso: 'x'.repeat(51) }).codigoCurso).toMatch(/50/);
    expect(errorsOf({ ...valid, codigoCurso: '' }).codigoCurso).toMatch(/ID de acción/);
    expect(validateCourseSettings({ ...valid, codigoCurso: '1234567' }, ctx).ok).toBe(true);
    expect(validateCourseSettings({ ...valid, codigoCurso: 'x'.repeat(50) }, ctx).ok).toBe(true);
    expect(validateCourseSettings({ ...valid, lineaCapacitacion: '6', codigoCurso: '12345' }, ctx).ok).toBe(true);
    expect(errorsOf({ ...valid, lineaCapacitacion: '6', codigoCurso: 'x'.repeat(51) }).codigoCurso).toMatch(/50/);
  });

  it('refuses control characters in CodigoCurso', () => {
    expect(errorsOf({ ...valid, codigoCurso: 'ACCION\n123' }).codigoCurso).toMatch(/saltos de línea/);
  });

  it.each(['0', '-1', '2000.5', '2001', 'abc', '', '1,234'])('refuses required hours %p', (hours) => {
    expect(errorsOf({ ...valid, requiredHours: hours }).requiredHours).toMatch(/mayor que 0/);
  });

  it('accepts 2000 required hours', () => {
    expect(validateCourseSettings({ ...valid, requiredHours: '2000' }, ctx).ok).toBe(true);
  });

  it('requires test or production', () => {
    expect(errorsOf({ ...valid, environment: 'rce' }).environment).toMatch(/prueba/);
  });

  it('bounds the session limit to 30–720 whole minutes', () => {
    expect(errorsOf({ ...valid, sessionLimitMinutes: '29' }).sessionLimitMinutes).toMatch(/30 y 720/);
    expect(errorsOf({ ...valid, sessionLimitMinutes: '721' }).sessionLimitMinutes).toMatch(/30 y 720/);
    expect(errorsOf({ ...valid, sessionLimitMinutes: '90.5' }).sessionLimitMinutes).toBeDefined();
    const ok = validateCourseSettings({ ...valid, sessionLimitMinutes: '120', warningMinutes: '15' }, ctx);
    expect(ok.ok && ok.settings).toMatchObject({ sessionLimitMinutes: 120, warningMinutes: 15 });
  });

  it('accepts 720 minutes, the most, when the launch lasts an hour longer (LTIK_MAX_AGE_MINUTES 780)', () => {
    const long = { ...ctx, ltikMaxAgeMinutes: 780 };
    const ok = validateCourseSettings({ ...valid, sessionLimitMinutes: '720' }, long);
    expect(ok.ok && ok.settings.sessionLimitMinutes).toBe(720);
    expect(errorsOf({ ...valid, sessionLimitMinutes: '721' }, long).sessionLimitMinutes).toMatch(/entre 30 y 720/);
  });

  it('accepts a session limit exactly one hour shorter than the launch (LTIK_MAX_AGE_MINUTES)', () => {
    const ok = validateCourseSettings({ ...valid, sessionLimitMinutes: '300' }, ctx);
    expect(ok.ok && ok.settings.sessionLimitMinutes).toBe(300);
  });

  it('refuses a session limit one minute past the launch\'s lifetime less an hour, and says who can change it', () => {
    const message = errorsOf({ ...valid, sessionLimitMinutes: '301' }).sessionLimitMinutes;
    expect(message).toBe(
      'En esta instalación el tiempo máximo de una sesión puede ser de hasta 300 minutos: el panel del alumno dura 360 minutos desde que entra y debe durar una hora más que la sesión SENCE. Para permitir sesiones más largas, el operador de Asistencia SENCE debe aumentar LTIK_MAX_AGE_MINUTES.',
    );
  });

  it('bounds the warning to 1–60 minutes and below the limit', () => {
    expect(errorsOf({ ...valid, warningMinutes: '0' }).warningMinutes).toMatch(/1 y 60/);
    expect(errorsOf({ ...valid, warningMinutes: '61' }).warningMinutes).toMatch(/1 y 60/);
    expect(errorsOf({ ...valid, sessionLimitMinutes: '30', warningMinutes: '30' }).warningMinutes).toMatch(/menor/);
  });

  it('refuses a PUBLIC_URL too long for SENCE return URLs', () => {
    const long = { ...ctx, publicUrl: `https://${'a'.repeat(51)}` }; // 59 + 42 = 101
    expect(errorsOf(valid, long).publicUrl).toMatch(/PUBLIC_URL/);
    const limit = { ...ctx, publicUrl: `https://${'a'.repeat(50)}` }; // 58 + 42 = 100
    expect(validateCourseSettings(valid, limit).ok).toBe(true);
  });

  it('reports every problem at once, in Spanish', () => {
    const errors = errorsOf({});
    expect(Object.keys(errors).sort()).toEqual(['codSence', 'codigoCurso', 'environment', 'lineaCapacitacion', 'otecId', 'requiredHours'].sort());
    for (const message of Object.values(errors)) expect(message).toMatch(/^[A-ZÁÉÍÓÚ]/);
  });

  it('refuses non-text values', () => {
    expect(errorsOf({ ...valid, codigoCurso: ['a', 'b'] }).codigoCurso).toBeDefined();
  });
});

describe('validateOtecInput', () => {
  const token = '0a1b2c3d-4e5f-6789-abcd-ef0123456789';

  it('normalises RUT and upper-cases the token', () => {
    expect(validateOtecInput({ name: ' OTEC Capacita ', rut: '76.123.456-0', token: ` ${token} ` })).toEqual({
      ok: true,
      value: { name: 'OTEC Capacita', rut: '76123456-0', token: token.toUpperCase() },
    });
  });

  it('requires a name of 1 to 100 characters', () => {
    const r1 = validateOtecInput({ name: '', rut: '76123456-0', token });
    const r2 = validateOtecInput({ name: 'x'.repeat(101), rut: '76123456-0', token });
    expect(!r1.ok && r1.errors.name).toMatch(/nombre/);
    expect(!r2.ok && r2.errors.name).toMatch(/100/);
    expect(validateOtecInput({ name: 'x'.repeat(100), rut: '76123456-0', token }).ok).toBe(true);
  });

  it('refuses a RUT with a wrong check digit or format', () => {
    const dv = validateOtecInput({ name: 'A', rut: '76123456-1', token });
    const fmt = validateOtecInput({ name: 'A', rut: 'abc', token });
    expect(!dv.ok && dv.errors.rut).toMatch(/dígito verificador/);
    expect(!fmt.ok && fmt.errors.rut).toMatch(/guion/);
  });

  it.each([
    '12345678-1234-1234-1234-123456789', // the manual's 33-character sample
    '0a1b2c3d4e5f6789abcdef0123456789abcd', // 36 chars, no hyphens
    'ga1b2c3d-4e5f-6789-abcd-ef0123456789', // not hex
    '',
  ])('refuses token %p', (bad) => {
    const r = validateOtecInput({ name: 'A', rut: '76123456-0', token: bad });
    expect(!r.ok && r.errors.token).toMatch(/token/i);
  });
});

describe('validateCourseSettings: the exact message staff read for each problem', () => {
  it.each([
    ['otecId', { otecId: '' }, 'Elija la OTEC que dicta este curso.'],
    ['otecId', { otecId: 'otec-9' }, 'La OTEC elegida no existe. Elija una de la lista o regístrela primero.'],
    ['environment', { environment: 'rce' }, 'Elija el ambiente de SENCE: prueba (rcetest) o producción (rce).'],
    ['lineaCapacitacion', { lineaCapacitacion: '4' }, 'Elija la línea de capacitación: 1 (Programas Sociales), 3 (Franquicia Tributaria) o 6 (FPT).'],
    ['codSence', { codSence: ['1237654321'] }, 'Escriba el código SENCE del curso como texto.'],
    ['codSence', { codSence: '' }, 'Escriba el código SENCE del curso: 10 dígitos, lo encuentra en la orden de compra.'],
    ['codSence', { codSence: '123765432' }, 'El código SENCE debe tener exactamente 10 dígitos, sin puntos ni espacios (está en la orden de compra).'],
    ['codSence', { lineaCapacitacion: '1', codSence: '1237654321' }, 'Para la línea 1 (Programas Sociales) el código SENCE debe quedar en blanco.'],
    ['codSence', { codSence: '-1' }, 'El código "-1" solo sirve en el ambiente de prueba. En producción escriba el código SENCE real de 10 dígitos.'],
    ['codigoCurso', { codigoCurso: '' }, 'Escriba el código de la acción de capacitación (ID de acción, Folio o RUS).'],
    ['codigoCurso', { codigoCurso: '-1' }, 'El código "-1" solo sirve en el ambiente de prueba. En producción escriba el ID de acción real.'],
    ['codigoCurso', { codigoCurso: 'ACCION\t123' }, 'El código de la acción no puede tener saltos de línea ni caracteres especiales invisibles.'],
    ['codigoCurso', { codigoCurso: '123456' }, 'El código de la acción debe tener entre 7 y 50 caracteres (solo la línea 6 admite menos de 7).'],
    ['codigoCurso', { lineaCapacitacion: '6', codigoCurso: 'x'.repeat(51) }, 'El código de la acción puede tener como máximo 50 caracteres.'],
    ['requiredHours', { requiredHours: '0' }, 'Escriba las horas totales del curso: un número mayor que 0 y hasta 2000 (puede usar decimales, por ejemplo 40,5).'],
    ['requiredHours', { requiredHours: ['40'] }, 'Escriba las horas totales del curso: un número mayor que 0 y hasta 2000 (puede usar decimales, por ejemplo 40,5).'],
    ['sessionLimitMinutes', { sessionLimitMinutes: '29' }, 'El tiempo máximo de una sesión debe ser un número entero de minutos entre 30 y 720 (lo habitual son 180, es decir 3 horas).'],
    ['warningMinutes', { warningMinutes: '61' }, 'El aviso antes del límite debe ser un número entero de minutos entre 1 y 60 (SENCE recomienda 10).'],
    ['warningMinutes', { sessionLimitMinutes: '30', warningMinutes: '30' }, 'El aviso antes del límite debe ser menor que el tiempo máximo de la sesión.'],
  ])('%s: %j', (field, change, message) => {
    expect(errorsOf({ ...valid, ...change })[field]).toBe(message);
  });

  it('a PUBLIC_URL too long: how many characters it has and how short it must be', () => {
    expect(errorsOf(valid, { ...ctx, publicUrl: `https://${'a'.repeat(51)}` }).publicUrl).toBe(
      'La dirección pública de la herramienta (PUBLIC_URL, 59 caracteres) es demasiado larga: SENCE acepta direcciones de retorno de hasta 100 caracteres. Acórtela a 58 caracteres o menos.',
    );
  });

  it('numbers from a JSON client are read as their text; non-finite numbers are refused', () => {
    const ok = validateCourseSettings({ ...valid, lineaCapacitacion: 3, requiredHours: 40, sessionLimitMinutes: 120, warningMinutes: 15 }, ctx);
    expect(ok.ok && ok.settings).toMatchObject({ lineaCapacitacion: 3, requiredHours: 40, sessionLimitMinutes: 120, warningMinutes: 15 });
    expect(errorsOf({ ...valid, requiredHours: Number.POSITIVE_INFINITY }).requiredHours).toBeDefined();
    expect(errorsOf({ ...valid, sessionLimitMinutes: Number.NaN }).sessionLimitMinutes).toBeDefined();
  });

  it('a missing or null value counts as blank (the default limit and warning apply)', () => {
    const ok = validateCourseSettings({ ...valid, sessionLimitMinutes: null, warningMinutes: undefined }, ctx);
    expect(ok.ok && ok.settings).toMatchObject({ sessionLimitMinutes: 180, warningMinutes: 10 });
  });

  it('limits at exactly their bounds are accepted', () => {
    const low = validateCourseSettings({ ...valid, sessionLimitMinutes: '30', warningMinutes: '1' }, ctx);
    expect(low.ok && low.settings).toMatchObject({ sessionLimitMinutes: 30, warningMinutes: 1 });
    const high = validateCourseSettings({ ...valid, sessionLimitMinutes: '300', warningMinutes: '60' }, ctx);
    expect(high.ok && high.settings).toMatchObject({ sessionLimitMinutes: 300, warningMinutes: 60 });
  });

  it('an unreadable limit leaves the warning without a message of its own', () => {
    const errors = errorsOf({ ...valid, sessionLimitMinutes: 'tres horas', warningMinutes: '10' });
    expect(errors.sessionLimitMinutes).toBeDefined();
    expect(errors.warningMinutes).toBeUndefined();
  });
});

describe('validateOtecInput: the exact message staff read', () => {
  const token = '0a1b2c3d-4e5f-6789-abcd-ef0123456789';
  const errorsOfOtec = (input: Record<string, unknown>): Record<string, string> => {
    const r = validateOtecInput(input);
    if (r.ok) throw new Error('expected errors');
    return r.errors;
  };

  it.each([
    ['name', { name: '', rut: '76123456-0', token }, 'Escriba el nombre de la OTEC.'],
    ['name', { name: 'OTEC\nSur', rut: '76123456-0', token }, 'El nombre de la OTEC debe tener como máximo 100 caracteres, en una sola línea.'],
    ['rut', { name: 'A', rut: '76123456-1', token }, 'El dígito verificador del RUT de la OTEC no coincide. Revise el número después del guion.'],
    ['rut', { name: 'A', rut: '', token }, 'Escriba el RUT de la OTEC con guion y dígito verificador, por ejemplo 76123456-0.'],
    ['token', { name: 'A', rut: '76123456-0', token: '' }, 'Pegue el token SENCE de la OTEC (lo obtiene en https://sistemas.sence.cl/rts).'],
    ['token', { name: 'A', rut: '76123456-0', token: token.slice(0, 33) }, 'El token debe tener 36 caracteres con la forma XXXXXXXX-XXXX-XXXX-XXXX-XXXXXXXXXXXX (letras A-F y números). El que pegó tiene 33; cópielo completo desde RTS.'],
  ])('%s: %j', (field, input, message) => {
    expect(errorsOfOtec(input)[field]).toBe(message);
  });

  it('a token that is not text counts as missing', () => {
    expect(errorsOfOtec({ name: 'A', rut: '76123456-0', token: { value: token } }).token).toBe('Pegue el token SENCE de la OTEC (lo obtiene en https://sistemas.sence.cl/rts).');
  });
});
