/**
 * Issue #19 §6: the rate limiter's fixed windows expire in O(1) amortised (it swept its whole map
 * on every new key once it held 50,000: /healthz took 650 ms under a spread of addresses), and its
 * limits hold exactly: the limit allowed, one past refused, a new window at the reset.
 */
import type { NextFunction, Request, Response } from 'express';
import { FixedWindowCounter, rateLimits, RATE_WINDOW_MS } from '../../src/web/rate-limit';
import { AppError } from '../../src/errors';
import { MemoryLogger } from '../../src/web/logger';

describe('FixedWindowCounter', () => {
  it('counts hits per key within one window and starts a new one at its reset', () => {
    let t = 1_000_000;
    const c = new FixedWindowCounter(() => t);
    expect(c.hit('a')).toEqual({ count: 1, resetAt: t + RATE_WINDOW_MS });
    expect(c.hit('a').count).toBe(2);
    expect(c.hit('b').count).toBe(1);
    t += RATE_WINDOW_MS - 1; // one millisecond before the reset: same window
    expect(c.hit('a').count).toBe(3);
    t += 1; // at the reset: a new window
    expect(c.hit('a')).toEqual({ count: 1, resetAt: t + RATE_WINDOW_MS });
  });

  it('keeps a window that started late in one generation alive into the next (no early reset)', () => {
    let t = 0;
    const c = new FixedWindowCounter(() => t);
    c.hit('early'); // the first window of the counter starts here
    t = RATE_WINDOW_MS - 10;
    expect(c.hit('late').count).toBe(1); // its window lasts until 2 × RATE_WINDOW_MS - 10
    t = RATE_WINDOW_MS + 5; // the generations have turned
    expect(c.hit('late').count).toBe(2);
    expect(c.hit('early').count).toBe(1); // expired: a new window
    t = 2 * RATE_WINDOW_MS - 11;
    expect(c.hit('late').count).toBe(3);
    t = 2 * RATE_WINDOW_MS - 10;
    expect(c.hit('late').count).toBe(1);
  });

  it('after a long silence every window is new', () => {
    let t = 0;
    const c = new FixedWindowCounter(() => t);
    for (let i = 0; i < 5; i++) c.hit('k');
    t = 10 * RATE_WINDOW_MS;
    expect(c.hit('k').count).toBe(1);
    expect(c.size()).toBe(1);
  });

  it('200,000 distinct keys cost a bounded number of entry visits each (linear, not a sweep per key)', () => {
    let t = 0;
    const c = new FixedWindowCounter(() => t);
    const n = 200_000;
    for (let i = 0; i < n; i++) {
      c.hit(`address-${i}`);
      // Checked as it goes, so a quadratic counter fails fast instead of running for minutes.
      if (c.visited > 4 * (i + 1)) throw new Error(`after ${i + 1} keys, ${c.visited} entries visited`);
      if (i % 1000 === 0) t += 1; // time moves a little, never past one window
    }
    expect(c.visited).toBeLessThanOrEqual(4 * n);
    // Two windows later, with new keys arriving, the old ones are gone without any sweep over them.
    t += 2 * RATE_WINDOW_MS;
    for (let i = 0; i < 10; i++) c.hit(`new-${i}`);
    expect(c.size()).toBe(10);
    expect(c.visited).toBeLessThanOrEqual(4 * (n + 10));
  });
});

describe('rateLimits middleware at its limits', () => {
  const run = (mw: (req: Request, res: Response, next: NextFunction) => void, ip: string) => {
    const headers: Record<string, string> = {};
    const res = { setHeader: (k: string, v: string) => (headers[k] = v) } as unknown as Response;
    let passed: unknown = 'not-called';
    mw({ ip, path: '/login', baseUrl: '/lti', socket: {} } as unknown as Request, res, (err?: unknown) => (passed = err));
    return { error: passed as AppError | undefined, headers };
  };

  it('lets exactly the limit through, refuses one past it in Spanish with Retry-After, and resets with the window', () => {
    let t = 5_000_000;
    const logger = new MemoryLogger();
    const limits = rateLimits({ callbacksPerAddress: 1, callbacksPerAttempt: 1, loginsPerAddress: 3, registrationsPerAddress: 1 }, logger, () => t);
    for (let i = 1; i <= 3; i++) expect([i, run(limits.login, '203.0.113.1').error]).toEqual([i, undefined]);
    t += 20_000;
    const over = run(limits.login, '203.0.113.1');
    expect(over.error).toBeInstanceOf(AppError);
    expect(over.error?.status).toBe(429);
    expect(over.error?.message).toBe('Demasiadas solicitudes seguidas. Espera 40 segundos e inténtalo de nuevo.');
    expect(over.headers['Retry-After']).toBe('40');
    expect(logger.lines.filter((l) => l.message === 'rate limited')).toHaveLength(1);
    // Another address is counted on its own.
    expect(run(limits.login, '203.0.113.2').error).toBeUndefined();
    t += 40_000; // the window's reset
    expect(run(limits.login, '203.0.113.1').error).toBeUndefined();
  });
});
