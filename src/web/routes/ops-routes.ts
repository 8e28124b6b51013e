/**
 * Probes for orchestrators and proxies. GET /healthz: the process is alive and serving (200, no
 * store access). GET /readyz: the store answers and accepts writes, and on MongoDB ltijs's own
 * connection is up (200), else 503; the body names which check failed, never a URI or a secret.
 * The old GET /health stays as an alias of /healthz.
 */
import { Router } from 'express';
import type { Stores } from '../../store/ports';

/** ltijs's MongoDB connection (mongoose 7's default connection); null on SQLite (the plugin shares our file). */
export type LtijsConnectionState = () => number | null;

/** The probes' paths (the host app sends only these to the router below). */
export const OPS_PATHS = ['/healthz', '/health', '/readyz'];

/** How long /readyz waits for the store before it answers 503. */
export const READY_TIMEOUT_MS = 3000;

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function opsRoutes(deps: { stores: Stores; storeKind: 'sqlite' | 'mongo'; ltijsConnection: LtijsConnectionState; isStopping?: () => boolean }): Router {
  const router = Router();
  const alive = (_req: unknown, res: import('express').Response) => {
    res.set('Cache-Control', 'no-store').json({ ok: true });
  };
  router.get('/healthz', alive);
  router.get('/health', alive);

  router.get('/readyz', async (_req, res) => {
    res.set('Cache-Control', 'no-store');
    const checks: Record<string, string> = {};
    if (deps.isStopping?.()) checks.shutdown = 'cerrando: no recibe solicitudes nuevas';
    try {
      await withTimeout(deps.stores.checkReady(), READY_TIMEOUT_MS);
      checks.store = 'ok';
    } catch (error) {
      checks.store = `no disponible: ${error instanceof Error ? error.message.replace(/mongodb(\+srv)?:\/\/\S+/g, '[uri]') : 'error'}`;
    }
    const ltijsState = deps.ltijsConnection();
    if (ltijsState !== null) checks.ltijs = ltijsState === 1 ? 'ok' : 'no disponible: sin conexión a MongoDB';
    const ready = Object.entries(checks).every(([name, value]) => name !== 'shutdown' && value === 'ok');
    res.status(ready ? 200 : 503).json({ ok: ready, store: deps.storeKind, checks });
  });
  return router;
}
