/**
 * A worker of `npm start`'s cluster (src/cluster/primary.ts): the whole tool (startSystem) without
 * the demo simulators, which the primary runs once.
 *
 * An uncaught exception is logged at error level (with the request id when it happened inside a
 * request) and reported to the primary; the worker keeps serving until the primary says its
 * replacement listens, then stops like SIGTERM stops the tool (no new connections, requests in
 * flight finished, stores closed) and exits 0. Leaving only then keeps the cluster's listening
 * handle open: Node closes it when its last worker leaves. A worker already replaced that throws
 * again just goes on until it is told to stop.
 */
import { loadConfig } from '../config';
import { isAppError } from '../errors';
import type { RegisteredPlatform } from '../simulators/lms';
import { startSystem, type RunningSystem } from '../system';
import { consoleLogger } from '../web/logger';
import { DEMO_PLATFORM_ENV, isPrimaryMessage, type WorkerMessage } from './messages';
import { inspect } from 'node:util';

function send(message: WorkerMessage): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send || !process.connected) {
      resolve();
      return;
    }
    process.send(message, undefined, undefined, () => resolve());
  });
}

/** The text after "No se pudo iniciar: " (an operator's message for AppErrors, else the error as Node prints it). */
export function startupFailureText(err: unknown): string {
  return isAppError(err) ? err.message : inspect(err);
}

export async function runWorker(): Promise<void> {
  const logger = consoleLogger;
  let system: RunningSystem | null = null;
  let dying = false;
  let stopping = false;

  process.on('uncaughtException', (err: Error) => {
    logger.log('error', 'uncaught exception: this worker is replaced and then stops', {
      error: err?.message ?? String(err),
      stack: err?.stack,
      worker: process.pid,
      ...(dying ? { alreadyReplacing: true } : {}),
    });
    if (!system) {
      // Not serving yet: this is a failed start.
      void send({ type: 'startup-failed', message: startupFailureText(err) }).then(() => process.exit(1));
      return;
    }
    if (dying) return;
    dying = true;
    void send({ type: 'dying' });
  });
  // The primary coordinates stops: Ctrl-C's SIGINT reaches the whole process group, and the primary
  // stops every worker itself. A SIGTERM sent to this worker alone stops it (the primary forks another).
  process.on('SIGINT', () => undefined);

  let pendingStop: number | null = null;
  const stop = (graceMs: number) => {
    if (!system) {
      pendingStop = graceMs; // told to stop while starting: stop once started
      return;
    }
    if (stopping) return;
    stopping = true;
    system
      .shutdown(graceMs)
      .then(async ({ forced }) => {
        await send({ type: 'stopped', forced });
        process.exit(0);
      })
      .catch(async (err: unknown) => {
        logger.log('error', 'worker shutdown failed', { error: (err as Error)?.message ?? String(err) });
        await send({ type: 'stopped', forced: true, failed: (err as Error)?.message ?? String(err) });
        process.exit(1);
      });
  };
  process.on('message', (m: unknown) => {
    if (!isPrimaryMessage(m)) return;
    if (m.type === 'stop') stop(m.graceMs);
    else if (system && !stopping) {
      system.lti.refreshPlatformOrigins().then(
        () => send({ type: 'platforms-refreshed' }),
        (err: unknown) => logger.log('error', 'reading the active platforms failed', { error: (err as Error)?.message ?? String(err) }),
      );
    }
  });
  process.on('SIGTERM', () => stop(10_000));
  // The primary is gone (killed): nobody supervises this worker any more; stop cleanly.
  process.on('disconnect', () => stop(10_000));

  try {
    const config = loadConfig(process.env);
    const platformJson = process.env[DEMO_PLATFORM_ENV];
    const demoPlatform = platformJson ? (JSON.parse(platformJson) as RegisteredPlatform) : undefined;
    system = await startSystem(config, { logger, simulators: false, demoPlatform });
  } catch (err) {
    await send({ type: 'startup-failed', message: startupFailureText(err) });
    process.exit(1);
  }
  await send({ type: 'ready', storeKind: system.storeKind });
  if (pendingStop !== null) stop(pendingStop);
}
