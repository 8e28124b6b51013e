/**
 * One contract for every storage adapter (src/store/ports.ts): the same cases run against SQLite
 * (on a real temporary file) and, in npm test's second pass (TEST_STORE=mongo), against the MongoDB
 * named by MONGODB_URI (FerretDB in CI), each case in a database of its own.
 */
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type {
  AttendanceSession,
  AuditEntry,
  CallbackAttempt,
  CourseKey,
  CourseSettings,
  LearnerKey,
  Otec,
  SenceAnswer,
} from '../../src/domain/types';
import { openMongoStores, sqliteStores } from '../../src/store/open-stores';
import type { Stores } from '../../src/store/ports';
import { openSqliteDatabase, SQLITE_SCHEMA_VERSION } from '../../src/store/sqlite/open-sqlite';
import { SqliteLoginStateStore } from '../../src/store/sqlite/sqlite-login-state-store';

// ---------------------------------------------------------------------------------------------- adapters

interface OpenedAdapter {
  stores: Stores;
  /** Closes the stores and removes everything the adapter created (file, database). */
  destroy(): Promise<void>;
}

interface Adapter {
  name: string;
  open(): Promise<OpenedAdapter>;
}

function tempSqliteFile(): string {
  return path.join(os.tmpdir(), `asistencia-contract-${process.pid}-${randomUUID()}`, 'store.sqlite');
}

function removeSqliteFile(file: string): void {
  fs.rmSync(path.dirname(file), { recursive: true, force: true });
}

const sqliteAdapter: Adapter = {
  name: 'SQLite',
  async open() {
    const file = tempSqliteFile();
    const stores = sqliteStores(openSqliteDatabase(file));
    return {
      stores,
      async destroy() {
        await stores.close();
        removeSqliteFile(file);
      },
    };
  },
};

const mongoUri = process.env.MONGODB_URI?.trim() || null;
const runId = `${Date.now()}_${randomUUID().slice(0, 8)}`;
let mongoDatabases = 0;

function mongoAdapter(uri: string): Adapter {
  return {
    name: 'MongoDB',
    async open() {
      mongoDatabases += 1;
      const dbName = `sence_contract_${runId}_${mongoDatabases}`;
      const { stores, connection } = await openMongoStores(uri, { dbName });
      return {
        stores,
        async destroy() {
          await connection.dropDatabase();
          await stores.close();
        },
      };
    },
  };
}

// The store under test comes from TEST_STORE, like every suite with a MongoDB variant: npm test runs
// SQLite in its first pass and MongoDB (FerretDB, started for it) in its second (scripts/test.sh).
const adapters: Adapter[] = [];
if (process.env.TEST_STORE === 'mongo') {
  if (!mongoUri) throw new Error('TEST_STORE=mongo needs MONGODB_URI');
  adapters.push(mongoAdapter(mongoUri));
} else {
  adapters.push(sqliteAdapter);
  console.warn('store contract: SQLite ran; the MongoDB variant runs with TEST_STORE=mongo (npm test\'s second pass).');
}

// ---------------------------------------------------------------------------------------------- fixtures

const T0 = new Date('2025-03-04T12:34:56.789Z');
const at = (offsetMs: number): Date => new Date(T0.getTime() + offsetMs);
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

const learnerA: LearnerKey = { issuer: 'https://moodle.example.cl', clientId: 'client-1', sub: 'user-a' };
const learnerB: LearnerKey = { issuer: 'https://moodle.example.cl', clientId: 'client-1', sub: 'user-b' };
/** Same sub as A on another platform: must never be confused with A. */
const learnerAElsewhere: LearnerKey = { issuer: 'https://canvas.example.cl', clientId: 'client-1', sub: 'user-a' };
const courseX: CourseKey = { issuer: 'https://moodle.example.cl', clientId: 'client-1', contextId: 'course-x' };
const courseY: CourseKey = { issuer: 'https://moodle.example.cl', clientId: 'client-1', contextId: 'course-y' };

const settings: CourseSettings = {
  otecId: 'otec-1',
  lineaCapacitacion: 1,
  codSence: '',
  codigoCurso: 'CURSO-ELEARNING-01',
  requiredHours: 12.5,
  environment: 'test',
  sessionLimitMinutes: 180,
  warningMinutes: 10,
};

let sequence = 0;
function nextId(prefix: string): string {
  sequence += 1;
  return `${prefix}-${String(sequence).padStart(6, '0')}`;
}

function newSession(overrides: Partial<AttendanceSession> = {}): AttendanceSession {
  const id = overrides.id ?? nextId('ses');
  return {
    id,
    learner: learnerA,
    course: courseX,
    otecId: 'otec-1',
    environment: 'test',
    idSesionAlumno: `alumno-${id}`,
    sent: {
      RutOtec: '76000000-0',
      CodSence: '',
      CodigoCurso: 'CURSO-ELEARNING-01',
      LineaCapacitacion: '3',
      RunAlumno: '12345678-5',
      IdSesionAlumno: `alumno-${id}`,
    },
    state: 'starting',
    limitMinutes: 180,
    warningMinutes: 10,
    idSesionSence: null,
    senceStartFechaHora: null,
    senceZonaHoraria: null,
    createdAt: T0,
    openedAt: null,
    closeRequestedAt: null,
    endedAt: null,
    accreditedSeconds: 0,
    lastErrorCodes: [],
    endReason: null,
    version: 1,
    ...overrides,
  };
}

function newAttempt(sessionId: string, overrides: Partial<CallbackAttempt> = {}): CallbackAttempt {
  return {
    id: nextId('att'),
    sessionId,
    phase: 'start',
    tokenHash: 'a'.repeat(64),
    createdAt: T0,
    expiresAt: at(30 * MINUTE),
    usedAt: null,
    ...overrides,
  };
}

function newOtec(overrides: Partial<Otec> = {}): Otec {
  return {
    id: nextId('otec'),
    name: 'Capacitaciones Andes SpA',
    rut: '76000000-0',
    tokenSealed: 'v1.iv.ciphertext.tag',
    tokenHint: 'AB12',
    platforms: [{ issuer: 'https://moodle.otec.cl', clientId: 'abc' }],
    createdAt: T0,
    updatedAt: at(1),
    ...overrides,
  };
}

function newAudit(overrides: Partial<AuditEntry> = {}): AuditEntry {
  const at = overrides.at ?? T0;
  return {
    count: 1,
    lastAt: at,
    id: nextId('aud'),
    at: T0,
    event: 'callback-accepted',
    accepted: true,
    reason: 'ok',
    sourceIp: '203.0.113.7',
    learner: learnerA,
    course: courseX,
    sessionId: 'ses-x',
    details: {},
    ...overrides,
  };
}

/** Creates a session and fails the test if it was not created. */
/**
 * Asserts that the promise rejects. Not `rejects.toThrow()`: better-sqlite3's native addon keeps the
 * SqliteError class of the first Jest sandbox that loaded it in this worker, so in later test files
 * its errors are not `instanceof Error` of this realm and toThrow() says "did not throw".
 */
async function expectRejection(promise: Promise<unknown>): Promise<void> {
  const outcome = await promise.then(
    () => 'resolved',
    () => 'rejected',
  );
  expect(outcome).toBe('rejected');
}

async function created(stores: Stores, session: AttendanceSession): Promise<AttendanceSession> {
  const result = await stores.attendance.createSessionIfNoneActive(session);
  if (!result.created) throw new Error(`expected ${session.id} to be created, found ${result.existing.id}`);
  return result.session;
}

// ---------------------------------------------------------------------------------------------- contract

describe.each(adapters)('store contract: $name', (adapter) => {
  let opened: OpenedAdapter;
  let stores: Stores;

  beforeEach(async () => {
    opened = await adapter.open();
    stores = opened.stores;
  });

  afterEach(async () => {
    await opened.destroy();
  });

  describe('LearnerStore', () => {
    it('inserts a learner and reads it back exactly', async () => {
      const before = Date.now();
      const stored = await stores.learners.upsert({
        ...learnerA,
        name: 'Ana Pérez',
        email: 'ana@example.cl',
        run: '12345678-5',
        runSource: 'custom',
      });
      expect(stored).toEqual({
        ...learnerA,
        name: 'Ana Pérez',
        email: 'ana@example.cl',
        run: '12345678-5',
        runSource: 'custom',
        updatedAt: expect.any(Date),
      });
      expect(stored.updatedAt.getTime()).toBeGreaterThanOrEqual(before);
      expect(stored.updatedAt.getTime()).toBeLessThanOrEqual(Date.now());
      expect(await stores.learners.get(learnerA)).toEqual(stored);
    });

    it('upsert keeps the key and updates name, email and run', async () => {
      await stores.learners.upsert({ ...learnerA, name: 'Ana', email: null, run: null, runSource: null });
      const updated = await stores.learners.upsert({
        ...learnerA,
        name: 'Ana Pérez Soto',
        email: 'ana@example.cl',
        run: '12345678-5',
        runSource: 'typed',
      });
      expect(updated).toMatchObject({ ...learnerA, name: 'Ana Pérez Soto', email: 'ana@example.cl', run: '12345678-5', runSource: 'typed' });
      expect(await stores.learners.get(learnerA)).toEqual(updated);
    });

    it('keeps learners with the same sub on other platforms apart, and unknown ones are null', async () => {
      await stores.learners.upsert({ ...learnerA, name: 'A', email: null, run: null, runSource: null });
      await stores.learners.upsert({ ...learnerAElsewhere, name: 'A elsewhere', email: null, run: null, runSource: null });
      expect((await stores.learners.get(learnerA))?.name).toBe('A');
      expect((await stores.learners.get(learnerAElsewhere))?.name).toBe('A elsewhere');
      expect(await stores.learners.get(learnerB)).toBeNull();
      expect(await stores.learners.get({ ...learnerA, clientId: 'other-client' })).toBeNull();
    });

    it('getMany reads the learners of one platform by sub: unknown subs absent, other platforms never mixed in', async () => {
      const a = await stores.learners.upsert({ ...learnerA, name: 'Ana', email: 'ana@example.cl', run: '12345678-5', runSource: 'custom' });
      const b = await stores.learners.upsert({ ...learnerB, name: 'Bruno', email: null, run: null, runSource: null });
      await stores.learners.upsert({ ...learnerAElsewhere, name: 'Ana en Canvas', email: null, run: null, runSource: null });
      const platform = { issuer: learnerA.issuer, clientId: learnerA.clientId };
      const found = await stores.learners.getMany(platform, ['user-a', 'user-b', 'nobody', 'user-a']);
      expect([...found.keys()].sort()).toEqual(['user-a', 'user-b']);
      expect(found.get('user-a')).toEqual(a);
      expect(found.get('user-b')).toEqual(b);
      expect((await stores.learners.getMany({ issuer: learnerAElsewhere.issuer, clientId: 'client-1' }, ['user-a'])).get('user-a')?.name).toBe('Ana en Canvas');
      expect((await stores.learners.getMany({ ...platform, clientId: 'other-client' }, ['user-a', 'user-b'])).size).toBe(0);
      expect((await stores.learners.getMany(platform, [])).size).toBe(0);
    });

    it('getMany finds every learner of a large course: 500 subs (one query) and 501 (two)', async () => {
      const platform = { issuer: learnerA.issuer, clientId: learnerA.clientId };
      const subs = Array.from({ length: 501 }, (_, i) => `learner-${String(i).padStart(4, '0')}`);
      for (const sub of subs) await stores.learners.upsert({ ...platform, sub, name: `Nombre ${sub}`, email: null, run: null, runSource: null });
      const first500 = await stores.learners.getMany(platform, subs.slice(0, 500));
      expect(first500.size).toBe(500);
      expect(first500.has('learner-0500')).toBe(false);
      const all = await stores.learners.getMany(platform, subs);
      expect(all.size).toBe(501);
      expect(all.get('learner-0000')?.name).toBe('Nombre learner-0000');
      expect(all.get('learner-0500')?.name).toBe('Nombre learner-0500');
    });
  });

  describe('CourseStore', () => {
    it('touch inserts a new course without settings', async () => {
      const course = await stores.courses.touch(courseX, 'Excel básico');
      expect(course).toEqual({ ...courseX, title: 'Excel básico', settings: null, updatedAt: expect.any(Date) });
      expect(await stores.courses.get(courseX)).toEqual(course);
      expect(await stores.courses.get(courseY)).toBeNull();
    });

    it('touch updates the title and keeps the settings', async () => {
      await stores.courses.touch(courseX, 'Excel');
      await stores.courses.saveSettings(courseX, settings);
      const touched = await stores.courses.touch(courseX, 'Excel avanzado');
      expect(touched.title).toBe('Excel avanzado');
      expect(touched.settings).toEqual(settings);
      expect(await stores.courses.get(courseX)).toEqual(touched);
    });

    it('saveSettings round-trips the settings exactly and replaces older ones', async () => {
      await stores.courses.touch(courseX, 'Excel');
      await stores.courses.saveSettings(courseX, settings);
      const line3: CourseSettings = { ...settings, lineaCapacitacion: 3, codSence: '1234567890', environment: 'production' };
      const saved = await stores.courses.saveSettings(courseX, line3);
      expect(saved).toEqual({ ...courseX, title: 'Excel', settings: line3, updatedAt: expect.any(Date) });
      expect((await stores.courses.get(courseX))?.settings).toEqual(line3);
    });

    it('saveSettings on a course never launched stores it with no title', async () => {
      const saved = await stores.courses.saveSettings(courseY, settings);
      expect(saved).toEqual({ ...courseY, title: null, settings, updatedAt: expect.any(Date) });
      expect(await stores.courses.get(courseX)).toBeNull();
    });
  });

  describe('CourseStore.listByOtec', () => {
    it('lists the courses whose settings use an OTEC', async () => {
      await stores.courses.saveSettings(courseX, { ...settings, otecId: 'otec-1' });
      await stores.courses.saveSettings(courseY, { ...settings, otecId: 'otec-2' });
      await stores.courses.touch({ ...courseX, contextId: 'no-settings' }, 'Sin configurar');
      expect((await stores.courses.listByOtec('otec-1')).map((c) => c.contextId)).toEqual([courseX.contextId]);
      expect(await stores.courses.listByOtec('otec-3')).toEqual([]);
    });
  });

  describe('RegistrationInviteStore', () => {
    const MAX = 3;
    const invite = (codeHash: string, expiresAt: Date) => ({ codeHash, name: 'Moodle OTEC', createdAt: T0, expiresAt, usedAt: null, platform: null, failedAttempts: 0 });
    it('consumes an invitation once, only before it expires, and can release it after a failed registration', async () => {
      await stores.invites.create(invite('h1', at(HOUR)));
      await stores.invites.create(invite('h2', at(MINUTE)));
      expect(await stores.invites.get('h1')).toEqual(invite('h1', at(HOUR)));
      expect(await stores.invites.consume('h1', at(1000), MAX)).toMatchObject({ codeHash: 'h1', usedAt: at(1000) });
      expect(await stores.invites.consume('h1', at(2000), MAX)).toBeNull();
      await stores.invites.release('h1', MAX);
      expect(await stores.invites.consume('h1', at(3000), MAX)).toMatchObject({ usedAt: at(3000) });
      await stores.invites.setPlatform('h1', { issuer: 'https://moodle.cl', clientId: 'X' });
      await stores.invites.release('h1', MAX); // a used invitation that registered a platform stays used
      expect(await stores.invites.get('h1')).toMatchObject({ usedAt: at(3000), platform: { issuer: 'https://moodle.cl', clientId: 'X' } });
      expect(await stores.invites.consume('h2', at(MINUTE), MAX)).toBeNull(); // expired exactly now
      expect(await stores.invites.consume('nope', at(0), MAX)).toBeNull();
      expect((await stores.invites.list()).map((i) => i.codeHash).sort()).toEqual(['h1', 'h2']);
    });

    it('counts attempts atomically: each use is charged, a success gives it back, the 3rd failure spends the invitation (issue #19 §3)', async () => {
      await stores.invites.create(invite('f1', at(HOUR)));
      // Fresh uses: two failures leave it usable; the third use is the last.
      for (const n of [1, 2]) {
        expect(await stores.invites.consume('f1', at(1000), MAX)).toMatchObject({ failedAttempts: n });
        await stores.invites.release('f1', MAX);
        expect(await stores.invites.get('f1')).toMatchObject({ usedAt: null, failedAttempts: n });
      }
      expect(await stores.invites.consume('f1', at(1000), MAX)).toMatchObject({ failedAttempts: 3 });
      await stores.invites.release('f1', MAX); // the 3rd failure: spent
      expect(await stores.invites.get('f1')).toMatchObject({ usedAt: at(1000), failedAttempts: 3, platform: null });
      expect(await stores.invites.consume('f1', at(2000), MAX)).toBeNull();
      expect(await stores.invites.claimUpdate('f1', at(2000), MAX)).toBeNull(); // no platform: nothing to update

      // Ten concurrent fresh uses of one invitation: exactly one gets it.
      await stores.invites.create(invite('f2', at(HOUR)));
      const fresh = await Promise.all(Array.from({ length: 10 }, () => stores.invites.consume('f2', at(1000), MAX)));
      expect(fresh.filter(Boolean)).toHaveLength(1);
      await stores.invites.setPlatform('f2', { issuer: 'https://moodle.cl', clientId: 'Y' });
      expect(await stores.invites.get('f2')).toMatchObject({ failedAttempts: 0, platform: { issuer: 'https://moodle.cl', clientId: 'Y' } });

      // Ten concurrent updates: at most MAX are charged (a store may refuse those that find it in use), never more.
      const updates = (await Promise.all(Array.from({ length: 10 }, () => stores.invites.claimUpdate('f2', at(2000), MAX)))).filter(Boolean);
      expect(updates.length).toBeGreaterThanOrEqual(1);
      expect(updates.length).toBeLessThanOrEqual(MAX);
      expect(await stores.invites.get('f2')).toMatchObject({ failedAttempts: updates.length });
      while ((await stores.invites.get('f2'))!.failedAttempts < MAX) expect(await stores.invites.claimUpdate('f2', at(2000), MAX)).not.toBeNull();
      expect(await stores.invites.claimUpdate('f2', at(2000), MAX)).toBeNull();
      await stores.invites.setPlatform('f2', { issuer: 'https://moodle.cl', clientId: 'Y' }); // one succeeded: its attempt back
      expect(await stores.invites.claimUpdate('f2', at(2000), MAX)).toMatchObject({ failedAttempts: MAX });
      // An update is refused once the invitation expired, exactly at its expiry.
      await stores.invites.setPlatform('f2', { issuer: 'https://moodle.cl', clientId: 'Y' });
      expect(await stores.invites.claimUpdate('f2', at(HOUR - 1), MAX)).not.toBeNull();
      await stores.invites.setPlatform('f2', { issuer: 'https://moodle.cl', clientId: 'Y' });
      expect(await stores.invites.claimUpdate('f2', at(HOUR), MAX)).toBeNull();
    });
  });

  describe('OtecStore', () => {
    it('saves, reads and lists OTECs sorted by name, with exact dates', async () => {
      const b = newOtec({ name: 'Beta Capacitación' });
      const a = newOtec({ name: 'Alfa Capacitación' });
      expect(await stores.otecs.save(b)).toEqual(b);
      await stores.otecs.save(a);
      expect(await stores.otecs.get(b.id)).toEqual(b);
      expect(await stores.otecs.list()).toEqual([a, b]);
      expect(await stores.otecs.get('no-such-otec')).toBeNull();
    });

    it('save replaces by id', async () => {
      const original = newOtec();
      await stores.otecs.save(original);
      const replaced: Otec = { ...original, name: 'Nuevo nombre', tokenSealed: 'v1.other', tokenHint: 'ZZ99', updatedAt: at(MINUTE) };
      expect(await stores.otecs.save(replaced)).toEqual(replaced);
      expect(await stores.otecs.get(original.id)).toEqual(replaced);
      expect(await stores.otecs.list()).toEqual([replaced]);
    });

    it('keeps the platforms an OTEC is linked to (issue #7), null for a legacy OTEC, and removes by id', async () => {
      const linked = newOtec({ platforms: [{ issuer: 'https://a.cl', clientId: '1' }, { issuer: 'https://b.cl', clientId: '2' }] });
      const legacy = newOtec({ rut: '77000000-0', platforms: null });
      const none = newOtec({ rut: '78000000-0', platforms: [] });
      for (const o of [linked, legacy, none]) await stores.otecs.save(o);
      expect(await stores.otecs.get(linked.id)).toEqual(linked);
      expect((await stores.otecs.get(legacy.id))?.platforms).toBeNull();
      expect((await stores.otecs.get(none.id))?.platforms).toEqual([]);
      expect(await stores.otecs.remove(legacy.id)).toBe(true);
      expect(await stores.otecs.remove(legacy.id)).toBe(false);
      expect(await stores.otecs.get(legacy.id)).toBeNull();
      expect((await stores.otecs.list()).map((o) => o.id).sort()).toEqual([linked.id, none.id].sort());
    });

    it('lists nothing when there are none', async () => {
      expect(await stores.otecs.list()).toEqual([]);
    });
  });

  describe('AttendanceStore: sessions', () => {
    it('creates a session and reads every field back exactly (dates, JSON, nulls)', async () => {
      const session = newSession({
        idSesionSence: 'SENCE-123',
        senceStartFechaHora: '2025-03-04 09:34:56',
        senceZonaHoraria: 'America/Santiago',
        openedAt: at(1),
        closeRequestedAt: at(2),
        endedAt: null,
        accreditedSeconds: 0,
        lastErrorCodes: ['211', '204'],
        endReason: 'motivo con tildes: sesión',
        version: 3,
      });
      const result = await stores.attendance.createSessionIfNoneActive(session);
      expect(result).toEqual({ created: true, session });
      expect(await stores.attendance.getSession(session.id)).toEqual(session);
      expect(await stores.attendance.getSession('no-such-session')).toBeNull();
    });

    it('a second create for the same learner and course returns the existing active session', async () => {
      const first = await created(stores, newSession());
      const second = await stores.attendance.createSessionIfNoneActive(newSession());
      expect(second).toEqual({ created: false, existing: first });
      expect(await stores.attendance.listSessions(learnerA, courseX)).toEqual([first]);
    });

    it('two parallel creates (a double click) create exactly one session', async () => {
      const results = await Promise.all([
        stores.attendance.createSessionIfNoneActive(newSession()),
        stores.attendance.createSessionIfNoneActive(newSession()),
        stores.attendance.createSessionIfNoneActive(newSession()),
      ]);
      const made = results.filter((r) => r.created);
      expect(made).toHaveLength(1);
      const winner = made[0]!.created ? made[0]!.session : null;
      for (const r of results) {
        if (!r.created) expect(r.existing).toEqual(winner);
      }
      expect(await stores.attendance.listSessions(learnerA, courseX)).toHaveLength(1);
    });

    it('each active state blocks a new session; after it ends a new one may start', async () => {
      const first = await created(stores, newSession());
      const opened = await stores.attendance.updateSession({ ...first, state: 'open', openedAt: at(1) }, first.version);
      expect(opened?.state).toBe('open');
      expect((await stores.attendance.createSessionIfNoneActive(newSession())).created).toBe(false);
      const closing = await stores.attendance.updateSession({ ...opened!, state: 'closing', closeRequestedAt: at(2) }, opened!.version);
      expect((await stores.attendance.createSessionIfNoneActive(newSession())).created).toBe(false);
      await stores.attendance.updateSession({ ...closing!, state: 'closed', endedAt: at(3), accreditedSeconds: 3 }, closing!.version);

      const second = await stores.attendance.createSessionIfNoneActive(newSession({ createdAt: at(MINUTE) }));
      expect(second.created).toBe(true);
      expect(await stores.attendance.findActiveSession(learnerA, courseX)).toEqual(second.created ? second.session : null);
    });

    it('a session of another learner or course does not block, and is not found for them', async () => {
      await created(stores, newSession());
      await created(stores, newSession({ learner: learnerB }));
      await created(stores, newSession({ course: courseY }));
      await created(stores, newSession({ learner: learnerAElsewhere, course: { ...courseX, issuer: learnerAElsewhere.issuer } }));
      const activeA = await stores.attendance.findActiveSession(learnerA, courseX);
      const activeB = await stores.attendance.findActiveSession(learnerB, courseX);
      expect(activeA?.learner).toEqual(learnerA);
      expect(activeB?.learner).toEqual(learnerB);
      expect(activeA?.id).not.toBe(activeB?.id);
      expect(await stores.attendance.findActiveSession(learnerB, courseY)).toBeNull();
    });

    it('findActiveSession ignores ended sessions', async () => {
      const s = await created(stores, newSession());
      expect(await stores.attendance.findActiveSession(learnerA, courseX)).toEqual(s);
      await stores.attendance.updateSession({ ...s, state: 'start-failed', endedAt: at(1), lastErrorCodes: ['211'] }, s.version);
      expect(await stores.attendance.findActiveSession(learnerA, courseX)).toBeNull();
    });

    it('updateSession writes the next state, stores version + 1 and returns what is stored', async () => {
      const s = await created(stores, newSession());
      const next: AttendanceSession = {
        ...s,
        state: 'open',
        idSesionSence: 'SENCE-9',
        senceStartFechaHora: '2025-03-04 09:35:00',
        senceZonaHoraria: 'America/Santiago',
        openedAt: at(4321),
        lastErrorCodes: ['100'],
      };
      const updated = await stores.attendance.updateSession(next, s.version);
      expect(updated).toEqual({ ...next, version: s.version + 1 });
      expect(await stores.attendance.getSession(s.id)).toEqual(updated);
    });

    it('updateSession with a stale version returns null and changes nothing', async () => {
      const s = await created(stores, newSession());
      const winner = await stores.attendance.updateSession({ ...s, state: 'open', openedAt: at(1) }, s.version);
      expect(winner).not.toBeNull();
      const loser = await stores.attendance.updateSession({ ...s, state: 'abandoned', endedAt: at(2), endReason: 'x' }, s.version);
      expect(loser).toBeNull();
      expect(await stores.attendance.getSession(s.id)).toEqual(winner);
      expect(await stores.attendance.updateSession({ ...s, id: 'no-such-session' }, s.version)).toBeNull();
    });

    it('parallel updates from the same version: exactly one wins', async () => {
      const s = await created(stores, newSession());
      const results = await Promise.all([
        stores.attendance.updateSession({ ...s, state: 'open', openedAt: at(1) }, s.version),
        stores.attendance.updateSession({ ...s, state: 'abandoned', endedAt: at(1) }, s.version),
      ]);
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      expect((await stores.attendance.getSession(s.id))?.version).toBe(s.version + 1);
    });

    it('refuses a second session with an id already stored, and an update into a second active session', async () => {
      const first = await created(stores, newSession());
      const ended = await stores.attendance.updateSession({ ...first, state: 'abandoned', endedAt: at(1) }, first.version);
      await expectRejection(stores.attendance.createSessionIfNoneActive(newSession({ id: first.id })));

      const current = await created(stores, newSession());
      // Reviving the ended session while another is active would break "one active session".
      await expectRejection(stores.attendance.updateSession({ ...ended!, state: 'open' }, ended!.version));
      expect(await stores.attendance.findActiveSession(learnerA, courseX)).toEqual(current);
      expect(await stores.attendance.getSession(first.id)).toEqual(ended);
    });

    it('lists sessions of a learner in a course and of a whole course, newest first', async () => {
      const old = await created(stores, newSession({ createdAt: at(0) }));
      await stores.attendance.updateSession({ ...old, state: 'closed', endedAt: at(10) }, old.version);
      const recent = await created(stores, newSession({ createdAt: at(MINUTE) }));
      const otherLearner = await created(stores, newSession({ learner: learnerB, createdAt: at(30_000) }));
      await created(stores, newSession({ course: courseY, createdAt: at(2 * MINUTE) }));

      const mine = await stores.attendance.listSessions(learnerA, courseX);
      expect(mine.map((s) => s.id)).toEqual([recent.id, old.id]);
      expect(mine[1]?.state).toBe('closed');
      expect(await stores.attendance.listSessions(learnerB, courseY)).toEqual([]);
      expect(await stores.attendance.listSessions(learnerAElsewhere, courseX)).toEqual([]);

      const course = await stores.attendance.listCourseSessions(courseX);
      expect(course.map((s) => s.id)).toEqual([recent.id, otherLearner.id, old.id]);
      expect(await stores.attendance.listCourseSessions({ ...courseX, contextId: 'empty' })).toEqual([]);
    });

    it('lists sessions in given states, oldest first, at most limit', async () => {
      const s1 = await created(stores, newSession({ learner: { ...learnerA, sub: 'u1' }, createdAt: at(3000) }));
      const s2 = await created(stores, newSession({ learner: { ...learnerA, sub: 'u2' }, createdAt: at(1000) }));
      const s3 = await created(stores, newSession({ learner: { ...learnerA, sub: 'u3' }, createdAt: at(2000) }));
      await stores.attendance.updateSession({ ...s3, state: 'open', openedAt: at(2500) }, s3.version);
      const s4 = await created(stores, newSession({ learner: { ...learnerA, sub: 'u4' }, createdAt: at(0) }));
      await stores.attendance.updateSession({ ...s4, state: 'closed', endedAt: at(10) }, s4.version);

      const starting = await stores.attendance.listSessionsInStates(['starting'], 10);
      expect(starting.map((s) => s.id)).toEqual([s2.id, s1.id]);
      const active = await stores.attendance.listSessionsInStates(['starting', 'open'], 10);
      expect(active.map((s) => s.id)).toEqual([s2.id, s3.id, s1.id]);
      expect((await stores.attendance.listSessionsInStates(['starting', 'open'], 2)).map((s) => s.id)).toEqual([s2.id, s3.id]);
      expect(await stores.attendance.listSessionsInStates(['expired'], 10)).toEqual([]);
      expect(await stores.attendance.listSessionsInStates([], 10)).toEqual([]);
    });
  });

  describe('AttendanceStore: callback attempts', () => {
    it('creates an attempt and reads it back exactly', async () => {
      const attempt = newAttempt('ses-1', { usedAt: null });
      await stores.attendance.createAttempt(attempt);
      expect(await stores.attendance.getAttempt(attempt.id)).toEqual(attempt);
      expect(await stores.attendance.getAttempt('no-such-attempt')).toBeNull();
    });

    it('markAttemptUsed is true once, then false (replay); unknown ids are false', async () => {
      const attempt = newAttempt('ses-1');
      await stores.attendance.createAttempt(attempt);
      expect(await stores.attendance.markAttemptUsed(attempt.id, at(5))).toBe(true);
      expect(await stores.attendance.markAttemptUsed(attempt.id, at(6))).toBe(false);
      expect(await stores.attendance.getAttempt(attempt.id)).toEqual({ ...attempt, usedAt: at(5) });
      expect(await stores.attendance.markAttemptUsed('no-such-attempt', at(5))).toBe(false);
    });

    it('releaseAttempt undoes the use made at that time only, so the callback can be taken again', async () => {
      const attempt = newAttempt('ses-1');
      await stores.attendance.createAttempt(attempt);
      expect(await stores.attendance.markAttemptUsed(attempt.id, at(5))).toBe(true);
      expect(await stores.attendance.releaseAttempt(attempt.id, at(6))).toBe(false);
      expect((await stores.attendance.getAttempt(attempt.id))?.usedAt).toEqual(at(5));
      expect(await stores.attendance.releaseAttempt(attempt.id, at(5))).toBe(true);
      expect((await stores.attendance.getAttempt(attempt.id))?.usedAt).toBeNull();
      expect(await stores.attendance.markAttemptUsed(attempt.id, at(7))).toBe(true);
      expect(await stores.attendance.releaseAttempt('no-such-attempt', at(7))).toBe(false);
    });

    it('parallel markAttemptUsed: exactly one wins', async () => {
      const attempt = newAttempt('ses-1');
      await stores.attendance.createAttempt(attempt);
      const results = await Promise.all([1, 2, 3].map((n) => stores.attendance.markAttemptUsed(attempt.id, at(n))));
      expect(results.filter(Boolean)).toHaveLength(1);
    });

    it('findOpenAttempt returns the latest unused, unexpired attempt of that session and phase', async () => {
      const older = newAttempt('ses-1', { createdAt: at(0) });
      const latest = newAttempt('ses-1', { createdAt: at(1000) });
      const used = newAttempt('ses-1', { createdAt: at(2000) });
      const expired = newAttempt('ses-1', { createdAt: at(3000), expiresAt: at(3400) });
      const closePhase = newAttempt('ses-1', { createdAt: at(5000), phase: 'close' });
      const otherSession = newAttempt('ses-2', { createdAt: at(6000) });
      for (const a of [older, latest, used, expired, closePhase, otherSession]) await stores.attendance.createAttempt(a);
      await stores.attendance.markAttemptUsed(used.id, at(2500));

      expect(await stores.attendance.findOpenAttempt('ses-1', 'start', at(3500))).toEqual(latest);
      expect(await stores.attendance.findOpenAttempt('ses-1', 'close', at(3500))).toEqual(closePhase);
      expect(await stores.attendance.findOpenAttempt('ses-3', 'start', at(3500))).toBeNull();
      // expiresAt is exclusive: at the instant of expiry the attempt is no longer open
      expect(await stores.attendance.findOpenAttempt('ses-1', 'start', at(30 * MINUTE))).toBeNull();

      await stores.attendance.markAttemptUsed(latest.id, at(3600));
      expect(await stores.attendance.findOpenAttempt('ses-1', 'start', at(3700))).toEqual(older);
    });

    it('createAttemptUnlessOpen stores the attempt only when none is open, and returns the open one', async () => {
      const first = newAttempt('ses-1', { id: 'att-first', phase: 'start', createdAt: at(0), expiresAt: at(1000) });
      expect(await stores.attendance.createAttemptUnlessOpen(first, at(0))).toEqual(first);
      const second = newAttempt('ses-1', { id: 'att-second', phase: 'start', createdAt: at(10), expiresAt: at(2000) });
      expect(await stores.attendance.createAttemptUnlessOpen(second, at(10))).toEqual(first);
      expect(await stores.attendance.getAttempt('att-second')).toBeNull();
      // Another phase, or the open one expired at `now` (exactly at expiresAt): a new one is stored.
      const close = newAttempt('ses-1', { id: 'att-close', phase: 'close', createdAt: at(20), expiresAt: at(2000) });
      expect(await stores.attendance.createAttemptUnlessOpen(close, at(20))).toEqual(close);
      const later = newAttempt('ses-1', { id: 'att-later', phase: 'start', createdAt: at(1000), expiresAt: at(3000) });
      expect(await stores.attendance.createAttemptUnlessOpen(later, at(1000))).toEqual(later);
    });

    it('parallel createAttemptUnlessOpen for one session and phase: one attempt stored, every caller gets it', async () => {
      const candidates = [1, 2, 3, 4].map((n) => newAttempt('ses-1', { id: `att-par-${n}`, phase: 'start', createdAt: at(n), expiresAt: at(MINUTE) }));
      const results = await Promise.all(candidates.map((a) => stores.attendance.createAttemptUnlessOpen(a, at(5))));
      expect(new Set(results.map((r) => r.id)).size).toBe(1);
      const stored = await Promise.all(candidates.map((a) => stores.attendance.getAttempt(a.id)));
      expect(stored.filter((a) => a !== null)).toHaveLength(1);
    });

    it('findOpenAttempt ignores an expired attempt even when it is the only one', async () => {
      const attempt = newAttempt('ses-1', { expiresAt: at(1000) });
      await stores.attendance.createAttempt(attempt);
      expect(await stores.attendance.findOpenAttempt('ses-1', 'start', at(999))).toEqual(attempt);
      expect(await stores.attendance.findOpenAttempt('ses-1', 'start', at(1000))).toBeNull();
    });
  });

  describe('AttendanceStore: recordCallback (an accepted SENCE callback)', () => {
    async function startedSession(): Promise<{ session: AttendanceSession; attempt: CallbackAttempt }> {
      const created = await stores.attendance.createSessionIfNoneActive(newSession());
      if (!created.created) throw new Error('expected a new session');
      const attempt = newAttempt(created.session.id);
      await stores.attendance.createAttempt(attempt);
      return { session: created.session, attempt };
    }

    function opened(session: AttendanceSession): AttendanceSession {
      return { ...session, state: 'open', idSesionSence: 'SENCE-1', openedAt: at(MINUTE), senceStartFechaHora: '2025-03-04 10:00:00', senceZonaHoraria: 'America/Santiago' };
    }

    function answerFor(attempt: CallbackAttempt): SenceAnswer {
      return {
        id: nextId('ans'),
        sessionId: attempt.sessionId,
        attemptId: attempt.id,
        phase: 'start',
        outcome: 'success',
        errorCodes: [],
        payload: { IdSesionSence: 'SENCE-1', FechaHora: '2025-03-04 10:00:00' },
        receivedAt: at(MINUTE),
      };
    }

    it('marks the attempt used, writes the session (version + 1) and keeps the answer', async () => {
      const { session, attempt } = await startedSession();
      const answer = answerFor(attempt);
      const outcome = await stores.attendance.recordCallback({ attemptId: attempt.id, usedAt: at(MINUTE), next: opened(session), expectedVersion: session.version, answer });
      expect(outcome).toEqual({ ok: true, session: { ...opened(session), version: session.version + 1 } });
      expect(await stores.attendance.getSession(session.id)).toEqual({ ...opened(session), version: session.version + 1 });
      expect((await stores.attendance.getAttempt(attempt.id))?.usedAt).toEqual(at(MINUTE));
      expect(await stores.attendance.listAnswers(session.id)).toEqual([answer]);
    });

    it('the same callback again: attempt-used, and nothing more is written', async () => {
      const { session, attempt } = await startedSession();
      const first = await stores.attendance.recordCallback({ attemptId: attempt.id, usedAt: at(MINUTE), next: opened(session), expectedVersion: session.version, answer: answerFor(attempt) });
      expect(first.ok).toBe(true);
      const again = await stores.attendance.recordCallback({ attemptId: attempt.id, usedAt: at(2 * MINUTE), next: opened(session), expectedVersion: session.version + 1, answer: answerFor(attempt) });
      expect(again).toEqual({ ok: false, conflict: 'attempt-used' });
      expect(await stores.attendance.listAnswers(session.id)).toHaveLength(1);
      expect((await stores.attendance.getSession(session.id))?.version).toBe(session.version + 1);
      expect((await stores.attendance.getAttempt(attempt.id))?.usedAt).toEqual(at(MINUTE));
    });

    it('the session changed since it was read: session-changed, the attempt stays used, no answer, the session as the other writer left it', async () => {
      const { session, attempt } = await startedSession();
      const swept = await stores.attendance.updateSession({ ...session, state: 'abandoned', endedAt: at(30), endReason: 'sweep' }, session.version);
      expect(swept).not.toBeNull();
      const outcome = await stores.attendance.recordCallback({ attemptId: attempt.id, usedAt: at(MINUTE), next: opened(session), expectedVersion: session.version, answer: answerFor(attempt) });
      expect(outcome).toEqual({ ok: false, conflict: 'session-changed' });
      expect(await stores.attendance.getSession(session.id)).toEqual(swept);
      expect(await stores.attendance.listAnswers(session.id)).toEqual([]);
      expect((await stores.attendance.getAttempt(attempt.id))?.usedAt).toEqual(at(MINUTE));
    });

    it('an unknown attempt: attempt-used, nothing written', async () => {
      const { session } = await startedSession();
      const outcome = await stores.attendance.recordCallback({ attemptId: 'no-such-attempt', usedAt: at(MINUTE), next: opened(session), expectedVersion: session.version, answer: answerFor(newAttempt(session.id)) });
      expect(outcome).toEqual({ ok: false, conflict: 'attempt-used' });
      expect(await stores.attendance.getSession(session.id)).toEqual(session);
      expect(await stores.attendance.listAnswers(session.id)).toEqual([]);
    });

    it('the same callback posted five times at once: exactly one is recorded', async () => {
      const { session, attempt } = await startedSession();
      const outcomes = await Promise.all(
        [1, 2, 3, 4, 5].map((n) =>
          stores.attendance.recordCallback({ attemptId: attempt.id, usedAt: at(MINUTE + n), next: opened(session), expectedVersion: session.version, answer: answerFor(attempt) }),
        ),
      );
      expect(outcomes.filter((o) => o.ok)).toHaveLength(1);
      expect(outcomes.filter((o) => !o.ok).map((o) => !o.ok && o.conflict)).toEqual(['attempt-used', 'attempt-used', 'attempt-used', 'attempt-used']);
      expect(await stores.attendance.listAnswers(session.id)).toHaveLength(1);
      expect((await stores.attendance.getSession(session.id))?.version).toBe(session.version + 1);
    });

    // Issue #19 §4: whatever moment the store stops, the genuine callback posted again is taken once.
    it('the store stops right after the callback was recorded (its attempt not yet marked): the attempt counts as used, is no longer open, a repost is attempt-used', async () => {
      const { session, attempt } = await startedSession();
      // MongoDB marks the attempt in a write of its own after the session's: make every attempt
      // write fail from then on, as a crash would. SQLite writes both in one transaction.
      const internals = stores.attendance as unknown as { attempts?: { updateOne: (...args: unknown[]) => unknown } };
      const attemptsModel = internals.attempts;
      const updateOne = attemptsModel?.updateOne;
      if (attemptsModel) attemptsModel.updateOne = () => ({ exec: () => Promise.reject(new Error('connection closed')) });
      let outcome;
      try {
        outcome = await stores.attendance.recordCallback({ attemptId: attempt.id, usedAt: at(MINUTE), next: opened(session), expectedVersion: session.version, answer: answerFor(attempt) });
      } finally {
        if (attemptsModel && updateOne) attemptsModel.updateOne = updateOne;
      }
      expect(outcome.ok).toBe(true);
      expect((await stores.attendance.getAttempt(attempt.id))?.usedAt).toEqual(at(MINUTE));
      expect(await stores.attendance.findOpenAttempt(session.id, 'start', at(2 * MINUTE))).toBeNull();
      const again = await stores.attendance.recordCallback({ attemptId: attempt.id, usedAt: at(2 * MINUTE), next: opened(session), expectedVersion: session.version + 1, answer: answerFor(attempt) });
      expect(again).toEqual({ ok: false, conflict: 'attempt-used' });
      expect(await stores.attendance.listAnswers(session.id)).toHaveLength(1);
      expect((await stores.attendance.getSession(session.id))?.version).toBe(session.version + 1);
    });

    it('the store stops before the callback was recorded: nothing is kept, and the same callback posted again is recorded once', async () => {
      const { session, attempt } = await startedSession();
      // The write that would record it fails, as a crash would: MongoDB's session update (its commit
      // point), SQLite's answer insert (inside the callback's transaction).
      const store = stores.attendance as unknown as {
        sessions?: { findOneAndUpdate: (...args: unknown[]) => unknown };
        insertAnswer?: (...args: unknown[]) => unknown;
      };
      const sessionsModel = store.sessions;
      const findOneAndUpdate = sessionsModel?.findOneAndUpdate;
      const insertAnswer = store.insertAnswer;
      if (sessionsModel) sessionsModel.findOneAndUpdate = () => ({ lean: () => ({ exec: () => Promise.reject(new Error('connection closed')) }) });
      else store.insertAnswer = () => {
        throw new Error('disk I/O error');
      };
      try {
        await expect(
          stores.attendance.recordCallback({ attemptId: attempt.id, usedAt: at(MINUTE), next: opened(session), expectedVersion: session.version, answer: answerFor(attempt) }),
        ).rejects.toThrow();
      } finally {
        if (sessionsModel && findOneAndUpdate) sessionsModel.findOneAndUpdate = findOneAndUpdate;
        else store.insertAnswer = insertAnswer;
      }
      expect(await stores.attendance.getSession(session.id)).toEqual(session);
      expect(await stores.attendance.listAnswers(session.id)).toEqual([]);
      expect((await stores.attendance.getAttempt(attempt.id))?.usedAt).toBeNull();
      expect(await stores.attendance.findOpenAttempt(session.id, 'start', at(2 * MINUTE))).toEqual(attempt);
      const again = await stores.attendance.recordCallback({ attemptId: attempt.id, usedAt: at(2 * MINUTE), next: opened(session), expectedVersion: session.version, answer: answerFor(attempt) });
      expect(again).toEqual({ ok: true, session: { ...opened(session), version: session.version + 1 } });
      expect((await stores.attendance.listAnswers(session.id)).map((a) => a.attemptId)).toEqual([attempt.id]);
      const replay = await stores.attendance.recordCallback({ attemptId: attempt.id, usedAt: at(3 * MINUTE), next: opened(session), expectedVersion: session.version + 1, answer: answerFor(attempt) });
      expect(replay).toEqual({ ok: false, conflict: 'attempt-used' });
    });

    it('callbacks of many sessions at once are each recorded, with their own answer', async () => {
      const started = [];
      for (let i = 0; i < 12; i += 1) {
        const created = await stores.attendance.createSessionIfNoneActive(newSession({ learner: { ...learnerA, sub: `many-${i}` } }));
        if (!created.created) throw new Error('expected a new session');
        const attempt = newAttempt(created.session.id);
        await stores.attendance.createAttempt(attempt);
        started.push({ session: created.session, attempt });
      }
      const outcomes = await Promise.all(
        started.map(({ session, attempt }) => stores.attendance.recordCallback({ attemptId: attempt.id, usedAt: at(MINUTE), next: opened(session), expectedVersion: session.version, answer: answerFor(attempt) })),
      );
      expect(outcomes.every((o) => o.ok)).toBe(true);
      for (const { session, attempt } of started) {
        expect((await stores.attendance.getSession(session.id))?.state).toBe('open');
        expect((await stores.attendance.listAnswers(session.id)).map((a) => a.attemptId)).toEqual([attempt.id]);
      }
    });
  });

  describe('AttendanceStore: SENCE answers', () => {
    it('saves answers and lists those of a session in arrival order, payload exact', async () => {
      const start: SenceAnswer = {
        id: nextId('ans'),
        sessionId: 'ses-1',
        attemptId: 'att-1',
        phase: 'start',
        outcome: 'success',
        errorCodes: [],
        payload: { CodSence: '', IdSesionSence: 'S-1', FechaHora: '2025-03-04 09:34:56', GlosaError: 'ñandú "quoted" <b>' },
        receivedAt: at(0),
      };
      const close: SenceAnswer = {
        ...start,
        id: nextId('ans'),
        attemptId: 'att-2',
        phase: 'close',
        outcome: 'error',
        errorCodes: ['211', '204'],
        payload: { GlosaError: '211;204' },
        receivedAt: at(MINUTE),
      };
      const other: SenceAnswer = { ...start, id: nextId('ans'), sessionId: 'ses-2', payload: {} };
      await stores.attendance.saveAnswer(close);
      await stores.attendance.saveAnswer(start);
      await stores.attendance.saveAnswer(other);
      expect(await stores.attendance.listAnswers('ses-1')).toEqual([start, close]);
      expect(await stores.attendance.listAnswers('ses-2')).toEqual([other]);
      expect(await stores.attendance.listAnswers('ses-3')).toEqual([]);
    });

    function answerOf(sessionId: string, originVerified: boolean | undefined): SenceAnswer {
      return {
        id: nextId('ans'),
        sessionId,
        attemptId: nextId('att'),
        phase: 'start',
        outcome: 'success',
        errorCodes: [],
        payload: {},
        receivedAt: at(0),
        ...(originVerified === undefined ? {} : { origin: originVerified ? 'https://sistemas.sence.cl' : 'https://otro.example', originVerified }),
      };
    }

    it('sessionsWithUnverifiedOrigin names the sessions with an answer of unverified origin, and only those', async () => {
      await stores.attendance.saveAnswer(answerOf('ses-verified', true));
      await stores.attendance.saveAnswer(answerOf('ses-mixed', true));
      await stores.attendance.saveAnswer(answerOf('ses-mixed', false));
      await stores.attendance.saveAnswer(answerOf('ses-unverified', false));
      await stores.attendance.saveAnswer(answerOf('ses-before-issue-7', undefined));
      const found = await stores.attendance.sessionsWithUnverifiedOrigin(['ses-verified', 'ses-mixed', 'ses-unverified', 'ses-before-issue-7', 'ses-none']);
      expect([...found].sort()).toEqual(['ses-mixed', 'ses-unverified']);
      // Only among the sessions asked about.
      expect([...(await stores.attendance.sessionsWithUnverifiedOrigin(['ses-verified', 'ses-unverified']))]).toEqual(['ses-unverified']);
      expect((await stores.attendance.sessionsWithUnverifiedOrigin([])).size).toBe(0);
    });

    it('sessionsWithUnverifiedOrigin over a large course: 500 sessions (one query) and 501 (two)', async () => {
      const ids = Array.from({ length: 501 }, (_, i) => `ses-big-${String(i).padStart(4, '0')}`);
      for (const [i, id] of ids.entries()) await stores.attendance.saveAnswer(answerOf(id, !(i === 0 || i === 500)));
      expect([...(await stores.attendance.sessionsWithUnverifiedOrigin(ids.slice(0, 500)))]).toEqual(['ses-big-0000']);
      expect([...(await stores.attendance.sessionsWithUnverifiedOrigin(ids))].sort()).toEqual(['ses-big-0000', 'ses-big-0500']);
    });

    it('sessionsWithUnverifiedOrigin counts an answer recorded with its callback even when it could not be filed on its own', async () => {
      const created = await stores.attendance.createSessionIfNoneActive(newSession());
      if (!created.created) throw new Error('expected a new session');
      const session = created.session;
      const attempt = newAttempt(session.id);
      await stores.attendance.createAttempt(attempt);
      const answer = { ...answerOf(session.id, false), attemptId: attempt.id };
      // MongoDB files the answer in a step of its own after the session write: make that step fail,
      // so the answer stays on the session document. SQLite writes it in the callback's transaction.
      const saveAnswer = stores.attendance.saveAnswer.bind(stores.attendance);
      stores.attendance.saveAnswer = () => Promise.reject(new Error('disk full'));
      try {
        const outcome = await stores.attendance.recordCallback({
          attemptId: attempt.id,
          usedAt: at(MINUTE),
          next: { ...session, state: 'open', idSesionSence: 'SENCE-1', openedAt: at(MINUTE) },
          expectedVersion: session.version,
          answer,
        });
        expect(outcome.ok).toBe(true);
      } finally {
        stores.attendance.saveAnswer = saveAnswer;
      }
      expect(await stores.attendance.listAnswers(session.id)).toEqual([answer]);
      expect([...(await stores.attendance.sessionsWithUnverifiedOrigin([session.id, 'ses-other']))]).toEqual([session.id]);
    });
  });

  describe('AuditLog', () => {
    it('lists newest first, filtered by course when given, at most limit', async () => {
      const e1 = newAudit({ at: at(0), course: courseX });
      const e2 = newAudit({ at: at(2000), course: courseY, event: 'settings-saved' });
      const e3 = newAudit({ at: at(1000), course: courseX, accepted: false, event: 'callback-rejected', reason: 'token' });
      const e4 = newAudit({ at: at(3000), course: null, learner: null, sessionId: null, sourceIp: null, event: 'launch-rejected' });
      for (const e of [e1, e2, e3, e4]) await stores.audit.record(e);

      expect(await stores.audit.list({ limit: 10 })).toEqual([e4, e2, e3, e1]);
      expect(await stores.audit.list({ limit: 2 })).toEqual([e4, e2]);
      expect(await stores.audit.list({ course: courseX, limit: 10 })).toEqual([e3, e1]);
      expect(await stores.audit.list({ course: courseX, limit: 1 })).toEqual([e3]);
      expect(await stores.audit.list({ course: { ...courseX, issuer: 'https://other' }, limit: 10 })).toEqual([]);
    });

    it('round-trips nested details exactly', async () => {
      const entry = newAudit({
        details: { codes: ['211', '204'], nested: { n: 1.5, flag: false, none: null }, text: 'sesión "x"' },
      });
      await stores.audit.record(entry);
      expect(await stores.audit.list({ limit: 1 })).toEqual([entry]);
    });

    it('filters by accepted/rejected and by learner', async () => {
      const ok = newAudit({ at: at(0) });
      const bad = newAudit({ at: at(1000), accepted: false, event: 'callback-rejected' });
      const otherLearner = newAudit({ at: at(2000), learner: { ...learnerA, sub: 'someone-else' } });
      for (const e of [ok, bad, otherLearner]) await stores.audit.record(e);
      expect(await stores.audit.list({ course: courseX, accepted: true, limit: 10 })).toEqual([otherLearner, ok]);
      expect(await stores.audit.list({ course: courseX, accepted: false, limit: 10 })).toEqual([bad]);
      expect(await stores.audit.list({ course: courseX, learner: learnerA, limit: 10 })).toEqual([bad, ok]);
      expect(await stores.audit.list({ learner: learnerA, accepted: true, limit: 10 })).toEqual([ok]);
    });

    it('recordRepeatable stores identical entries once with a count while they keep coming', async () => {
      const first = newAudit({ at: at(0), accepted: false, event: 'callback-rejected', reason: 'token' });
      await stores.audit.recordRepeatable(first, 'fp', at(-MINUTE));
      await stores.audit.recordRepeatable({ ...first, id: 'dup-1', at: at(1000) }, 'fp', at(1000 - MINUTE));
      await stores.audit.recordRepeatable({ ...first, id: 'dup-2', at: at(2000) }, 'fp', at(2000 - MINUTE));
      expect(await stores.audit.list({ limit: 10 })).toEqual([{ ...first, count: 3, lastAt: at(2000) }]);
      // Another fingerprint, or the same one after the window, is a new entry.
      await stores.audit.recordRepeatable({ ...first, id: 'other', at: at(3000) }, 'fp2', at(3000 - MINUTE));
      const late = { ...first, id: 'late', at: at(2000 + 2 * MINUTE), lastAt: at(2000 + 2 * MINUTE) };
      await stores.audit.recordRepeatable(late, 'fp', at(2000 + MINUTE));
      expect((await stores.audit.list({ limit: 10 })).map((e) => [e.id, e.count])).toEqual([['late', 1], ['other', 1], [first.id, 3]]);
    });

    it('entries of the same millisecond list newest-recorded first', async () => {
      const first = newAudit({ at: at(0), reason: 'first' });
      const second = newAudit({ at: at(0), reason: 'second' });
      await stores.audit.record(first);
      await stores.audit.record(second);
      expect((await stores.audit.list({ limit: 10 })).map((e) => e.reason)).toEqual(['second', 'first']);
    });

    it('pages with offset, the filters still applied (issue #19: the audit page is paginated)', async () => {
      const entries = Array.from({ length: 7 }, (_, i) => newAudit({ at: at(i * 1000), reason: `r${i}`, accepted: i % 2 === 0 }));
      for (const e of entries) await stores.audit.record(e);
      const reasons = async (filter: Parameters<Stores['audit']['list']>[0]) => (await stores.audit.list(filter)).map((e) => e.reason);
      expect(await reasons({ limit: 3 })).toEqual(['r6', 'r5', 'r4']);
      expect(await reasons({ limit: 3, offset: 3 })).toEqual(['r3', 'r2', 'r1']);
      expect(await reasons({ limit: 3, offset: 6 })).toEqual(['r0']);
      expect(await reasons({ limit: 3, offset: 7 })).toEqual([]);
      expect(await reasons({ course: courseX, accepted: true, limit: 2, offset: 2 })).toEqual(['r2', 'r0']);
    });

    it('deleteOlderThan removes entries whose last occurrence is before the date, at most limit of them (issue #19: the log is bounded)', async () => {
      const old1 = newAudit({ at: at(0), reason: 'old1' });
      const old2 = newAudit({ at: at(1000), reason: 'old2' });
      const old3 = newAudit({ at: at(2000), reason: 'old3' });
      // First seen long ago but repeated recently: kept (its last occurrence is recent).
      const repeated = newAudit({ at: at(500), reason: 'repeated', count: 4, lastAt: at(10 * MINUTE) });
      const recent = newAudit({ at: at(10 * MINUTE), reason: 'recent' });
      for (const e of [old1, old2, old3, repeated, recent]) await stores.audit.record(e);
      expect(await stores.audit.deleteOlderThan(at(5 * MINUTE), 2)).toBe(2);
      expect(await stores.audit.deleteOlderThan(at(5 * MINUTE), 2)).toBe(1);
      expect(await stores.audit.deleteOlderThan(at(5 * MINUTE), 2)).toBe(0);
      expect((await stores.audit.list({ limit: 10 })).map((e) => e.reason)).toEqual(['recent', 'repeated']);
    });
  });

  describe('readiness', () => {
    it('checkReady resolves on an open store and rejects once it is closed', async () => {
      await expect(stores.checkReady()).resolves.toBeUndefined();
      const extra = await adapter.open();
      await extra.stores.checkReady();
      await extra.destroy();
      await expectRejection(extra.stores.checkReady());
    });
  });

  describe('LoginStateStore', () => {
    const entry = { state: 'state-1', nonce: 'nonce-1', issuer: 'https://moodle.example.cl', clientId: 'client-1', storageTarget: null, relaunchQuery: null, linkQuery: null, expiresAt: at(10 * MINUTE) };
    const issued = { nonce: 'nonce-1', issuer: entry.issuer, clientId: 'client-1', storageTarget: null, relaunchQuery: null, linkQuery: null };

    it('consume returns the entry once, then null', async () => {
      await stores.logins.save(entry);
      expect(await stores.logins.consume('state-1', at(0))).toEqual(issued);
      expect(await stores.logins.consume('state-1', at(0))).toBeNull();
    });

    it('deleteExpired removes expired logins only (expiresAt inclusive), at most `limit` per call', async () => {
      for (const n of [1, 2, 3]) await stores.logins.save({ ...entry, state: `old-${n}`, expiresAt: at(n) });
      await stores.logins.save({ ...entry, state: 'fresh', expiresAt: at(MINUTE) });
      expect(await stores.logins.deleteExpired(at(3), 2)).toBe(2);
      expect(await stores.logins.deleteExpired(at(3), 2)).toBe(1);
      expect(await stores.logins.deleteExpired(at(3), 2)).toBe(0);
      expect(await stores.logins.consume('fresh', at(0))).not.toBeNull();
      for (const n of [1, 2, 3]) expect(await stores.logins.consume(`old-${n}`, at(0))).toBeNull();
    });

    it('deleteExpired without a limit removes every expired login', async () => {
      for (const n of [1, 2, 3]) await stores.logins.save({ ...entry, state: `old-${n}`, expiresAt: at(n) });
      expect(await stores.logins.deleteExpired(at(2))).toBe(2);
      expect(await stores.logins.deleteExpired(at(3))).toBe(1);
    });

    it('parallel consumes of the same state: exactly one gets it', async () => {
      await stores.logins.save(entry);
      const results = await Promise.all([1, 2, 3].map(() => stores.logins.consume('state-1', at(0))));
      expect(results.filter((r) => r !== null)).toHaveLength(1);
    });

    it('unknown states are null; a null clientId round-trips', async () => {
      expect(await stores.logins.consume('never-saved', at(0))).toBeNull();
      await stores.logins.save({ ...entry, state: 'state-2', clientId: null });
      expect(await stores.logins.consume('state-2', at(0))).toEqual({ ...issued, clientId: null });
    });

    it('a Platform Storage login keeps its storage target and its top-level relaunch query', async () => {
      await stores.logins.save({ ...entry, state: 'state-3', storageTarget: 'post_message_forwarding', relaunchQuery: 'iss=x&login_hint=u1' });
      expect(await stores.logins.consume('state-3', at(0))).toEqual({ ...issued, storageTarget: 'post_message_forwarding', relaunchQuery: 'iss=x&login_hint=u1' });
    });

    it("a login keeps its target_link_uri's query for the launch", async () => {
      await stores.logins.save({ ...entry, state: 'state-4', linkQuery: 'vista=reporte&x=%C3%B1' });
      expect(await stores.logins.consume('state-4', at(0))).toEqual({ ...issued, linkQuery: 'vista=reporte&x=%C3%B1' });
    });

    it('an expired state is null (expiresAt is exclusive) and stays unusable', async () => {
      await stores.logins.save(entry);
      expect(await stores.logins.consume('state-1', entry.expiresAt)).toBeNull();
      expect(await stores.logins.consume('state-1', at(0))).toBeNull();
    });
  });

  describe('RosterStore', () => {
    const member = { userId: 'user-a', name: 'Ana Pérez', email: 'ana@example.cl', sourcedId: '12345678-5', roles: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'], active: true };

    it('is empty for an unknown course, keeps the members and the time, and replaces per course', async () => {
      expect(await stores.rosters.get(courseX)).toBeNull();
      await stores.rosters.save({ course: courseX, members: [member], fetchedAt: T0 });
      expect(await stores.rosters.get(courseX)).toEqual({ course: courseX, members: [member], fetchedAt: T0, truncated: false });
      const second = { ...member, userId: 'user-b', name: null, email: null, sourcedId: null, roles: [], active: false };
      await stores.rosters.save({ course: courseX, members: [second], fetchedAt: at(MINUTE) });
      expect(await stores.rosters.get(courseX)).toEqual({ course: courseX, members: [second], fetchedAt: at(MINUTE), truncated: false });
      expect(await stores.rosters.get(courseY)).toBeNull();
    });

    it('keeps the username of each member (ext_user_username, issue #20), null as null', async () => {
      const withUsername = { ...member, username: '12345678-5' };
      const without = { ...member, userId: 'user-c', username: null };
      await stores.rosters.save({ course: courseX, members: [withUsername, without], fetchedAt: T0 });
      expect((await stores.rosters.get(courseX))?.members).toEqual([withUsername, without]);
    });

    it('keeps whether the roster was cut at the member or byte cap (issue #19), and a whole one replaces it', async () => {
      await stores.rosters.save({ course: courseX, members: [member], fetchedAt: T0, truncated: true });
      expect(await stores.rosters.get(courseX)).toEqual({ course: courseX, members: [member], fetchedAt: T0, truncated: true });
      await stores.rosters.save({ course: courseX, members: [member], fetchedAt: at(MINUTE) });
      expect(await stores.rosters.get(courseX)).toEqual({ course: courseX, members: [member], fetchedAt: at(MINUTE), truncated: false });
    });

    it('lists the courses that have a roster', async () => {
      expect(await stores.rosters.listCourses()).toEqual([]);
      await stores.rosters.save({ course: courseY, members: [], fetchedAt: T0 });
      await stores.rosters.save({ course: courseX, members: [member], fetchedAt: T0 });
      await stores.rosters.save({ course: courseX, members: [], fetchedAt: at(MINUTE) });
      expect(await stores.rosters.listCourses()).toEqual([courseX, courseY]);
    });
  });

  describe('DigestStore', () => {
    it('is empty for an unknown course, round-trips nulls and dates, and replaces per course', async () => {
      expect(await stores.digests.get(courseX)).toBeNull();
      const failed = { course: courseX, lastAttemptDay: '2025-03-04', lastSentAt: null, lastError: 'connect ECONNREFUSED' };
      await stores.digests.save(failed);
      expect(await stores.digests.get(courseX)).toEqual(failed);
      const sent = { course: courseX, lastAttemptDay: '2025-03-05', lastSentAt: at(MINUTE), lastError: null };
      await stores.digests.save(sent);
      expect(await stores.digests.get(courseX)).toEqual(sent);
      expect(await stores.digests.get(courseY)).toBeNull();
    });
  });

  describe('EnrollmentStore', () => {
    const action = { codigoCurso: 'ACCION-0000002', codSence: '1234567890', lineaCapacitacion: 3 as const };
    const record = (sub: string, overrides: Partial<import('../../src/domain/enrollment').LearnerEnrollment> = {}) => ({
      course: courseX, sub, run: '12345678-5', action, exempt: false, updatedAt: T0, ...overrides,
    });

    it('saves a batch, lists a course ordered by sub, gets one, and replaces by (course, sub)', async () => {
      expect(await stores.enrollments.list(courseX)).toEqual([]);
      expect(await stores.enrollments.get(courseX, 'user-a')).toBeNull();
      await stores.enrollments.saveMany([record('user-b'), record('user-a', { action: null, exempt: true, run: null })]);
      await stores.enrollments.saveMany([record('user-c', { course: courseY })]);
      expect(await stores.enrollments.list(courseX)).toEqual([record('user-a', { action: null, exempt: true, run: null }), record('user-b')]);
      await stores.enrollments.saveMany([record('user-b', { exempt: true, updatedAt: at(MINUTE) })]);
      expect(await stores.enrollments.get(courseX, 'user-b')).toEqual(record('user-b', { exempt: true, updatedAt: at(MINUTE) }));
      expect(await stores.enrollments.list(courseY)).toEqual([record('user-c', { course: courseY })]);
      await stores.enrollments.saveMany([]);
      expect(await stores.enrollments.list(courseX)).toHaveLength(2);
    });
  });
});

// ---------------------------------------------------------------------------------------------- SQLite only

describe('SQLite file', () => {
  const files: string[] = [];
  afterAll(() => {
    for (const file of files) removeSqliteFile(file);
  });

  function freshFile(): string {
    const file = tempSqliteFile();
    files.push(file);
    return file;
  }

  it('creates the parent folder, uses WAL and the pragmas, and records the schema version', () => {
    const file = freshFile();
    const db = openSqliteDatabase(file);
    try {
      expect(fs.existsSync(file)).toBe(true);
      expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
      expect(db.pragma('synchronous', { simple: true })).toBe(1); // NORMAL
      expect(db.pragma('busy_timeout', { simple: true })).toBe(5000);
      expect(db.pragma('foreign_keys', { simple: true })).toBe(1);
      expect(db.prepare('SELECT MAX(version) AS v FROM app_schema_version').get()).toEqual({ v: SQLITE_SCHEMA_VERSION });
      const tables = db
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .all()
        .map((r) => (r as { name: string }).name);
      expect(tables.every((name) => name.startsWith('app_'))).toBe(true);
    } finally {
      db.close();
    }
  });

  it('keeps the data when the file is reopened, and migrating again is a no-op', async () => {
    const file = freshFile();
    const first = sqliteStores(openSqliteDatabase(file));
    const session = newSession({ lastErrorCodes: ['211'] });
    await created(first, session);
    await first.courses.touch(courseX, 'Excel');
    await first.courses.saveSettings(courseX, settings);
    await first.close();

    const db = openSqliteDatabase(file);
    const again = sqliteStores(db);
    try {
      expect(await again.attendance.getSession(session.id)).toEqual(session);
      expect((await again.courses.get(courseX))?.settings).toEqual(settings);
      expect((await again.attendance.createSessionIfNoneActive(newSession())).created).toBe(false);
      expect(db.prepare('SELECT COUNT(*) AS n FROM app_schema_version').get()).toEqual({ n: SQLITE_SCHEMA_VERSION });
    } finally {
      await again.close();
    }
  });

  it('two connections to the same file (two processes) still create only one active session', async () => {
    const file = freshFile();
    const a = sqliteStores(openSqliteDatabase(file));
    const b = sqliteStores(openSqliteDatabase(file));
    try {
      const first = await a.attendance.createSessionIfNoneActive(newSession());
      const second = await b.attendance.createSessionIfNoneActive(newSession());
      expect(first.created).toBe(true);
      expect(second).toEqual({ created: false, existing: first.created ? first.session : null });
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('the lookups of the launch and callback paths use indexes, never a table scan', () => {
    const file = freshFile();
    const db = openSqliteDatabase(file);
    try {
      const plan = (sql: string): string =>
        db
          .prepare(`EXPLAIN QUERY PLAN ${sql}`)
          .all()
          .map((r) => (r as { detail: string }).detail)
          .join(' | ');
      const key = `learner_issuer = 'i' AND learner_client_id = 'c' AND learner_sub = 's'
        AND course_issuer = 'i' AND course_client_id = 'c' AND course_context_id = 'x'`;
      expect(plan(`SELECT * FROM app_sessions WHERE ${key} AND state IN ('starting','open','closing')`)).toContain(
        'USING INDEX app_sessions_active',
      );
      expect(plan(`SELECT * FROM app_sessions WHERE ${key} ORDER BY created_at DESC, id DESC`)).toMatch(/USING INDEX app_sessions_by_learner_course/);
      expect(
        plan(
          "SELECT * FROM app_sessions WHERE course_issuer = 'i' AND course_client_id = 'c' AND course_context_id = 'x' ORDER BY created_at DESC",
        ),
      ).toMatch(/USING INDEX app_sessions_by_course/);
      expect(plan("SELECT * FROM app_sessions WHERE state IN (SELECT value FROM json_each('[\"open\"]')) ORDER BY created_at")).toMatch(
        /USING INDEX app_sessions_by_state/,
      );
      expect(
        plan("SELECT * FROM app_attempts WHERE session_id = 's' AND phase = 'start' AND used_at IS NULL AND expires_at > 0 ORDER BY created_at DESC"),
      ).toMatch(/USING INDEX app_attempts_by_session_phase/);
      expect(plan("SELECT * FROM app_answers WHERE session_id = 's' ORDER BY received_at")).toMatch(/USING INDEX app_answers_by_session/);
      // The staff pages' lookups for a whole course (sessionsWithUnverifiedOrigin, learners.getMany).
      expect(
        plan("SELECT DISTINCT session_id FROM app_answers WHERE session_id IN (SELECT value FROM json_each('[\"s\"]')) AND origin_verified = 0"),
      ).toMatch(/USING INDEX app_answers_by_session/);
      expect(
        plan("SELECT * FROM app_learners WHERE issuer = 'i' AND client_id = 'c' AND sub IN (SELECT value FROM json_each('[\"s\"]'))"),
      ).toMatch(/USING INDEX sqlite_autoindex_app_learners_1/);
      expect(plan('SELECT * FROM app_audit ORDER BY at DESC, rowid DESC LIMIT 5')).toMatch(/USING INDEX app_audit_by_at/);
      expect(
        plan("SELECT * FROM app_audit WHERE course_issuer = 'i' AND course_client_id = 'c' AND course_context_id = 'x' ORDER BY at DESC, rowid DESC"),
      ).toMatch(/USING INDEX app_audit_by_course/);
      expect(plan("DELETE FROM app_login_states WHERE state = 's'")).toMatch(/USING INDEX sqlite_autoindex_app_login_states_1/);
    } finally {
      db.close();
    }
  });

  it('deleteExpired sweeps logins that were never completed', async () => {
    const file = freshFile();
    const db = openSqliteDatabase(file);
    try {
      const logins = new SqliteLoginStateStore(db);
      await logins.save({ state: 'old', nonce: 'n', issuer: 'i', clientId: null, storageTarget: null, relaunchQuery: null, linkQuery: null, expiresAt: at(0) });
      await logins.save({ state: 'fresh', nonce: 'n', issuer: 'i', clientId: null, storageTarget: null, relaunchQuery: null, linkQuery: null, expiresAt: at(MINUTE) });
      expect(await logins.deleteExpired(at(0))).toBe(1);
      expect(await logins.consume('fresh', at(1))).not.toBeNull();
    } finally {
      db.close();
    }
  });
});
