/**
 * Chooses and opens the store: MongoDB when MONGODB_URI is set, else the embedded SQLite file.
 * Returns the raw better-sqlite3 Database too, so the ltijs plugin can share the same file.
 */
import type { Connection } from 'mongoose';
import { SqliteRosterStore } from './sqlite/sqlite-roster-store';
import { SqliteEnrollmentStore } from './sqlite/sqlite-enrollment-store';
import { SqliteDigestStore } from './sqlite/sqlite-digest-store';
import type { Stores } from './ports';
import { isInMemory, openSqliteDatabase, type Database } from './sqlite/open-sqlite';
import { startWalCheckpointer } from './sqlite/wal-checkpointer';
import { SqliteAttendanceStore } from './sqlite/sqlite-attendance-store';
import { groupCommitFor } from './sqlite/group-commit';
import { SqliteAuditLog } from './sqlite/sqlite-audit-log';
import { SqliteCourseStore } from './sqlite/sqlite-course-store';
import { SqliteLearnerStore } from './sqlite/sqlite-learner-store';
import { SqliteLoginStateStore } from './sqlite/sqlite-login-state-store';
import { SqlitePendingLaunchStore } from './sqlite/sqlite-pending-launch-store';
import { SqliteOtecStore } from './sqlite/sqlite-otec-store';
import { SqliteInviteStore } from './sqlite/sqlite-invite-store';

export interface OpenedStores {
  stores: Stores;
  kind: 'sqlite' | 'mongo';
  /** The SQLite database (shared with ltijs) when kind is 'sqlite'; null for MongoDB. */
  sqlite: Database | null;
  /** Our mongoose connection when kind is 'mongo' (the sweep of ltijs's collections uses it). */
  mongo: Connection | null;
}

/**
 * Stores over an open, migrated SQLite database. close() closes the database (after `beforeClose`:
 * the WAL checkpointer of a served file).
 */
export function sqliteStores(db: Database, beforeClose?: () => Promise<void>): Stores {
  // The writes of one moment (launches, callbacks, audit entries; ltijs's plugin too) share one
  // commit (group-commit.ts).
  const commits = groupCommitFor(db);
  return {
    learners: new SqliteLearnerStore(db, commits),
    courses: new SqliteCourseStore(db, commits),
    otecs: new SqliteOtecStore(db),
    attendance: new SqliteAttendanceStore(db, commits),
    audit: new SqliteAuditLog(db, commits),
    logins: new SqliteLoginStateStore(db, commits),
    pendingLaunches: new SqlitePendingLaunchStore(db, commits),
    rosters: new SqliteRosterStore(db),
    enrollments: new SqliteEnrollmentStore(db),
    digests: new SqliteDigestStore(db),
    invites: new SqliteInviteStore(db),
    async checkReady() {
      if (!db.open) throw new Error('the SQLite database is closed');
      if (db.readonly || db.pragma('query_only', { simple: true })) throw new Error('the SQLite database is read-only');
      // A real committed write (one row, overwritten each time): only writing shows that the file
      // and its WAL accept writes (an unwritable file fails with SQLITE_IOERR_WRITE / READONLY).
      // The probe table is not a migration: created on first use, one row, nothing depends on it.
      try {
        db.exec('CREATE TABLE IF NOT EXISTS app_ready_probe (id INTEGER PRIMARY KEY, at INTEGER NOT NULL)');
        db.prepare('INSERT INTO app_ready_probe (id, at) VALUES (1, ?) ON CONFLICT (id) DO UPDATE SET at = excluded.at').run(Date.now());
      } catch (error) {
        const code = (error as { code?: unknown }).code;
        throw new Error(`the SQLite file does not accept writes (${typeof code === 'string' ? code : 'error'})`);
      }
    },
    async close() {
      // Units queued in this turn are committed (their callers are waiting), then the file closes.
      if (db.open) commits.flush();
      await beforeClose?.();
      if (db.open) db.close();
    },
  };
}

/** Connects to MongoDB and opens the stores on it (mongo/open-mongo-stores.ts, loaded on first use). */
export async function openMongoStores(uri: string, options: { dbName?: string } = {}): Promise<{ stores: Stores; connection: Connection }> {
  const mongo = await import('./mongo/open-mongo-stores');
  return mongo.openMongoStores(uri, options);
}

export async function openStores(options: {
  mongodbUri: string | null;
  sqliteFile: string;
  /** The server's stores: checkpoint a SQLite file's WAL on a worker thread (not for the CLI's short runs). */
  walCheckpointer?: { onError: (error: Error) => void };
}): Promise<OpenedStores> {
  if (options.mongodbUri) {
    const { stores, connection } = await openMongoStores(options.mongodbUri);
    return { stores, kind: 'mongo', sqlite: null, mongo: connection };
  }
  const db = openSqliteDatabase(options.sqliteFile);
  // A served file gets its WAL checkpoints on a worker thread (wal-checkpointer.ts).
  const checkpointer = options.walCheckpointer && !isInMemory(options.sqliteFile) ? startWalCheckpointer(db, options.sqliteFile, options.walCheckpointer) : null;
  return { stores: sqliteStores(db, checkpointer ? () => checkpointer.close() : undefined), kind: 'sqlite', sqlite: db, mongo: null };
}
