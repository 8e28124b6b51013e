/**
 * Issue #19 §4: the store dies (SIGKILL of FerretDB) at a random moment while SENCE close
 * callbacks are being recorded, then comes back. Every genuine callback posted again afterwards
 * must be accepted exactly once: the session closed with its answer and the right accredited time,
 * none left `closing` with its attempt spent, none answered twice.
 *
 * Driven through AttendanceService.receiveCallback (the code the callback route calls) rather than
 * HTTP, so that the run fits in CI's budget; the HTTP layer adds nothing to the store's order of
 * writes. The fixtures (sessions in `closing`, one close attempt each) are written through the
 * store's own port. CRASH_TRIALS=20 CRASH_CALLBACKS=200 runs the figure.
 *
 * After each restart, FerretDB must answer a new client (if not, it is started again and counted:
 * FerretDB's own crash recovery is not the claim here), then the tool's own connection must come
 * back within TOOL_RECOVERY_MS; if it does not, the test fails with every FerretDB launch's output
 * and the driver's recent events (a finding about the tool, not a flake to retry).
 */
import { randomBytes } from 'node:crypto';
import type { Connection } from 'mongoose';
import { AttendanceService } from '../../src/application/attendance-service';
import { AppError } from '../../src/errors';
import type { AttendanceSession, CallbackAttempt } from '../../src/domain/types';
import { openMongoStores } from '../../src/store/open-stores';
import type { Stores } from '../../src/store/ports';
import { deriveCallbackToken, hashCallbackToken } from '../../src/sence/callback-token';
import { findFerretDb, startFerretDb, withDatabase, type FerretDb } from '../support/ferretdb';

/** The issue asks for 20 trials; 12 keep the MongoDB pass within CI's budget (CRASH_TRIALS=20 runs it). */
const TRIALS = Number(process.env.CRASH_TRIALS ?? 12);
/**
 * The issue asks for 200 callbacks a trial. Only the callbacks in flight when the store dies (up to
 * CONCURRENCY) meet the crash; the others are ordinary callbacks before or after it. 30 a trial give
 * each kill the same exposure at a tenth of the time on FerretDB's SQLite backend (about 100 ms a
 * callback on a loaded machine); CRASH_CALLBACKS=200 runs the figure (about 40 s a trial).
 */
const CALLBACKS = Number(process.env.CRASH_CALLBACKS ?? 30);
/** Callbacks in flight at once (several learners coming back from SENCE at the same time). */
const CONCURRENCY = 8;
const TOKEN_KEY = Buffer.alloc(32, 7);
/** The service's clock: fixed, so that each session's accredited time is known exactly. */
const NOW = new Date('2025-03-03T12:00:00.000Z');
const REPLAYED = 'Esta respuesta de SENCE ya fue registrada. Revisa tu panel de asistencia en el curso.';

const ferretBinary = findFerretDb();

interface Fixture {
  session: AttendanceSession;
  attempt: CallbackAttempt;
  token: string;
  body: Record<string, string>;
  /** Seconds the close must accredit: openedAt is this far before NOW. */
  accredited: number;
}

function fixture(trial: number, n: number): Fixture {
  const id = `${trial.toString().padStart(2, '0')}${n.toString().padStart(4, '0')}-0000-4000-8000-${randomBytes(6).toString('hex')}`;
  const accredited = 60 * (1 + (n % 170)); // under the 180-minute limit
  const session: AttendanceSession = {
    id,
    learner: { issuer: 'https://lms.example', clientId: 'c1', sub: `learner-${trial}-${n}` },
    course: { issuer: 'https://lms.example', clientId: 'c1', contextId: 'ctx-crash' },
    otecId: 'otec-1',
    environment: 'test',
    idSesionAlumno: `AS-${id}`,
    sent: { RutOtec: '76123456-0', CodSence: '1237654321', CodigoCurso: 'ACCION-BASE-01', LineaCapacitacion: '3', RunAlumno: '12345678-5', IdSesionAlumno: `AS-${id}` },
    state: 'closing',
    limitMinutes: 180,
    warningMinutes: 10,
    idSesionSence: `SENCE-${n}`,
    senceStartFechaHora: '2025-03-03 09:00:00',
    senceZonaHoraria: 'America/Santiago',
    createdAt: new Date(NOW.getTime() - accredited * 1000 - 60_000),
    openedAt: new Date(NOW.getTime() - accredited * 1000),
    closeRequestedAt: new Date(NOW.getTime() - 1000),
    endedAt: null,
    accreditedSeconds: 0,
    lastErrorCodes: [],
    endReason: null,
    version: 3,
  };
  const attemptId = randomBytes(9).toString('base64url');
  const token = deriveCallbackToken(TOKEN_KEY, attemptId);
  const attempt: CallbackAttempt = {
    id: attemptId,
    sessionId: id,
    phase: 'close',
    tokenHash: hashCallbackToken(token),
    createdAt: new Date(NOW.getTime() - 1000),
    expiresAt: new Date(NOW.getTime() + 3_600_000),
    usedAt: null,
  };
  const body = {
    CodSence: '1237654321',
    CodigoCurso: 'ACCION-BASE-01',
    IdSesionAlumno: `AS-${id}`,
    IdSesionSence: `SENCE-${n}`,
    RunAlumno: '12345678-5',
    FechaHora: '2025-03-03 12:00:00',
    ZonaHoraria: 'America/Santiago',
    LineaCapacitacion: '3',
  };
  return { session, attempt, token, body, accredited };
}

type Outcome = 'accepted' | 'replayed' | 'store-down';
/** The last failure of each callback while the store was down (shown when it never recovers). */
const lastFailure = new Map<string, string>();

async function post(service: AttendanceService, f: Fixture): Promise<Outcome> {
  try {
    await service.receiveCallback({ kind: 'retoma', attemptId: f.attempt.id, token: f.token, body: { ...f.body }, info: { sourceIp: '127.0.0.9' } });
    return 'accepted';
  } catch (error) {
    if (error instanceof AppError && error.code === 'sence-callback-replayed') {
      expect(error.message).toBe(REPLAYED);
      return 'replayed';
    }
    if (error instanceof AppError && error.code !== 'store-unavailable') throw error; // any other refusal is a finding
    lastFailure.set(f.attempt.id, error instanceof Error ? `${error.name}: ${error.message}` : String(error));
    return 'store-down';
  }
}

/** How long the tool's own connection may take to find the restarted store (the driver polls it). */
const TOOL_RECOVERY_MS = 30_000;

/** Null once the tool's stores answer again (their own connection); else the last failure at the deadline. */
async function untilToolReady(stores: Stores, timeoutMs: number): Promise<string | null> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await stores.checkReady();
      return null;
    } catch (error) {
      if (Date.now() > deadline) return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
}

/** FerretDB's launches and the driver's events, for a failure message (set in beforeAll). */
let diagnose: (() => string) | null = null;
/** The driver's recent events on the tool's connection, shown when it does not come back. */
const driverEvents: string[] = [];
/** Posts again until the store answers for it (it may still be coming back). */
async function postAfterRecovery(service: AttendanceService, f: Fixture): Promise<Outcome> {
  for (let tries = 0; tries < 20; tries += 1) {
    const outcome = await post(service, f);
    if (outcome !== 'store-down') return outcome;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`callback ${f.attempt.id}: the store never answered after the restart (last: ${lastFailure.get(f.attempt.id)})\n${diagnose?.() ?? ''}`);
}

async function inPool<T>(items: T[], width: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        await work(item);
      }
    }),
  );
}

// The MongoDB pass only (jest.mongo.config.js): it starts a FerretDB of its own, to kill it. SQLite
// writes a callback in one transaction; its SIGKILL case is in shutdown.test.ts.
const runs = process.env.TEST_STORE === 'mongo' && ferretBinary !== null;
(runs ? describe : describe.skip)('Store killed during SENCE close callbacks, then restarted (MongoDB on FerretDB)', () => {
  let ferret: FerretDb;
  let stores: Stores | null = null;
  let connection: Connection | null = null;
  let service: AttendanceService;

  /** A database of its own for each trial: what earlier trials left does not slow the next one. */
  async function openTrial(trial: number): Promise<Stores> {
    await stores?.close();
    ({ stores, connection } = await openMongoStores(withDatabase(ferret.uri, `sence_crash_${trial}`)));
    driverEvents.length = 0;
    const client = connection.getClient();
    for (const name of ['serverHeartbeatStarted', 'serverHeartbeatSucceeded', 'serverHeartbeatFailed', 'serverDescriptionChanged', 'connectionPoolCleared', 'connectionPoolReady', 'connectionCreated', 'connectionClosed', 'connectionCheckOutFailed']) {
      client.on(name, (e: Record<string, unknown>) => {
        const detail = name === 'serverDescriptionChanged' ? `${(e.newDescription as { type: string }).type} ${String((e.newDescription as { error?: unknown }).error ?? '')}` : name === 'serverHeartbeatFailed' ? String(e.failure) : name.startsWith('connection') ? `${String(e.connectionId ?? '')} ${String(e.reason ?? '')}` : '';
        driverEvents.push(`${new Date().toISOString()} ${name} ${detail}`);
        if (driverEvents.length > 300) driverEvents.shift();
      });
    }
    service = new AttendanceService(
      stores,
      { publicUrl: 'http://localhost:1', senceBaseUrls: { test: 'http://localhost:2/rcetest/Registro', production: 'http://localhost:2/rce/Registro' }, attemptTtlMinutes: 60, tokenKey: TOKEN_KEY },
      () => NOW,
    );
    return stores;
  }

  beforeAll(async () => {
    ferret = await startFerretDb({ binary: ferretBinary! });
    diagnose = () => `${ferret.describeLaunches()}\ndriver events:\n${driverEvents.join('\n')}`;
  }, 60_000);

  afterAll(async () => {
    await stores?.close();
    await ferret?.destroy();
  });

  it(`${TRIALS} trials × ${CALLBACKS} callbacks: after the restart every genuine callback is accepted exactly once`, async () => {
    const report: string[] = [];
    let extraRestartsInAll = 0;
    for (let trial = 0; trial < TRIALS; trial += 1) {
      const t0 = Date.now();
      const stores = await openTrial(trial);
      const fixtures = Array.from({ length: CALLBACKS }, (_, n) => fixture(trial, n));
      await inPool(fixtures, 10, async (f) => {
        const created = await stores.attendance.createSessionIfNoneActive(f.session);
        expect(created.created).toBe(true);
        await stores.attendance.createAttempt(f.attempt);
      });

      const t1 = Date.now();
      // The callbacks, with the store killed at a random moment among them and back a moment later.
      const first = new Map<string, Outcome>();
      let posted = 0;
      const killAfter = Math.floor(Math.random() * CALLBACKS * 0.7);
      let killed: Promise<void> | null = null;
      await inPool(fixtures, CONCURRENCY, async (f) => {
        posted += 1;
        if (posted > killAfter && !killed) {
          killed = (async () => {
            await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 30)));
            await ferret.kill();
            await new Promise((r) => setTimeout(r, 100 + Math.floor(Math.random() * 400)));
            await ferret.restart();
          })();
        }
        first.set(f.attempt.id, await post(service, f));
      });
      await killed;
      // FerretDB's own recovery is not what this test is about: if a new client gets no answer, it
      // is started again (counted in the report). The tool's own connection must then come back.
      const extraRestarts = await ferret.ensureServing();
      extraRestartsInAll += extraRestarts;
      const toolDown = await untilToolReady(stores, TOOL_RECOVERY_MS);
      if (toolDown !== null) {
        throw new Error(
          `trial ${trial}: FerretDB answers a new client, but the tool's own connection did not come back within ` +
            `${TOOL_RECOVERY_MS / 1000} s (last: ${toolDown})\n${diagnose?.() ?? ''}`,
        );
      }
      const t2 = Date.now();
      // After recovery: every genuine callback posted again.
      const again = new Map<string, Outcome>();
      await inPool(fixtures, CONCURRENCY, async (f) => {
        again.set(f.attempt.id, await postAfterRecovery(service, f));
      });

      const t3 = Date.now();
      let lost = 0;
      let doubled = 0;
      for (const f of fixtures) {
        const session = await stores.attendance.getSession(f.session.id);
        const answers = (await stores.attendance.listAnswers(f.session.id)).filter((a) => a.attemptId === f.attempt.id);
        const accepted = [first.get(f.attempt.id), again.get(f.attempt.id)].filter((o) => o === 'accepted').length;
        if (session?.state !== 'closed' || answers.length === 0) lost += 1;
        if (answers.length > 1 || accepted > 1) doubled += 1;
        // The one answer, the right time, and a later post refused as already registered.
        if (session?.state === 'closed' && answers.length === 1) {
          expect(session.accreditedSeconds).toBe(f.accredited);
          expect(answers[0]).toMatchObject({ phase: 'close', outcome: 'success' });
        }
        // A callback whose first post was accepted is refused when posted again.
        if (first.get(f.attempt.id) === 'accepted') expect(again.get(f.attempt.id)).toBe('replayed');
      }
      const downs = [...first.values()].filter((o) => o === 'store-down').length;
      report.push(`trial ${trial}: killed after ${killAfter} posts, ${downs} failed while down, ${extraRestarts} extra FerretDB restarts, ${lost} lost, ${doubled} doubled (ms: fixtures ${t1 - t0}, posts ${t2 - t1}, again ${t3 - t2}, check ${Date.now() - t3})`);
      if (process.env.CRASH_PROGRESS) process.stderr.write(`${report[report.length - 1]}\n`);
      expect({ trial, lost, doubled, report }).toEqual({ trial, lost: 0, doubled: 0, report });
    }
    report.push(`FerretDB restarted again because a new client got no answer: ${extraRestartsInAll} times in ${TRIALS} trials`);
    console.log(report.join('\n'));
  }, 600_000);
});
