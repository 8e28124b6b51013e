/**
 * Group commit for the SQLite store (issue #8: the SENCE callback at the 9:00 peak).
 *
 * A write unit handed to `run()` is not executed at once: every unit queued during one turn of the
 * event loop runs, in the order queued, inside ONE write transaction at the end of that turn
 * (setImmediate), each unit in its own savepoint. The caller's promise settles only after that
 * transaction committed, so an answer sent after `await run(...)` is as durable as before.
 *
 * Why: most of a callback's write cost is per commit and per page (every commit appends each page
 * it touched to the WAL; the audit table and its indexes, the sessions' state index and the
 * answers' table share their last pages between callbacks). Forty callbacks in one commit write
 * those shared pages once instead of forty times.
 *
 * What stays true:
 * - A unit is atomic: it runs in a savepoint; if it throws, its writes are rolled back and only its
 *   caller gets the error; the other units of the batch are unaffected.
 * - Nothing is half-written: if the COMMIT itself fails (disk full, read-only file, I/O error), the
 *   whole transaction is rolled back and every caller of the batch gets that error (a 503).
 * - No reader sees uncommitted data: the transaction is opened, filled and committed in one
 *   synchronous stretch of JavaScript, so no request runs in between; other processes on the same
 *   file wait on the write lock as for any write (busy_timeout).
 * - A unit runs after the turn it was queued in: it must re-check what it relies on inside itself
 *   (the callback's unit does: attempt unused, session version), as every write here already did.
 */
import type { Transaction } from 'better-sqlite3';
import type { Database } from './open-sqlite';

/** At most this many units in one transaction (a bound on the time the write lock is held). */
export const MAX_UNITS_PER_COMMIT = 256;

interface Pending {
  unit: () => unknown;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

interface Settled {
  pending: Pending;
  ok: boolean;
  value: unknown;
}

export class GroupCommit {
  private queue: Pending[] = [];
  private scheduled = false;
  private readonly inSavepoint: (unit: () => unknown) => unknown;
  private readonly commitBatch: Transaction<(batch: Pending[]) => Settled[]>;

  constructor(db: Database) {
    // better-sqlite3: a transaction function called inside another transaction is a savepoint.
    this.inSavepoint = db.transaction((unit: () => unknown) => unit());
    this.commitBatch = db.transaction((batch: Pending[]): Settled[] => {
      const settled: Settled[] = [];
      for (const pending of batch) {
        try {
          settled.push({ pending, ok: true, value: this.inSavepoint(pending.unit) });
        } catch (error) {
          // Some errors (disk full, I/O) make SQLite roll back the whole transaction, not only the
          // savepoint: then nothing of the batch is kept, and the next units must not run outside it.
          if (!db.inTransaction) throw error;
          settled.push({ pending, ok: false, value: error });
        }
      }
      return settled;
    });
  }

  /** Runs `unit` in the next group transaction; settles after it committed (or failed). */
  run<T>(unit: () => T): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ unit, resolve: resolve as (value: unknown) => void, reject });
      if (!this.scheduled) {
        this.scheduled = true;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Commits whatever is queued now (also called before the database is closed). */
  flush(): void {
    this.scheduled = false;
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, MAX_UNITS_PER_COMMIT);
      let settled: Settled[];
      try {
        settled = this.commitBatch.immediate(batch);
      } catch (error) {
        // BEGIN or COMMIT failed: nothing of this batch was written.
        for (const pending of batch) pending.reject(error);
        continue;
      }
      for (const s of settled) {
        if (s.ok) s.pending.resolve(s.value);
        else s.pending.reject(s.value);
      }
    }
  }
}

/**
 * One group commit per database connection, shared by every store on it (the tool's stores and
 * ltijs's plugin): the writes of one moment — a launch's login state, nonce, id token, context
 * token, learner and course, a callback's unit, audit entries — go into one commit. Separate
 * instances on one connection would still be correct (each commits in one synchronous stretch),
 * only in more commits.
 */
const perDatabase = new WeakMap<Database, GroupCommit>();

export function groupCommitFor(db: Database): GroupCommit {
  let commits = perDatabase.get(db);
  if (!commits) {
    commits = new GroupCommit(db);
    perDatabase.set(db, commits);
  }
  return commits;
}
