/**
 * Entry point of `npm start`. The primary process loads and checks the configuration, runs the demo
 * simulators (demo mode) and keeps WEB_CONCURRENCY worker processes serving the tool, replacing one
 * that dies (src/cluster/primary.ts); each worker runs the tool itself (src/cluster/worker.ts).
 * SIGTERM/SIGINT stop everything cleanly. Tests and benchmarks start the tool in-process with
 * startSystem (src/system.ts) instead.
 */
import cluster from 'node:cluster';
import { isAppError } from './errors';
import { runPrimary } from './cluster/primary';
import { runWorker } from './cluster/worker';

(cluster.isPrimary ? runPrimary() : runWorker()).catch((err: unknown) => {
  if (isAppError(err)) console.error(`No se pudo iniciar: ${err.message}`);
  else console.error('No se pudo iniciar:', err);
  process.exit(1);
});
