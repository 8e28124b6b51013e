/** series(): middleware run in order as one, with a Router's meaning of next() (src/web/series.ts). */
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { pathIs, series } from '../../src/web/series';

const req = (path = '/') => ({ path }) as unknown as Request;
const res = {} as Response;

function run(handler: RequestHandler, r = req()): Promise<unknown[]> {
  return new Promise((resolve) => handler(r, res, ((...args: unknown[]) => resolve(args)) as NextFunction));
}

describe('series', () => {
  it('runs every step in order, then goes on', async () => {
    const seen: string[] = [];
    const step = (name: string): RequestHandler => (_q, _s, next) => {
      seen.push(name);
      next();
    };
    expect(await run(series(step('a'), step('b'), step('c')))).toEqual([]);
    expect(seen).toEqual(['a', 'b', 'c']);
  });

  it("next(null) and next('route') go on like next()", async () => {
    const seen: string[] = [];
    const h = series(
      (_q, _s, next) => next(null),
      (_q, _s, next) => next('route'),
      (_q, _s, next) => {
        seen.push('last');
        next();
      },
    );
    expect(await run(h)).toEqual([]);
    expect(seen).toEqual(['last']);
  });

  it("an error or 'router' leaves at once, later steps do not run", async () => {
    const later = jest.fn();
    const boom = new Error('boom');
    expect(await run(series((_q, _s, next) => next(boom), later))).toEqual([boom]);
    expect(await run(series((_q, _s, next) => next('router'), later))).toEqual(['router']);
    expect(later).not.toHaveBeenCalled();
  });

  it('a step that throws, or an async step that rejects, passes its error on', async () => {
    const thrown = new Error('thrown');
    const rejected = new Error('rejected');
    expect(await run(series(() => { throw thrown; }))).toEqual([thrown]);
    expect(await run(series(async () => { throw rejected; }))).toEqual([rejected]);
  });

  it('a step may answer without calling next (nothing after it runs)', async () => {
    const later = jest.fn();
    const out = jest.fn();
    series((_q, _s, _next) => undefined, later)(req(), res, out);
    await new Promise((r) => setImmediate(r));
    expect(later).not.toHaveBeenCalled();
    expect(out).not.toHaveBeenCalled();
  });

  it('a step that rejects without a reason still passes an error on', async () => {
    const [err] = await run(series(() => Promise.reject(undefined)));
    expect((err as Error).message).toBe('rejected without a reason');
  });

  it('no steps: goes on', async () => {
    expect(await run(series())).toEqual([]);
  });
});

describe('pathIs (a Router path match: case-insensitive, trailing slash allowed)', () => {
  it('the root path is itself', () => {
    expect(pathIs(req('/'), '/')).toBe(true);
  });

  it.each([
    ['/login', true],
    ['/login/', true],
    ['/LOGIN', true],
    ['/login/x', false],
    ['/logins', false],
    ['/', false],
  ])('%s → %s', (path, expected) => {
    expect(pathIs(req(path), '/login')).toBe(expected);
  });
});
