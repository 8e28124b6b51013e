/**
 * Starts the whole system as `npm start` does (tool + LMS simulator + SENCE emulator over real
 * HTTP), on free ports and a fresh SQLite file, with logs kept in memory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../../src/config';
import { startSystem, type RunningSystem, type SystemOptions } from '../../src/system';
import { MemoryLogger } from '../../src/web/logger';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export interface TestSystem extends RunningSystem {
  logger: MemoryLogger;
  dir: string;
  stop(): Promise<void>;
}

export async function startTestSystem(env: Record<string, string> = {}, options: SystemOptions = {}): Promise<TestSystem> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'asistencia-sence-'));
  const [port, lmsPort, sencePort] = [await freePort(), await freePort(), await freePort()];
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    LMS_SIMULATOR_PORT: String(lmsPort),
    SENCE_EMULATOR_PORT: String(sencePort),
    SQLITE_FILE: path.join(dir, 'test.sqlite'),
    DEMO: 'true',
    ...(process.env.MONGODB_URI && env.USE_MONGO ? { MONGODB_URI: process.env.MONGODB_URI } : {}),
    ...env,
  });
  const logger = new MemoryLogger();
  const system = await startSystem(config, { logger, ...options });
  return Object.assign(system, {
    logger,
    dir,
    async stop() {
      await system.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}
