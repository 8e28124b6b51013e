/**
 * Chooses and opens the store: MongoDB when MONGODB_URI is set, else the embedded SQLite file.
 * Returns the raw better-sqlite3 Database too, so the ltijs plugin can share the same file.
 */
import mongoose, { type Connection } from 'mongoose';
import { AppError } from '../errors';
import {
  MongoAttendanceStore,
  MongoAuditLog,
  MongoCourseStore,
  MongoLearnerStore,
  MongoLoginStateStore,
  MongoInviteStore,
  MongoOtecStore,
} from './mongo/mongo-stores';
import { registerMongoModels } from './mongo/schemas';
import { MongoRosterStore, rosterModel } from './mongo/mongo-roster-store';
import { MongoEnrollmentStore, enrollmentModel } from './mongo/mongo-enrollment-store';
import { SqliteRosterStore } from './sqlite/sqlite-roster-store';
import { SqliteEnrollmentStore } from './sqlite/sqlite-enrollment-store';
import { SqliteDigestStore } from './sqlite/sqlite-digest-store';
import { MongoDigestStore, digestModel } from './mongo/mongo-digest-store';
import { ensureLtijsExpiryIndexes } from './mongo/ltijs-expiry';
import type { Stores } from './ports';
import { openSqliteDatabase, type Database } from './sqlite/open-sqlite';
import { SqliteAttendanceStore } from './sqlite/sqlite-attendance-store';
import { SqliteAuditLog } from './sqlite/sqlite-audit-log';
import { SqliteCourseStore } from './sqlite/sqlite-course-store';
import { SqliteLearnerStore } from './sqlite/sqlite-learner-store';
import { SqliteLoginStateStore } from './sqlite/sqlite-login-state-store';
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

/** How long start-up waits for a MongoDB server before failing. */
export const MONGO_SERVER_SELECTION_TIMEOUT_MS = 5000;

/** How long GET /readyz waits for MongoDB's answer. */
export const MONGO_READY_TIMEOUT_MS = 2000;

/** Stores over an open, migrated SQLite database. close() closes the database. */
export function sqliteStores(db: Database): Stores {
  return {
    learners: new SqliteLearnerStore(db),
    courses: new SqliteCourseStore(db),
    otecs: new SqliteOtecStore(db),
    attendance: new SqliteAttendanceStore(db),
    audit: new SqliteAuditLog(db),
    logins: new SqliteLoginStateStore(db),
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
      if (db.open) db.close();
    },
  };
}

/** Stores over an open mongoose Connection (indexes must be synced: see openMongoStores). close() closes it. */
export function mongoStores(conn: Connection): Stores {
  return {
    learners: new MongoLearnerStore(conn),
    courses: new MongoCourseStore(conn),
    otecs: new MongoOtecStore(conn),
    attendance: new MongoAttendanceStore(conn),
    audit: new MongoAuditLog(conn),
    logins: new MongoLoginStateStore(conn),
    rosters: new MongoRosterStore(conn),
    enrollments: new MongoEnrollmentStore(conn),
    digests: new MongoDigestStore(conn),
    invites: new MongoInviteStore(conn),
    async checkReady() {
      const db = conn.db;
      if (conn.readyState !== 1 || !db) throw new Error('not connected to MongoDB');
      const hello = await db.admin().command({ hello: 1 }, { timeoutMS: MONGO_READY_TIMEOUT_MS });
      if (hello.isWritablePrimary === false) throw new Error('the MongoDB server does not accept writes (not a writable primary)');
    },
    async close() {
      await conn.close();
    },
  };
}

/**
 * Connects to MongoDB on a connection of our own (never mongoose's default one, which ltijs uses:
 * see src/store/mongo/schemas.ts) and builds the indexes the ports' atomicity relies on (unique keys;
 * no TTL, sparse or partial index: see schemas.ts) before anything is written.
 */
export async function openMongoStores(
  uri: string,
  options: { dbName?: string } = {},
): Promise<{ stores: Stores; connection: Connection }> {
  let conn: Connection | undefined;
  try {
    conn = mongoose.createConnection(uri, {
      serverSelectionTimeoutMS: MONGO_SERVER_SELECTION_TIMEOUT_MS,
      autoIndex: false, // built once, below
      ...(options.dbName === undefined ? {} : { dbName: options.dbName }), // tests: one database per run
    });
    await conn.asPromise();
  } catch (error) {
    await conn?.close().catch(() => undefined);
    throw new AppError(
      'startup-failure',
      500,
      `MONGODB_URI: could not connect to MongoDB within ${MONGO_SERVER_SELECTION_TIMEOUT_MS / 1000} s ` +
        `(${error instanceof Error ? error.message : String(error)}). Check that the server is running and the URI ` +
        'is right, or unset MONGODB_URI to use the embedded SQLite file.',
      { cause: error, details: { variable: 'MONGODB_URI' } },
    );
  }
  try {
    registerMongoModels(conn);
    rosterModel(conn);
    enrollmentModel(conn);
    digestModel(conn);
    await conn.syncIndexes();
    await ensureLtijsExpiryIndexes(conn);
  } catch (error) {
    await conn.close().catch(() => undefined);
    throw new AppError(
      'startup-failure',
      500,
      `MONGODB_URI: connected, but could not create the indexes of the sence_ collections ` +
        `(${error instanceof Error ? error.message : String(error)}). The user needs createIndex rights on that database.`,
      { cause: error, details: { variable: 'MONGODB_URI' } },
    );
  }
  return { stores: mongoStores(conn), connection: conn };
}

export async function openStores(options: { mongodbUri: string | null; sqliteFile: string }): Promise<OpenedStores> {
  if (options.mongodbUri) {
    const { stores, connection } = await openMongoStores(options.mongodbUri);
    return { stores, kind: 'mongo', sqlite: null, mongo: connection };
  }
  const db = openSqliteDatabase(options.sqliteFile);
  return { stores: sqliteStores(db), kind: 'sqlite', sqlite: db, mongo: null };
}
