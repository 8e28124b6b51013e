/** Issue #19 §1: the settings of `npm start`'s supervision (src/cluster/) and FAULT_INJECTION, at and past each limit. */
import { loadConfig } from '../../src/config';
import { backoffMs, MAX_FAILED_STARTS } from '../../src/cluster/primary';
import { webConcurrency } from '../../src/cluster/settings';

describe('WEB_CONCURRENCY', () => {
  it('defaults to 2 worker processes', () => {
    expect(webConcurrency(undefined)).toBe(2);
    expect(webConcurrency('  ')).toBe(2);
  });
  it('accepts whole numbers from 1 to 16', () => {
    expect(webConcurrency('1')).toBe(1);
    expect(webConcurrency('16')).toBe(16);
  });
  it.each(['0', '17', '2.5', 'two', '-1', '1e1'])('refuses %s with a message naming the variable and its bounds', (raw) => {
    expect(() => webConcurrency(raw)).toThrow(`WEB_CONCURRENCY must be a whole number between 1 and 16 (worker processes), got "${raw}"`);
  });
});

describe('FAULT_INJECTION (tests only)', () => {
  it('is off by default and "crash" turns the fault route on, announced as a development setting', () => {
    expect(loadConfig({}).faultInjection).toBeNull();
    const c = loadConfig({ FAULT_INJECTION: 'crash' });
    expect(c.faultInjection).toBe('crash');
    expect(c.devDefaults).toContain('FAULT_INJECTION');
  });
  it('refuses any other value', () => {
    expect(() => loadConfig({ FAULT_INJECTION: 'exit' })).toThrow('FAULT_INJECTION must be empty or "crash", got "exit"');
  });
  it('is refused when NODE_ENV=production', () => {
    const prod = { NODE_ENV: 'production', PUBLIC_URL: 'https://asistencia.otec.cl', LTI_KEY: 'a-long-random-secret-for-ltijs', TOKEN_ENCRYPTION_KEY: 'ab'.repeat(32) };
    expect(loadConfig(prod).faultInjection).toBeNull();
    expect(() => loadConfig({ ...prod, FAULT_INJECTION: 'crash' })).toThrow('FAULT_INJECTION cannot be set when NODE_ENV=production (it is for tests)');
  });
});

describe('start-up back-off of the supervisor', () => {
  it('forks again at once after an unexpected exit, then waits 0.5 s doubling up to 30 s while starts fail', () => {
    expect(backoffMs(0)).toBe(0);
    expect([1, 2, 3, 4, 5].map(backoffMs)).toEqual([500, 1000, 2000, 4000, 8000]);
    expect(backoffMs(7)).toBe(30_000);
    expect(backoffMs(50)).toBe(30_000);
    expect(MAX_FAILED_STARTS).toBe(5);
  });
});
