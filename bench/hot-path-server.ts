/**
 * Child process of the hot-path benchmarks: the whole system as demo mode runs it (tool + LMS
 * simulator + SENCE emulator), logs dropped, EJS view cache on, on BENCH_SQLITE_FILE (a fresh or a
 * seeded file) or on MONGODB_URI. Before it reports ready it prepares BENCH_ATTEMPTS real SENCE
 * start attempts (one learner each, through AttendanceService.start as the panel's button does) and
 * sends, for each, the callback SENCE would post (its UrlRetoma path and form body), so every
 * measured callback does the full verification and write.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig } from '../src/config';
import { startSystem } from '../src/system';
import { consoleLogger, silentLogger, type Logger } from '../src/web/logger';
import { DEMO_COURSE } from '../src/simulators/lms/demo-data';
import { freePort, memorySample, send } from './ipc';
import { BENCH_RATE_LIMITS, failStartup, serveParent } from './child-common';

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'asistencia-sence-hot-'));
  const [port, lmsPort, sencePort] = await Promise.all([freePort(), freePort(), freePort()]);
  const mongodbUri = process.env.MONGODB_URI?.trim() || undefined;
  const config = loadConfig({
    NODE_ENV: 'test',
    PORT: String(port),
    HOST: '127.0.0.1',
    LMS_SIMULATOR_PORT: process.env.BENCH_LMS_PORT || String(lmsPort),
    SENCE_EMULATOR_PORT: String(sencePort),
    SQLITE_FILE: process.env.BENCH_SQLITE_FILE || path.join(dir, 'bench.sqlite'),
    DEMO: 'true',
    ...(mongodbUri ? { MONGODB_URI: mongodbUri } : {}),
    // The limiter benchmark speaks from many addresses (X-Forwarded-For).
    ...(process.env.TRUST_PROXY ? { TRUST_PROXY: process.env.TRUST_PROXY } : {}),
  });
  // BENCH_LOG_ERRORS=1 prints the tool's error lines (to see what a non-2xx was), nothing else.
  const logger: Logger = process.env.BENCH_LOG_ERRORS === '1' ? { log: (level, msg, fields) => level === 'error' && consoleLogger.log(level, msg, fields) } : silentLogger;
  const sys = await startSystem(config, { logger, rateLimits: BENCH_RATE_LIMITS });
  sys.app.set('view cache', true);
  const lms = sys.lms!;

  const courseKey = { issuer: lms.issuer, clientId: lms.clientId, contextId: DEMO_COURSE.contextId };
  const course = await sys.stores.courses.get(courseKey);
  const attempts: Array<{ path: string; body: string }> = [];
  const count = Number(process.env.BENCH_ATTEMPTS ?? 0);
  for (let i = 0; i < count; i += 1) {
    const learner = await sys.stores.learners.upsert({
      issuer: lms.issuer, clientId: lms.clientId, sub: `bench-cb-${randomUUID()}`, name: 'Bench', email: null, run: '12345678-5', runSource: 'custom',
    });
    const { form } = await sys.attendance.start(learner, course, { sourceIp: '127.0.0.1' });
    const f = form.fields;
    const body = new URLSearchParams({
      CodSence: f.CodSence ?? '',
      CodigoCurso: f.CodigoCurso ?? '',
      IdSesionAlumno: f.IdSesionAlumno ?? '',
      IdSesionSence: randomUUID().toUpperCase(),
      RunAlumno: f.RunAlumno ?? '',
      FechaHora: '2025-03-04 10:00:00',
      ZonaHoraria: 'America/Santiago',
      LineaCapacitacion: f.LineaCapacitacion ?? '',
    }).toString();
    attempts.push({ path: new URL(f.UrlRetoma!).pathname, body });
  }

  send({
    type: 'ready',
    url: sys.url,
    lmsUrl: lms.url,
    logins: [{ userId: 'ana', loginUrl: `${sys.url}/lti/login`, fields: lms.loginInitiation('ana') }],
    attempts,
    store: sys.storeKind,
    memory: memorySample(),
  });
  serveParent({
    profilePrefix: 'hot-path',
    close: () => sys.close().then(() => rmSync(dir, { recursive: true, force: true })),
  });
}

main().catch(failStartup);
