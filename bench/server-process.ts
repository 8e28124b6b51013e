/**
 * Child process of the launch benchmark that runs the tool on the embedded SQLite store (fresh temp
 * file, WAL), on a free port, logs dropped, EJS `view cache` on (as with NODE_ENV=production).
 *
 * BENCH_SIMULATOR=process (default): the tool alone, `startSystem` with DEMO off (no LMS simulator,
 * no SENCE emulator), on BENCH_TOOL_PORT, and the platform of the simulator's own child process
 * (BENCH_PLATFORM, JSON) registered with `lti.registerPlatform`, as an admin registers a real LMS.
 * The demo OTEC and course settings are seeded for that platform, as demo mode does.
 *
 * BENCH_SIMULATOR=inprocess: the whole system as `npm start` runs it in demo mode (tool + LMS
 * simulator + SENCE emulator in this process), with BENCH_LEARNERS extra simulated learners; it then
 * also reports each learner's login-initiation fields.
 *
 * Answers memory probes, profiles itself on request and exits cleanly on 'stop' (child-common.ts).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { startSystem, type RunningSystem } from '../src/system';
import { silentLogger } from '../src/web/logger';
import { seedDemo } from '../src/demo-seed';
import { DEMO_USERS, type LmsSimulator, type RegisteredPlatform } from '../src/simulators/lms';
import { freePort, memorySample, send, simulatorMode } from './ipc';
import { benchLearners, learnerCount } from './learners';
import { BENCH_RATE_LIMITS, failStartup, serveParent } from './child-common';

async function startToolOnly(dir: string): Promise<RunningSystem> {
  const port = Number(process.env.BENCH_TOOL_PORT);
  const platformJson = process.env.BENCH_PLATFORM;
  if (!Number.isInteger(port) || port <= 0 || !platformJson) throw new Error('BENCH_TOOL_PORT and BENCH_PLATFORM are required with BENCH_SIMULATOR=process');
  const platform = JSON.parse(platformJson) as RegisteredPlatform;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    SQLITE_FILE: path.join(dir, 'bench.sqlite'),
    DEMO: 'false',
  });
  const sys = await startSystem(config, { logger: silentLogger, rateLimits: BENCH_RATE_LIMITS });
  if (sys.lms || sys.sence) throw new Error('DEMO=false started a simulator');
  await sys.lti.registerPlatform(platform);
  // The demo course's settings (OTEC, SENCE codes, required hours) for the simulator's course, so
  // the panel is the same as in demo mode. seedDemo reads only the issuer and the client id.
  const lms: Pick<LmsSimulator, 'issuer' | 'clientId'> = { issuer: platform.url, clientId: platform.clientId };
  await seedDemo({ stores: sys.stores, config, lms: lms as LmsSimulator, now: new Date() });
  return sys;
}

async function startWholeSystem(dir: string): Promise<{ sys: RunningSystem; lms: LmsSimulator; logins: Array<{ userId: string; loginUrl: string; fields: Record<string, string> }> }> {
  const learners = benchLearners(learnerCount());
  const [port, lmsPort, sencePort] = await Promise.all([freePort(), freePort(), freePort()]);
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    LMS_SIMULATOR_PORT: String(lmsPort),
    SENCE_EMULATOR_PORT: String(sencePort),
    SQLITE_FILE: path.join(dir, 'bench.sqlite'),
    DEMO: 'true',
  });
  const sys = await startSystem(config, { logger: silentLogger, rateLimits: BENCH_RATE_LIMITS, lms: { users: [...DEMO_USERS, ...learners] } });
  const lms = sys.lms;
  if (!lms) throw new Error('demo mode did not start the LMS simulator');
  const logins = learners.map((u) => ({ userId: u.id, loginUrl: `${sys.url}/lti/login`, fields: lms.loginInitiation(u.id) }));
  return { sys, lms, logins };
}

async function main(): Promise<void> {
  const mode = simulatorMode();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'asistencia-sence-bench-'));
  let sys: RunningSystem;
  try {
    if (mode === 'process') {
      sys = await startToolOnly(dir);
      send({ type: 'ready', url: sys.url, lmsUrl: null, logins: [], memory: memorySample() });
    } else {
      const whole = await startWholeSystem(dir);
      sys = whole.sys;
      send({ type: 'ready', url: sys.url, lmsUrl: whole.lms.url, logins: whole.logins, memory: memorySample() });
    }
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  // As in production (NODE_ENV=production turns it on): compiled EJS templates are reused.
  sys.app.set('view cache', true);

  serveParent({
    profilePrefix: 'launch',
    stats: () => ({ jwksFetches: sys.lti.keyCache.fetches }),
    close: () => sys.close().then(() => rmSync(dir, { recursive: true, force: true })),
  });
}

main().catch(failStartup);
