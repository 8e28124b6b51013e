/**
 * Issue #19 §1: a throw inside a callback handed to a body parser (or multer, or a stream event) is
 * not caught by Express and stopped the process. Such callbacks run through `guarded`: the throw
 * becomes the request's error (the one error handler answers it), logged with the request id.
 */
import type { AddressInfo } from 'node:net';
import express, { type NextFunction, type Request } from 'express';
import { guarded } from '../../src/web/guarded-callback';
import { ltiRequestShape } from '../../src/web/request-shape';
import { errorMiddleware } from '../../src/web/error-handler';
import { MemoryLogger, requestContext } from '../../src/web/logger';

describe('guarded', () => {
  it('passes a throw to next, once', () => {
    const next = jest.fn();
    const boom = new Error('boom');
    guarded(next as unknown as NextFunction, () => {
      throw boom;
    });
    expect(next.mock.calls).toEqual([[boom]]);
  });

  it('passes the callback’s own next on, once even if it is called twice', () => {
    const next = jest.fn();
    guarded(next as unknown as NextFunction, (pass) => {
      pass();
      pass(new Error('late'));
    });
    expect(next.mock.calls).toEqual([[undefined]]);
  });

  it('a throw after the request was passed on is reported (a process warning by default), never a second answer nor a crash', () => {
    const next = jest.fn();
    const late: unknown[] = [];
    guarded(
      next as unknown as NextFunction,
      (pass) => {
        pass();
        throw new Error('after');
      },
      (err) => late.push((err as Error).message),
    );
    expect(next.mock.calls).toEqual([[undefined]]);
    expect(late).toEqual(['after']);
  });
});

describe('the request-shape check run from the body parser’s callback', () => {
  it('throws → the request gets the error page (500, JSON here), logged with its request id; the process goes on', async () => {
    const logger = new MemoryLogger();
    const app = express();
    app.use(requestContext(logger));
    // The check (run from body-parser's callback) asks req.is() again: make that second call throw,
    // as any unforeseen bug in the check would.
    app.use((req: Request, _res, next) => {
      const original = req.is.bind(req);
      let calls = 0;
      (req as unknown as { is: typeof req.is }).is = ((...args: Parameters<typeof req.is>) => {
        calls += 1;
        if (calls > 1) throw new TypeError('a bug in the check');
        return original(...args);
      }) as typeof req.is;
      next();
    });
    app.use('/lti', ltiRequestShape());
    app.use('/lti', (_req, res) => {
      res.json({ reached: true });
    });
    app.use(errorMiddleware(logger));
    const server = app.listen(0, '127.0.0.1');
    await new Promise((r) => server.once('listening', r));
    const uncaught: unknown[] = [];
    const onUncaught = (err: unknown) => uncaught.push(err);
    // Jest's own handler would fail the test too; this records what happened for the assertion.
    process.prependListener('uncaughtException', onUncaught);
    try {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const res = await fetch(`${url}/lti/api/status`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-request-id': 'req-guarded-0001' }, body: '{"a":"1"}', signal: AbortSignal.timeout(10_000) });
      expect(res.status).toBe(500);
      expect(await res.json()).toEqual({ error: { code: 'internal', message: 'Ocurrió un error inesperado. Intenta nuevamente en unos minutos.' } });
      const failed = logger.lines.find((l) => l.message === 'request failed');
      expect(failed).toMatchObject({ level: 'error', fields: { reqId: 'req-guarded-0001', status: 500, cause: 'a bug in the check' } });
      const again = await fetch(`${url}/lti/api/status`, { method: 'GET' });
      expect(again.status).toBe(200);
      expect(uncaught).toEqual([]);
    } finally {
      process.off('uncaughtException', onUncaught);
      await new Promise((r) => server.close(r));
    }
  });
});
