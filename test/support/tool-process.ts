/**
 * One tool instance in a process of its own, as `npm start` runs it but with the LMS simulator and
 * the SENCE emulator elsewhere (DEMO=false; the test process runs them): configuration from the
 * environment (the test sets PORT, PUBLIC_URL, SQLITE_FILE or MONGODB_URI, SENCE_RCE_TEST_URL…).
 * TOOL_PLATFORM (JSON of the simulator's RegisteredPlatform) is registered and the demo OTEC and
 * course settings seeded for it, idempotently, so every instance can do it. Prints one line
 * `READY <url>` when serving. SIGTERM: graceful shutdown like main.ts, exit 0.
 * Run with `node -r ./test/support/ts-register.js test/support/tool-process.ts`.
 */
import { loadConfig } from '../../src/config';
import { seedDemo } from '../../src/demo-seed';
import type { LmsSimulator, RegisteredPlatform } from '../../src/simulators/lms';
import { startSystem } from '../../src/system';
import { consoleLogger } from '../../src/web/logger';

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const system = await startSystem(config, { logger: consoleLogger });
  const platformJson = process.env.TOOL_PLATFORM;
  if (platformJson) {
    const platform = JSON.parse(platformJson) as RegisteredPlatform;
    await system.lti.registerPlatform(platform);
    const lms: Pick<LmsSimulator, 'issuer' | 'clientId'> = { issuer: platform.url, clientId: platform.clientId };
    await seedDemo({ stores: system.stores, config, lms: lms as LmsSimulator, now: new Date() });
  }
  const graceMs = Number(process.env.SHUTDOWN_TIMEOUT_SECONDS ?? '10') * 1000;
  let stopping = false;
  process.on('SIGTERM', () => {
    if (stopping) return;
    stopping = true;
    system
      .shutdown(graceMs)
      .then(({ forced }) => {
        console.log(`STOPPED forced=${forced}`);
        process.exit(0);
      })
      .catch((err: unknown) => {
        console.error(err);
        process.exit(1);
      });
  });
  console.log(`READY ${system.url}`);
}

main().catch((err: unknown) => {
  console.error(`FAILED ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
