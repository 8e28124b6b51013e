import { computeCheckDigit, isValidRun, parseRun, runReasonText, type RunProblem } from '../../src/domain/rut';
import { AppError } from '../../src/errors';

describe('computeCheckDigit (mod 11)', () => {
  it.each([
    ['12345678', '5'],
    ['11111111', '1'],
    ['76123456', '0'],
    ['7654321', '6'],
    ['10000013', 'K'],
    ['10000004', '0'],
    ['999999', 'K'],
  ])('body %s → %s', (body, dv) => {
    expect(computeCheckDigit(body)).toBe(dv);
  });

  it('refuses a body with non-digits', () => {
    expect(() => computeCheckDigit('12.345.678')).toThrow(AppError);
    expect(() => computeCheckDigit('')).toThrow(
      expect.objectContaining({
        code: 'run-invalid',
        status: 400,
        message: 'El RUN debe tener solo números antes del guion.',
        staffHint: 'computeCheckDigit recibe solo el cuerpo numérico del RUN, sin puntos ni dígito verificador.',
      }),
    );
  });
});

describe('parseRun', () => {
  it.each([
    ['12.345.678-5', '12345678-5'],
    ['12345678-5', '12345678-5'],
    ['123456785', '12345678-5'],
    [' 12345678-5 ', '12345678-5'],
    ['10000013-k', '10000013-K'],
    [' 10.000.013-k ', '10000013-K'],
    ['10000013K', '10000013-K'],
    ['7.654.321-6', '7654321-6'],
    ['7654321-6', '7654321-6'],
    ['123.456-0', '123456-0'],
    ['999999-k', '999999-K'],
  ])('accepts %p as %s', (input, run) => {
    expect(parseRun(input)).toEqual({ ok: true, run });
  });

  it('normalised RUNs fit in SENCE RunAlumno (10 characters)', () => {
    const result = parseRun('99.999.999-9');
    expect(result).toEqual({ ok: true, run: '99999999-9' });
    if (result.ok) expect(result.run.length).toBeLessThanOrEqual(10);
  });

  it.each([null, undefined, '', '   '])('%p is missing', (input) => {
    expect(parseRun(input)).toEqual({ ok: false, reason: 'missing' });
  });

  it.each(['$User.username', '$Person.sourcedId', ' $Canvas.user.sisSourceId'])('%p is an unsubstituted LMS variable', (input) => {
    expect(parseRun(input)).toEqual({ ok: false, reason: 'placeholder' });
  });

  it.each([
    'abc',
    '12345678-',
    '1-9',
    '99999-6', // 5-digit body
    '100000000-1', // 9-digit body
    '12.345678-5', // dots in the wrong place
    '1.2.3.4.5.6.7.8-5',
    '12345678-55',
    '12345678--5',
    '012345678-5',
    '12345678-X',
    '12 345 678-5',
    'juan.perez',
  ])('%p is a format problem', (input) => {
    expect(parseRun(input)).toEqual({ ok: false, reason: 'format' });
  });

  // "12345678" without check digit reads as body 1234567 + DV 8, which does not match.
  it.each(['12345678-6', '12.345.678-K', '10000013-0', '7654321-5', '12345678'])('%p has a wrong check digit', (input) => {
    expect(parseRun(input)).toEqual({ ok: false, reason: 'check-digit' });
  });
});

describe('isValidRun', () => {
  it('is true only for valid RUNs', () => {
    expect(isValidRun('12.345.678-5')).toBe(true);
    expect(isValidRun('12345678-6')).toBe(false);
    expect(isValidRun(null)).toBe(false);
  });
});

describe('runReasonText', () => {
  const reasons: RunProblem[] = ['missing', 'placeholder', 'format', 'check-digit'];
  it.each(reasons)('gives a distinct Spanish sentence for %s', (reason) => {
    const text = runReasonText(reason);
    expect(text).toMatch(/RUN/);
    expect(text.endsWith('.')).toBe(true);
    expect(text).toMatch(/OTEC/);
  });

  it('never repeats the same sentence for two reasons', () => {
    expect(new Set(reasons.map(runReasonText)).size).toBe(reasons.length);
  });

  it('shows the expected format for a format problem', () => {
    expect(runReasonText('format')).toContain('12345678-5');
  });
});
