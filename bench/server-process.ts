/**
 * Child process of the launch benchmark: the whole system as `npm start` runs it in demo mode (tool
 * on the embedded SQLite store + LMS simulator + SENCE emulator), on free ports and a temp file,
 * with BENCH_LEARNERS extra simulated learners. Reports its URLs and each learner's login-initiation
 * fields over IPC, answers memory probes, profiles itself on request (node:inspector, so the
 * profile covers the launches only, not start-up), and exits cleanly on 'stop'.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { startSystem, type RunningSystem } from '../src/system';
import { silentLogger } from '../src/web/logger';
import { computeCheckDigit } from '../src/domain/rut';
import { DEMO_USERS, type SimUser } from '../src/simulators/lms';
import { freePort, memorySample, send, type ParentMessage } from './ipc';

/** 12345678 → "12.345.678" */
function dotted(body: string): string {
  return body.replace(/\B(?=(\d{3})+(?!\d))/g, '.');
}

/**
 * `count` learners with valid RUNs (mod-11 check digit), the way a real course spreads them:
 * two thirds send the RUN in the custom parameter `rut` (dotted), one third only as Moodle's
 * idnumber (lis.person_sourcedid, plain).
 */
export function benchLearners(count: number): SimUser[] {
  const users: SimUser[] = [];
  for (let i = 0; i < count; i += 1) {
    const body = String(10_000_000 + i * 7_919);
    const run = `${body}-${computeCheckDigit(body)}`;
    const viaCustom = i % 3 !== 2;
    users.push({
      id: `alumno-${String(i).padStart(5, '0')}`,
      name: `Alumno ${i} Prueba`,
      givenName: `Alumno ${i}`,
      familyName: 'Prueba',
      email: `alumno${i}@example.com`,
      role: 'learner',
      customRut: viaCustom ? `${dotted(body)}-${run.slice(-1)}` : null,
      sourcedId: viaCustom ? '' : run,
    });
  }
  return users;
}

async function main(): Promise<void> {
  const learners = benchLearners(Number(process.env.BENCH_LEARNERS ?? 2000));
  const dir = mkdtempSync(path.join(os.tmpdir(), 'asistencia-sence-bench-'));
  const [port, lmsPort, sencePort] = [await freePort(), await freePort(), await freePort()];
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    LMS_SIMULATOR_PORT: String(lmsPort),
    SENCE_EMULATOR_PORT: String(sencePort),
    SQLITE_FILE: path.join(dir, 'bench.sqlite'),
    DEMO: 'true',
  });
  const sys: RunningSystem = await startSystem(config, { logger: silentLogger, lms: { users: [...DEMO_USERS, ...learners] } });
  // As in production (NODE_ENV=production turns it on): compiled EJS templates are reused.
  sys.app.set('view cache', true);
  const lms = sys.lms;
  if (!lms) throw new Error('demo mode did not start the LMS simulator');

  const logins = learners.map((u) => ({ userId: u.id, loginUrl: `${sys.url}/lti/login`, fields: lms.loginInitiation(u.id) }));
  send({ type: 'ready', url: sys.url, lmsUrl: lms.url, logins, memory: memorySample() });

  let profiler: Session | null = null;
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => profiler?.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))));

  process.on('message', (m: ParentMessage) => {
    if (m.type === 'profile-start') {
      profiler = new Session();
      profiler.connect();
      void post('Profiler.enable')
        .then(() => post('Profiler.setSamplingInterval', { interval: 500 }))
        .then(() => post('Profiler.start'))
        .then(() => send({ type: 'profiling' }))
        .catch((err: unknown) => send({ type: 'failed', error: String(err) }));
    } else if (m.type === 'profile-stop') {
      void post('Profiler.stop')
        .then((result) => {
          mkdirSync(m.dir, { recursive: true });
          const file = path.join(m.dir, `launch-${new Date().toISOString().replace(/[:.]/g, '-')}.cpuprofile`);
          writeFileSync(file, JSON.stringify((result as { profile: unknown }).profile));
          profiler?.disconnect();
          profiler = null;
          send({ type: 'profile', file });
        })
        .catch((err: unknown) => send({ type: 'failed', error: String(err) }));
    } else if (m.type === 'memory') {
      send({ type: 'memory', memory: memorySample(), stats: { jwksFetches: sys.lti.keyCache.fetches } });
    } else if (m.type === 'stop') {
      void shutdown();
    }
  });

  let closing: Promise<void> | null = null;
  /** Closes the servers and the store, removes the temp directory, exits. Once. */
  function shutdown(): Promise<void> {
    closing ??= sys
      .close()
      .then(() => {
        rmSync(dir, { recursive: true, force: true });
        send({ type: 'stopped' });
        process.exit(0);
      })
      .catch((err: unknown) => {
        send({ type: 'failed', error: (err as Error).stack ?? String(err) });
        process.exit(1);
      });
    return closing;
  }
  // The parent died or the run was interrupted: do not linger, do not leave the temp file behind.
  process.on('disconnect', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

main().catch((err: unknown) => {
  send({ type: 'failed', error: (err as Error).stack ?? String(err) });
  process.exit(1);
});
