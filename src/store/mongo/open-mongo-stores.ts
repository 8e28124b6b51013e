/**
 * MongoDB's side of the store (MONGODB_URI): our mongoose connection, its indexes, the stores on it.
 * Loaded only when MONGODB_URI is set (open-stores.ts imports it lazily): on the embedded SQLite
 * store the tool does not carry mongoose 8 in memory (~19 MB of RSS, issue #8).
 */
import mongoose, { type Connection } from 'mongoose';
import { AppError } from '../../errors';
import {
  MongoAttendanceStore,
  MongoAuditLog,
  MongoCourseStore,
  MongoLearnerStore,
  MongoLoginStateStore,
  MongoInviteStore,
  MongoOtecStore,
} from './mongo-stores';
import { registerMongoModels } from './schemas';
import { MongoRosterStore, rosterModel } from './mongo-roster-store';
import { MongoEnrollmentStore, enrollmentModel } from './mongo-enrollment-store';
import { MongoDigestStore, digestModel } from './mongo-digest-store';
import { MongoPendingLaunchStore, pendingLaunchModel } from './mongo-pending-launch-store';
import { ensureLtijsExpiryIndexes } from './ltijs-expiry';
import type { Stores } from '../ports';

/** How long start-up waits for a MongoDB server before failing. */
export const MONGO_SERVER_SELECTION_TIMEOUT_MS = 5000;

/** How long GET /readyz waits for MongoDB's answer. */
export const MONGO_READY_TIMEOUT_MS = 2000;

/** Stores over an open mongoose Connection (indexes must be synced: see openMongoStores). close() closes it. */
export function mongoStores(conn: Connection): Stores {
  return {
    learners: new MongoLearnerStore(conn),
    courses: new MongoCourseStore(conn),
    otecs: new MongoOtecStore(conn),
    attendance: new MongoAttendanceStore(conn),
    audit: new MongoAuditLog(conn),
    logins: new MongoLoginStateStore(conn),
    pendingLaunches: new MongoPendingLaunchStore(conn),
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
    pendingLaunchModel(conn);
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

