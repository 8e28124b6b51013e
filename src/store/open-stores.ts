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
}

/** How long start-up waits for a MongoDB server before failing. */
export const MONGO_SERVER_SELECTION_TIMEOUT_MS = 5000;

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
    async close() {
      await conn.close();
    },
  };
}

/**
 * Connects to MongoDB on a connection of our own (never mongoose's default one, which ltijs uses:
 * see src/store/mongo/schemas.ts) and builds the indexes the ports' atomicity relies on (unique
 * activeKey, TTL on login states) before anything is written.
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
    const { stores } = await openMongoStores(options.mongodbUri);
    return { stores, kind: 'mongo', sqlite: null };
  }
  const db = openSqliteDatabase(options.sqliteFile);
  return { stores: sqliteStores(db), kind: 'sqlite', sqlite: db };
}
