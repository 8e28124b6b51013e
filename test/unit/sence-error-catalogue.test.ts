import {
  SENCE_ERROR_CODES,
  describeGlosaError,
  describeSenceError,
  parseGlosaError,
} from '../../src/domain/sence-error-catalogue';

const EVERY_REFERENCE_CODE = [
  '100',
  ...Array.from({ length: 13 }, (_, i) => String(200 + i)), // 200–212, incl. 210
  ...Array.from({ length: 14 }, (_, i) => String(300 + i)), // 300–313
];

describe('SENCE_ERROR_CODES', () => {
  it('covers every code of REFERENCE §4 and nothing else', () => {
    expect([...SENCE_ERROR_CODES].sort()).toEqual([...EVERY_REFERENCE_CODE].sort());
    expect(SENCE_ERROR_CODES).toHaveLength(28);
  });

  it.each(EVERY_REFERENCE_CODE)('code %s has Spanish texts for the learner and for staff', (code) => {
    const d = describeSenceError(code);
    expect(d.code).toBe(code);
    expect(d.known).toBe(true);
    for (const text of [d.description, d.solution, d.staffHint]) {
      expect(text.trim().length).toBeGreaterThan(15);
      expect(text).toMatch(/[.!]$/);
    }
    // Addressed to the learner in Spanish, not a raw English label.
    expect(d.description).not.toMatch(/\b(the|error code|invalid)\b/i);
  });

  it('gives different descriptions to different codes', () => {
    const descriptions = EVERY_REFERENCE_CODE.map((c) => describeSenceError(c).description);
    expect(new Set(descriptions).size).toBe(descriptions.length);
  });
});

describe('describeSenceError', () => {
  it('uses the manual meaning of 202 (UrlRetoma) and 203 (UrlError), not the swapped JR1/JR2 labels', () => {
    expect(describeSenceError('202').staffHint).toContain('UrlRetoma');
    expect(describeSenceError('202').staffHint).not.toContain('UrlError');
    expect(describeSenceError('203').staffHint).toContain('UrlError');
    expect(describeSenceError('203').staffHint).not.toContain('UrlRetoma');
  });

  it('marks exactly 301, 304, 305 and 310 as "session no longer exists" on close', () => {
    const gone = EVERY_REFERENCE_CODE.filter((c) => describeSenceError(c).sessionGone);
    expect(gone).toEqual(['301', '304', '305', '310']);
  });

  it('points the learner to ClaveÚnica for 312 and to their own account for 311', () => {
    expect(describeSenceError('312').solution).toContain('claveunica.gob.cl');
    expect(describeSenceError('311').solution).toMatch(/tu propia ClaveÚnica/);
  });

  it('tells staff where to renew a revoked token (212)', () => {
    expect(describeSenceError('212').staffHint).toContain('sistemas.sence.cl/rts');
  });

  it('asks the learner to tell the OTEC the number for configuration errors', () => {
    expect(describeSenceError('204').solution).toContain('204');
    expect(describeSenceError('204').solution).toMatch(/OTEC/);
  });

  it('trims the code', () => {
    expect(describeSenceError(' 208 ').code).toBe('208');
    expect(describeSenceError(' 208 ').known).toBe(true);
  });

  it('gives a friendly fallback for unknown codes that quotes the number', () => {
    const d = describeSenceError('999');
    expect(d).toMatchObject({ code: '999', known: false, sessionGone: false });
    expect(d.description).toContain('999');
    expect(d.solution).toContain('999');
    expect(d.staffHint).toContain('999');
  });

  it('does not treat inherited object keys as codes', () => {
    expect(describeSenceError('constructor').known).toBe(false);
    expect(describeSenceError('__proto__').known).toBe(false);
  });
});

describe('parseGlosaError', () => {
  it.each([
    ['211', ['211']],
    ['211;204', ['211', '204']],
    [' 211 ; 204 ;', ['211', '204']],
    [';;', []],
    ['', []],
    [null, []],
    [undefined, []],
  ])('%p → %p', (raw, codes) => {
    expect(parseGlosaError(raw)).toEqual(codes);
  });
});

describe('describeGlosaError', () => {
  it('describes every code of a multi-code GlosaError, in order', () => {
    const list = describeGlosaError('211;204');
    expect(list.map((d) => d.code)).toEqual(['211', '204']);
    expect(list.every((d) => d.known)).toBe(true);
  });

  it('mixes known and unknown codes', () => {
    expect(describeGlosaError('301;777').map((d) => d.known)).toEqual([true, false]);
  });

  it.each(['', '  ', null, undefined])('returns one fallback entry for empty %p', (raw) => {
    const list = describeGlosaError(raw);
    expect(list).toHaveLength(1);
    expect(list[0]).toMatchObject({ code: '', known: false, sessionGone: false });
    expect(list[0]).toMatchObject({
      description: 'SENCE informó un error, pero no indicó cuál.',
      solution: 'Vuelve a intentarlo en unos minutos. Si se repite, avísale a tu OTEC indicando la hora en que ocurrió.',
      staffHint: 'La respuesta de error de SENCE llegó sin GlosaError. Revise el registro de respuestas de la sesión.',
    });
  });
});
