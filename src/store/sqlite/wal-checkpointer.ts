/**
 * WAL checkpoints off the request path (issue #8). With `synchronous = NORMAL` a WAL commit does not
 * wait for the disk, but every checkpoint does, twice (the WAL, then the database file). SQLite runs
 * them inside the commit that crosses `wal_autocheckpoint` (1,000 pages): on the event loop, in the
 * middle of some learner's request, about ten times a second under the callbacks of a 9:00 peak —
 * a third of a callback's cost in the benchmark. Here a worker thread with its own connection to
 * the same file runs a PASSIVE checkpoint (it never blocks readers or writers) every
 * `intervalMs`, so the disk waits happen on that thread. The request connection's own
 * autocheckpoint is raised to a safety valve (`SAFETY_AUTOCHECKPOINT_PAGES`) that only acts if the
 * worker falls behind or stops; a worker that fails puts the default back. Every instance of the
 * tool on one file runs its own; SQLite serialises checkpoints, and a busy one is simply skipped.
 */
import { Worker } from 'node:worker_threads';
import type { Database } from './open-sqlite';

/** The request connection's autocheckpoint while the worker runs (pages of 4 KiB: ~40 MiB of WAL). */
export const SAFETY_AUTOCHECKPOINT_PAGES = 10_000;
/** SQLite's default, put back when the worker is gone. */
export const DEFAULT_AUTOCHECKPOINT_PAGES = 1000;
/** After a checkpoint, the WAL file is truncated down to this size (bytes). */
const JOURNAL_SIZE_LIMIT = 64 * 1024 * 1024;

export interface WalCheckpointer {
  /** Checkpoints done by the worker so far (tests, diagnostics). */
  readonly checkpoints: () => number;
  /** A last checkpoint, then the worker and its connection are closed. */
  close(): Promise<void>;
}

const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = 0');
let done = 0;
const checkpoint = () => {
  try {
    const [row] = db.pragma('wal_checkpoint(PASSIVE)');
    if (row && row.busy === 0) done += 1;
  } catch (error) {
    // Busy or not writable right now (the file made read-only, the disk full): next time.
  }
  parentPort.postMessage({ type: 'checkpoints', done });
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', (m) => {
  if (m !== 'stop') return;
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.postMessage({ type: 'stopped', done });
});
`;

export function startWalCheckpointer(db: Database, file: string, options: { intervalMs?: number; onError?: (error: Error) => void } = {}): WalCheckpointer {
  const intervalMs = options.intervalMs ?? 200;
  let done = 0;
  let stopped = false;
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    workerData: { module: require.resolve('better-sqlite3'), file, intervalMs },
  });
  // Never keeps the process alive (start-up failures, tests that forget to close).
  worker.unref();
  db.pragma(`wal_autocheckpoint = ${SAFETY_AUTOCHECKPOINT_PAGES}`);
  db.pragma(`journal_size_limit = ${JOURNAL_SIZE_LIMIT}`);
  const fallBack = () => {
    if (db.open) db.pragma(`wal_autocheckpoint = ${DEFAULT_AUTOCHECKPOINT_PAGES}`);
  };
  worker.on('message', (m: { type: string; done: number }) => {
    done = m.done;
  });
  worker.on('error', (error) => {
    fallBack();
    options.onError?.(error);
  });
  worker.on('exit', () => {
    if (!stopped) fallBack();
  });
  return {
    checkpoints: () => done,
    async close() {
      if (stopped) return;
      stopped = true;
      const finished = new Promise<void>((resolve) => {
        worker.on('message', (m: { type: string }) => m.type === 'stopped' && resolve());
        worker.once('exit', () => resolve());
      });
      worker.postMessage('stop');
      const timer = setTimeout(() => void worker.terminate(), 5000);
      await finished;
      clearTimeout(timer);
      await worker.terminate();
      fallBack();
    },
  };
}
