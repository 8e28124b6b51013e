import { formatAccredited, formatClock, formatSantiagoDateTime, progressPercent } from '../../src/domain/time-format';

describe('formatAccredited', () => {
  it.each([
    [0, '0 hora(s) y 0 minuto(s)'],
    [59, '0 hora(s) y 0 minuto(s)'],
    [60, '0 hora(s) y 1 minuto(s)'],
    [3599, '0 hora(s) y 59 minuto(s)'],
    [3600, '1 hora(s) y 0 minuto(s)'],
    [2 * 3600 + 50 * 60 + 59, '2 hora(s) y 50 minuto(s)'],
    [40 * 3600 + 5 * 60, '40 hora(s) y 5 minuto(s)'],
    [-10, '0 hora(s) y 0 minuto(s)'],
    [Number.NaN, '0 hora(s) y 0 minuto(s)'],
  ])('%p s → %s', (seconds, text) => {
    expect(formatAccredited(seconds)).toBe(text);
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
