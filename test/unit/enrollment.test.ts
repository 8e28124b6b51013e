import { codigoCursoProblem, codSenceProblem, defaultAction, effectiveAction, settingsForLearner, type LearnerEnrollment } from '../../src/domain/enrollment';
import type { CourseSettings } from '../../src/domain/types';

const settings: CourseSettings = {
  otecId: 'otec-1',
  lineaCapacitacion: 3,
  codSence: '1237654321',
  codigoCurso: 'ACCION-BASE-01',
  requiredHours: 40,
  environment: 'production',
  sessionLimitMinutes: 180,
  warningMinutes: 10,
};
const course = { issuer: 'https://lms.example', clientId: 'c1', contextId: 'ctx1' };
const enrollment = (over: Partial<LearnerEnrollment> = {}): LearnerEnrollment => ({
  course,
  sub: 'ana',
  run: '12345678-5',
  action: { codigoCurso: 'ACCION-OTRA-02', codSence: '9876543210', lineaCapacitacion: 6 },
  exempt: false,
  updatedAt: new Date('2026-11-22T13:00:00Z'),
  ...over,
});

describe('which SENCE action a learner is sent with', () => {
  it('the learner\'s own action first', () => {
    expect(effectiveAction(settings, enrollment())).toEqual({ action: { codigoCurso: 'ACCION-OTRA-02', codSence: '9876543210', lineaCapacitacion: 6 }, source: 'learner' });
    expect(effectiveAction(null, enrollment())?.source).toBe('learner');
  });

  it('else the course default', () => {
    const expected = { action: { codigoCurso: 'ACCION-BASE-01', codSence: '1237654321', lineaCapacitacion: 3 }, source: 'course' };
    expect(effectiveAction(settings, null)).toEqual(expected);
    expect(effectiveAction(settings, enrollment({ action: null }))).toEqual(expected);
    expect(defaultAction(settings)).toEqual(expected.action);
  });

  it('none when the course is not configured and the learner has no action', () => {
    expect(effectiveAction(null, null)).toBeNull();
    expect(effectiveAction(null, enrollment({ action: null }))).toBeNull();
  });

  it('the start form carries the learner\'s action and keeps the rest of the course settings', () => {
    expect(settingsForLearner(settings, enrollment())).toEqual({ ...settings, codigoCurso: 'ACCION-OTRA-02', codSence: '9876543210', lineaCapacitacion: 6 });
    expect(settingsForLearner(settings, null)).toBe(settings);
    expect(settingsForLearner(settings, enrollment({ action: null }))).toBe(settings);
  });
});

describe('codigoCursoProblem: what staff read about an action code', () => {
  it('accepts 7 and 50 characters, refuses 6 and 51 (lines 1 and 3)', () => {
    for (const line of [1, 3] as const) {
      expect(codigoCursoProblem('A'.repeat(7), line, 'production')).toBeNull();
      expect(codigoCursoProblem('A'.repeat(50), line, 'production')).toBeNull();
      expect(codigoCursoProblem('A'.repeat(6), line, 'production')).toBe('el código debe tener entre 7 y 50 caracteres');
      expect(codigoCursoProblem('A'.repeat(51), line, 'production')).toBe('el código debe tener entre 7 y 50 caracteres');
    }
  });

  it('line 6 (FPT) accepts a short code, up to 50 characters', () => {
    expect(codigoCursoProblem('1', 6, 'production')).toBeNull();
    expect(codigoCursoProblem('A'.repeat(50), 6, 'production')).toBeNull();
    expect(codigoCursoProblem('A'.repeat(51), 6, 'production')).toBe('el código debe tener como máximo 50 caracteres');
  });

  it('needs a code', () => {
    expect(codigoCursoProblem('', 3, 'test')).toBe('falta el código de la acción (CodigoCurso)');
  });

  it('"-1" only in the test environment', () => {
    expect(codigoCursoProblem('-1', 3, 'test')).toBeNull();
    expect(codigoCursoProblem('-1', 3, 'production')).toBe('el código «-1» solo sirve en el ambiente de pruebas');
  });

  it('letters, digits, dashes, dots and slashes; starting with a letter or digit', () => {
    expect(codigoCursoProblem('RLAB-19-02.08/0071_1', 3, 'production')).toBeNull();
    expect(codigoCursoProblem('-ACCION01', 3, 'production')).toBe('el código solo puede tener letras, números, guiones, puntos y barras');
    expect(codigoCursoProblem('ACCION 01', 3, 'production')).toBe('el código solo puede tener letras, números, guiones, puntos y barras');
    expect(codigoCursoProblem('ACCIÓN-01', 3, 'production')).toBe('el código solo puede tener letras, números, guiones, puntos y barras');
  });

  it('says so when the code hides invisible characters', () => {
    expect(codigoCursoProblem('ACCION-01\t', 3, 'production')).toBe('el código tiene caracteres invisibles');
    expect(codigoCursoProblem('ACCION\u007f01', 3, 'production')).toBe('el código tiene caracteres invisibles');
  });
});

describe('codSenceProblem: what staff read about a SENCE code', () => {
  it('line 1 leaves it blank', () => {
    expect(codSenceProblem('', 1, 'production')).toBeNull();
    expect(codSenceProblem('1237654321', 1, 'production')).toBe('para la línea 1 el código SENCE debe quedar en blanco');
  });

  it('other lines: exactly 10 digits', () => {
    expect(codSenceProblem('1237654321', 3, 'production')).toBeNull();
    expect(codSenceProblem('123765432', 3, 'production')).toBe('el código SENCE debe tener 10 dígitos');
    expect(codSenceProblem('12376543210', 6, 'production')).toBe('el código SENCE debe tener 10 dígitos');
    expect(codSenceProblem('12376543a1', 3, 'production')).toBe('el código SENCE debe tener 10 dígitos');
    expect(codSenceProblem('', 3, 'production')).toBe('el código SENCE debe tener 10 dígitos');
  });

  it('"-1" only in the test environment', () => {
    expect(codSenceProblem('-1', 3, 'test')).toBeNull();
    expect(codSenceProblem('-1', 6, 'production')).toBe('el código SENCE «-1» solo sirve en el ambiente de pruebas');
  });
});
