import { formatAccredited, formatClock, formatPercent, formatSantiagoDateTime, learnerProgress, learnerProgressText, progressPercent } from '../../src/domain/time-format';

describe('formatAccredited: real plurals, exact to the second (issue #20 §9)', () => {
  it.each([
    [0, '0 minutos'],
    [1, '1 segundo'],
    [2, '2 segundos'],
    [56, '56 segundos'],
    [59, '59 segundos'],
    [60, '1 minuto'],
    [61, '1 minuto y 1 segundo'],
    [119, '1 minuto y 59 segundos'],
    [120, '2 minutos'],
    [121, '2 minutos y 1 segundo'],
    [3599, '59 minutos y 59 segundos'],
    [3600, '1 hora'],
    [3601, '1 hora y 1 segundo'],
    [3660, '1 hora y 1 minuto'],
    [3661, '1 hora, 1 minuto y 1 segundo'],
    [7199, '1 hora, 59 minutos y 59 segundos'],
    [7200, '2 horas'],
    [7201, '2 horas y 1 segundo'],
    [7320, '2 horas y 2 minutos'],
    [2 * 3600 + 50 * 60 + 59, '2 horas, 50 minutos y 59 segundos'],
    [40 * 3600 + 5 * 60, '40 horas y 5 minutos'],
    [-10, '0 minutos'],
    [Number.NaN, '0 minutos'],
    [59.9, '59 segundos'],
  ])('%p s → %s', (seconds, text) => {
    expect(formatAccredited(seconds)).toBe(text);
  });

  it('never says "hora(s)" or "minuto(s)"', () => {
    for (const s of [0, 59, 60, 61, 3600, 3661, 7322]) expect(formatAccredited(s)).not.toMatch(/\(s\)/);
  });

  it('a session and the change it makes to the total read alike: 65 s + 56 s = 121 s', () => {
    // The panel's "sumó …" and the total come from the same whole seconds (issue #20 §9).
    expect(formatAccredited(65)).toBe('1 minuto y 5 segundos');
    expect(formatAccredited(56)).toBe('56 segundos');
    expect(formatAccredited(65 + 56)).toBe('2 minutos y 1 segundo');
  });
});

describe('learnerProgress and formatPercent: a figure that moves (issue #20 §9)', () => {
  const H20 = 20 * 3600;
  it('one decimal under 10 %, floored (never more than earned)', () => {
    expect(learnerProgress(180, 20)).toBe(0.2); // 3 minutes of 20 hours: 0.25 %
    expect(learnerProgress(216, 20)).toBe(0.3);
    expect(learnerProgress(Math.round(H20 * 0.0995), 20)).toBe(9.9); // 9.95 %
    expect(learnerProgress(H20 / 10 - 1, 20)).toBe(9.9); // one second before 10 %
    expect(learnerProgress(H20 / 10, 20)).toBe(10); // exactly 10 %
    expect(learnerProgress(H20 / 10 + 1, 20)).toBe(10);
    expect(learnerProgress(Math.round(H20 * 0.1099), 20)).toBe(10); // whole percent from 10 % on
    expect(learnerProgress(H20 - 1, 20)).toBe(99);
    expect(learnerProgress(H20, 20)).toBe(100);
    expect(learnerProgress(H20 * 3, 20)).toBe(100);
  });

  it('is 0 with no time or no required hours', () => {
    expect(learnerProgress(0, 20)).toBe(0);
    expect(learnerProgress(3600, null)).toBe(0);
    expect(learnerProgress(3600, 0)).toBe(0);
    expect(learnerProgress(3600, Number.NaN)).toBe(0);
  });

  const NNBSP = '\u202f';
  it.each([
    [0, `0${NNBSP}%`],
    [0.2, `0,2${NNBSP}%`],
    [5, `5,0${NNBSP}%`],
    [9.9, `9,9${NNBSP}%`],
    [10, `10${NNBSP}%`],
    [100, `100${NNBSP}%`],
  ])('formatPercent(%p) → %s (Chilean: comma, narrow no-break space)', (value, text) => {
    expect(formatPercent(value)).toBe(text);
  });

  it('says "menos de 0,1 %" for time that does not reach a tenth (it still moved)', () => {
    expect(learnerProgressText(56, 20)).toBe(`menos de 0,1${NNBSP}%`);
    expect(learnerProgressText(0, 20)).toBe(`0${NNBSP}%`);
    expect(learnerProgressText(180, 20)).toBe(`0,2${NNBSP}%`);
    expect(learnerProgressText(Math.round(H20 * 0.0995), 20)).toBe(`9,9${NNBSP}%`);
    expect(learnerProgressText(H20 / 10, 20)).toBe(`10${NNBSP}%`);
  });
});

describe('progressPercent', () => {
  it('is 0 without required hours', () => {
    expect(progressPercent(3600, null)).toBe(0);
    expect(progressPercent(3600, 0)).toBe(0);
    expect(progressPercent(3600, -1)).toBe(0);
    // Never "NaN %" or a full bar from a broken figure.
    expect(progressPercent(3600, Number.NaN)).toBe(0);
    expect(progressPercent(3600, 0.0001)).toBe(0); // rounds to 0 required seconds
  });

  it('floors to a whole percent', () => {
    expect(progressPercent(0, 10)).toBe(0);
    expect(progressPercent(3599, 1)).toBe(99);
    expect(progressPercent(3600, 1)).toBe(100);
    expect(progressPercent(1800, 40)).toBe(1);
    expect(progressPercent(1799, 60)).toBe(0);
  });

  it('accepts decimal hours', () => {
    expect(progressPercent(2700, 1.5)).toBe(50);
    expect(progressPercent(5400, 1.5)).toBe(100);
  });

  it('never goes over 100', () => {
    expect(progressPercent(100 * 3600, 2)).toBe(100);
  });

  it('returns integers', () => {
    expect(Number.isInteger(progressPercent(1234, 3.3))).toBe(true);
  });
});

describe('formatClock', () => {
  it.each([
    [0, '0:00:00'],
    [2, '0:00:02'],
    [61, '0:01:01'],
    [2 * 3600 + 49 * 60 + 59, '2:49:59'],
    [3 * 3600, '3:00:00'],
    [12 * 3600 + 1, '12:00:01'],
    [-5, '0:00:00'],
  ])('%p s → %s', (seconds, text) => {
    expect(formatClock(seconds)).toBe(text);
  });
});

describe('formatSantiagoDateTime', () => {
  it('uses Chilean summer time (UTC−3) in November', () => {
    expect(formatSantiagoDateTime(new Date('2026-11-22T17:05:00Z'))).toBe('22-11-2026 14:05');
  });

  it('uses Chilean winter time (UTC−4) in July', () => {
    expect(formatSantiagoDateTime(new Date('2026-07-01T12:30:00Z'))).toBe('01-07-2026 08:30');
  });

  it('uses a 24-hour clock and pads day, month, hour and minute', () => {
    expect(formatSantiagoDateTime(new Date('2026-01-05T03:07:00Z'))).toBe('05-01-2026 00:07');
  });
});
