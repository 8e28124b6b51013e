/**
 * The periodic clean-up: expired login states, ltijs's expiring records (its own SQLite tables, or
 * its MongoDB collections on servers without TTL indexes), audit entries past AUDIT_RETENTION_DAYS
 * (issue #19) and attendance expiry. Every deletion runs
 * in batches of SWEEP_BATCH rows with a turn of the event loop between batches, so a backlog (say
 * after a week without sweeps) never holds requests up; one sweep never overlaps the next.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Logger } from './web/logger';

export const SWEEP_INTERVAL_MS = 60_000;
export const SWEEP_BATCH = 500;
/** At most this many batches per task and sweep; the rest waits for the next sweep. */
export const SWEEP_MAX_BATCHES = 200;

/** One kind of expired record: deletes at most `batch` of them, returns how many it deleted. */
export type SweepTask = (now: Date, batch: number) => Promise<number>;

export interface SweepResult {
  removed: Record<string, number>;
  failed: Record<string, string>;
}

/** Runs each task batch by batch until a batch comes back short (or SWEEP_MAX_BATCHES). */
export async function sweepOnce(tasks: Record<string, SweepTask>, now: Date, batch = SWEEP_BATCH): Promise<SweepResult> {
  const result: SweepResult = { removed: {}, failed: {} };
  for (const [name, task] of Object.entries(tasks)) {
    let removed = 0;
    try {
      for (let round = 0; round < SWEEP_MAX_BATCHES; round += 1) {
        const n = await task(now, batch);
        removed += n;
        await nextTurn(); // let waiting requests run between batches
        if (n < batch) break;
      }
    } catch (error) {
      result.failed[name] = error instanceof Error ? error.message : String(error);
    }
    result.removed[name] = removed;
  }
  return result;
}

export interface Sweeper {
  /** Runs a sweep now (waits for the running one instead when a sweep is under way). */
  runNow(): Promise<SweepResult>;
  /** No more sweeps; resolves when the one under way (if any) has finished. */
  stop(): Promise<void>;
}

export function startSweeper(options: {
  tasks: Record<string, SweepTask>;
  now: () => Date;
  logger: Logger;
  intervalMs?: number;
}): Sweeper {
  let running: Promise<SweepResult> | null = null;
  const runNow = (): Promise<SweepResult> => {
    if (running) return running;
    running = sweepOnce(options.tasks, options.now())
      .then((result) => {
        for (const [task, message] of Object.entries(result.failed)) {
          options.logger.log('error', 'sweep failed', { task, error: message });
        }
        return result;
      })
      .finally(() => {
        running = null;
      });
    return running;
  };
  const timer = setInterval(() => {
    void runNow();
  }, options.intervalMs ?? SWEEP_INTERVAL_MS);
  timer.unref();
  return {
    runNow,
    async stop() {
      clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
