/**
 * Middleware run one after the other as ONE middleware, without a Router: no path matching, no
 * prefix stripped and restored, no per-request closures of the router's dispatch. A panel view
 * crossed five nested Routers and 24 layers; each level allocated on every request, and those
 * allocations, promoted by the young-generation GC under 100 connections, were the panel's tail
 * latency (issue #8, bench/RESULTS.md). Semantics are a Router's for `use` without a path:
 * `next()` (or `next(null)`, `next('route')`) goes on to the next step; `next(err)` and
 * `next('router')` leave the series at once with that argument, so the Router the series is mounted
 * in sees them (an error, or "leave this router"); a step that throws or rejects passes the error on.
 */
import type { NextFunction, Request, RequestHandler, Response } from 'express';

export function series(...steps: RequestHandler[]): RequestHandler {
  return (req: Request, res: Response, out: NextFunction) => {
    let index = 0;
    const next = (arg?: unknown): void => {
      if (arg !== undefined && arg !== null && arg !== 'route') {
        out(arg);
        return;
      }
      const step = steps[index++];
      if (!step) {
        out();
        return;
      }
      try {
        const result = step(req, res, next) as unknown;
        if (result instanceof Promise) result.catch((err: unknown) => out(err ?? new Error('rejected without a reason')));
      } catch (err) {
        out(err);
      }
    };
    next();
  };
}

/** Whether a request's path (under its mount) is `path`, as a Router's `use(path)`/`all(path)` matches it: case-insensitive, trailing slash allowed. */
export function pathIs(req: Request, path: string): boolean {
  const p = req.path;
  const bare = p.length > 1 && p.endsWith('/') ? p.slice(0, -1) : p;
  return bare.toLowerCase() === path;
}
