/**
 * One tool instance in a process of its own, as `npm start` runs it but with the LMS simulator and
 * the SENCE emulator elsewhere (DEMO=false; the test process runs them): configuration from the
 * environment (the test sets PORT, PUBLIC_URL, SQLITE_FILE or MONGODB_URI, SENCE_RCE_TEST_URL…).
 * TOOL_PLATFORM (JSON of the simulator's RegisteredPlatform) is registered and the demo OTEC and
 * course settings seeded for it, idempotently, so every instance can do it. Prints one line
 * `READY <url>` when serving. SIGTERM: graceful shutdown like main.ts, exit 0.
 * For the fuzz (issue #19 §9): TOOL_RATE_LIMITS (JSON, src/web/rate-limit.ts's RateLimits) lifts
 * the rate limits; TOOL_NO_SWEEPS=1 stops the periodic sweep (so every stored change comes from a
 * request); TOOL_PRINT_ROUTES=1 prints `ROUTES <json>`, the app's route table
 * (test/support/app-routes.ts). A promise rejection nobody handled prints `UNHANDLED-REJECTION`,
 * an exception that is about to stop the process `UNCAUGHT-EXCEPTION`, each with its stack.
 * Started with --expose-gc (NODE_OPTIONS), SIGUSR2 forces a full garbage collection and prints
 * `GC <n>` (memory tests read the resident set after it, issue #19 §5).
 * Run with `node -r ./test/support/ts-register.js test/support/tool-process.ts`.
 */
import { loadConfig } from '../../src/config';
import { seedDemo } from '../../src/demo-seed';
import type { LmsSimulator, RegisteredPlatform } from '../../src/simulators/lms';
import { startSystem } from '../../src/system';
import { consoleLogger } from '../../src/web/logger';
import type { RateLimits } from '../../src/web/rate-limit';
import { appRoutes } from './app-routes';

const stackOf = (reason: unknown) => JSON.stringify(reason instanceof Error ? (reason.stack ?? reason.message) : String(reason));
process.on('unhandledRejection', (reason: unknown) => console.log(`UNHANDLED-REJECTION ${stackOf(reason)}`));
// A monitor only: Node still stops the process after it, as it would without it.
process.on('uncaughtExceptionMonitor', (err: unknown) => console.log(`UNCAUGHT-EXCEPTION ${stackOf(err)}`));

const exposedGc = (globalThis as { gc?: () => void }).gc;
if (exposedGc) {
  let collections = 0;
  process.on('SIGUSR2', () => {
    exposedGc();
    collections += 1;
    const m = process.memoryUsage();
    console.log(`GC ${collections} ${JSON.stringify({ rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers })}`);
  });
}

async function main(): Promise<void> {
  const config = loadConfig(process.env);
  const rateLimits = process.env.TOOL_RATE_LIMITS ? (JSON.parse(process.env.TOOL_RATE_LIMITS) as Partial<RateLimits>) : undefined;
  const system = await startSystem(config, { logger: consoleLogger, rateLimits });
  if (process.env.TOOL_NO_SWEEPS === '1') await system.sweeper.stop();
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
  if (process.env.TOOL_PRINT_ROUTES === '1') console.log(`ROUTES ${JSON.stringify(appRoutes(system.app, [system.lti.app]))}`);
  console.log(`READY ${system.url}`);
}

main().catch((err: unknown) => {
  console.error(`FAILED ${(err as Error).stack ?? String(err)}`);
  process.exit(1);
});
