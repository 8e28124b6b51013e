/**
 * Starts the whole system as `npm start` does (tool + LMS simulator + SENCE emulator over real
 * HTTP), on free ports and a fresh SQLite file, with logs kept in memory.
 *
 * The store comes from the environment: TEST_STORE=mongo puts the tool and ltijs on the MongoDB
 * named by MONGODB_URI (npm test's second pass; FerretDB in CI), each system in a database of its
 * own so suites never see each other's rows (dropped at stop). Otherwise a fresh SQLite file.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { startSystem, type RunningSystem, type SystemOptions } from '../../src/system';
import { MemoryLogger } from '../../src/web/logger';
import { withDatabase } from './ferretdb';
import { freeTestPort } from './ports';

export type TestStore = 'sqlite' | 'mongo';

/** The store the suites run on: TEST_STORE=mongo (needs MONGODB_URI) or SQLite. */
export function testStore(): TestStore {
  const wanted = (process.env.TEST_STORE ?? 'sqlite').trim().toLowerCase();
  if (wanted === 'sqlite' || wanted === '') return 'sqlite';
  if (wanted !== 'mongo') throw new Error(`TEST_STORE must be sqlite or mongo, not ${JSON.stringify(process.env.TEST_STORE)}`);
  if (!process.env.MONGODB_URI?.trim()) throw new Error('TEST_STORE=mongo needs MONGODB_URI (npm test starts FerretDB for it when installed)');
  return 'mongo';
}

/** A MongoDB URI naming a fresh database (`sence_test_<random>`), for one system or one test. */
export function freshMongoUri(prefix = 'sence_test'): string {
  const base = process.env.MONGODB_URI?.trim();
  if (!base) throw new Error('MONGODB_URI is not set');
  return withDatabase(base, `${prefix}_${randomUUID().replace(/-/g, '').slice(0, 16)}`);
}

/** Drops the database a URI names (used at stop, so test databases do not pile up). */
export async function dropMongoDatabase(uri: string): Promise<void> {
  const mongoose = (await import('mongoose')).default;
  const conn = mongoose.createConnection(uri, { serverSelectionTimeoutMS: 5000 });
  try {
    await conn.asPromise();
    await conn.dropDatabase();
  } finally {
    await conn.close().catch(() => undefined);
  }
}

/** A free port for a test server (test/support/ports.ts: outside the kernel's ephemeral range). */
export const freePort = freeTestPort;

export interface TestSystem extends RunningSystem {
  logger: MemoryLogger;
  dir: string;
  stop(): Promise<void>;
}

export async function startTestSystem(env: Record<string, string> = {}, options: SystemOptions = {}): Promise<TestSystem> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'asistencia-sence-'));
  const mongoUri = env.MONGODB_URI ?? (testStore() === 'mongo' ? freshMongoUri() : null);
  const [port, lmsPort, sencePort] = [await freePort(), await freePort(), await freePort()];
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    LMS_SIMULATOR_PORT: String(lmsPort),
    SENCE_EMULATOR_PORT: String(sencePort),
    SQLITE_FILE: path.join(dir, 'test.sqlite'),
    DEMO: 'true',
    ...env,
    ...(mongoUri ? { MONGODB_URI: mongoUri } : {}),
  });
  const logger = new MemoryLogger();
  const system = await startSystem(config, { logger, ...options });
  return Object.assign(system, {
    logger,
    dir,
    async stop() {
      await system.close();
      rmSync(dir, { recursive: true, force: true });
      if (mongoUri && !env.MONGODB_URI) await dropMongoDatabase(mongoUri);
    },
  });
}
