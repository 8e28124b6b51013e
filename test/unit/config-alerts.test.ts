/** SMTP_URL, ALERT_FROM, ALERT_DIGEST_HOUR (issue #9): off when SMTP_URL is unset; errors name the variable. */
import { loadConfig } from '../../src/config';
import { AppError } from '../../src/errors';

const base = { NODE_ENV: 'test' };
const messageOf = (env: Record<string, string>): string => {
  try {
    loadConfig(env);
  } catch (e) {
    return (e as AppError).message;
  }
  throw new Error('expected loadConfig to throw');
};

describe('alert e-mail configuration', () => {
  it('is off when SMTP_URL is unset or blank', () => {
    expect(loadConfig(base).alertMail).toBeNull();
    expect(loadConfig({ ...base, SMTP_URL: '  ', ALERT_FROM: 'x@y.cl' }).alertMail).toBeNull();
  });

  it('reads SMTP_URL, ALERT_FROM and the digest hour (default 8; 0 and 23 accepted, 24 refused)', () => {
    expect(loadConfig({ ...base, SMTP_URL: 'smtps://u:p@smtp.otec.cl:465', ALERT_FROM: 'Asistencia SENCE <alertas@otec.cl>' }).alertMail).toEqual({ smtpUrl: 'smtps://u:p@smtp.otec.cl:465', from: 'Asistencia SENCE <alertas@otec.cl>', digestHour: 8 });
    const env = { ...base, SMTP_URL: 'smtp://127.0.0.1:2525', ALERT_FROM: 'alertas@otec.cl' };
    expect(loadConfig({ ...env, ALERT_DIGEST_HOUR: '0' }).alertMail?.digestHour).toBe(0);
    expect(loadConfig({ ...env, ALERT_DIGEST_HOUR: '23' }).alertMail?.digestHour).toBe(23);
    expect(messageOf({ ...env, ALERT_DIGEST_HOUR: '24' })).toBe('ALERT_DIGEST_HOUR must be between 0 and 23, got 24');
  });

  it('names the variable that is wrong', () => {
    expect(messageOf({ ...base, SMTP_URL: 'http://smtp.otec.cl' })).toMatch(/^SMTP_URL must be an smtp:\/\/ or smtps:\/\/ URL/);
    expect(messageOf({ ...base, SMTP_URL: 'smtp://smtp.otec.cl' })).toMatch(/^ALERT_FROM is required when SMTP_URL is set/);
    expect(messageOf({ ...base, SMTP_URL: 'smtp://smtp.otec.cl', ALERT_FROM: 'alertas' })).toMatch(/^ALERT_FROM must be an e-mail address/);
  });
});
