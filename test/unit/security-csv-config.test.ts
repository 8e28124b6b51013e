/** Issue #7, finding 8: CSV formula neutralisation and the production PUBLIC_URL rule. */
import { csvCell } from '../../src/web/csv';
import { loadConfig } from '../../src/config';
import { AppError } from '../../src/errors';

describe('csvCell', () => {
  it.each([
    ['=1+1', `"'=1+1"`],
    ['  =HYPERLINK("http://x")', `"'  =HYPERLINK(""http://x"")"`],
    ['\n=cmd', `"'\n=cmd"`],
    [' \r\n @SUM(A1)', `"' \r\n @SUM(A1)"`],
    ['\t-2', `"'\t-2"`],
    ['+56 9 1234', `"'+56 9 1234"`],
    ['\u00a0=1', `"'\u00a0=1"`],
    ['＝1', `"'＝1"`],
  ])('neutralises %j', (value, expected) => {
    expect(csvCell(value)).toBe(expected);
  });

  it.each([['Ana Pérez'], ['12345678-5'], ['a=b'], [''], ['2025-03-04T12:00:00.000Z']])('leaves %j as text, quoted', (value) => {
    expect(csvCell(value)).toBe(`"${value}"`);
  });
});

describe('PUBLIC_URL in production', () => {
  const prod = { NODE_ENV: 'production', LTI_KEY: 'a-long-random-secret-for-ltijs', TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32) };
  it('refuses a non-HTTPS public address, naming the variable', () => {
    let error: unknown;
    try {
      loadConfig({ ...prod, PUBLIC_URL: 'http://asistencia.otec.cl' });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AppError);
    expect((error as AppError).message).toContain('PUBLIC_URL must use https when NODE_ENV=production');
  });

  it.each([['http://localhost:3000'], ['http://127.0.0.1:8080']])('accepts %s with a warning', (url) => {
    const c = loadConfig({ ...prod, PUBLIC_URL: url });
    expect(c.devDefaults).toContain('PUBLIC_URL sin HTTPS (solo localhost)');
  });

  it('accepts https silently', () => {
    expect(loadConfig({ ...prod, PUBLIC_URL: 'https://asistencia.otec.cl' }).devDefaults).toEqual([]);
  });
});
