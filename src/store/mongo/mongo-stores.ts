/**
 * MongoDB adapters of the storage ports (src/store/ports.ts), over a mongoose 8 Connection of our own
 * (see schemas.ts for why not the default connection). Thin: queries, and mapping between documents
 * (read with .lean()) and domain records. Behaviour is pinned by test/integration/store-contract.test.ts.
 */
import type { Connection, Model } from 'mongoose';
import { isDeepStrictEqual } from 'node:util';
import { isStoreBusy } from '../store-unavailable';
import type {
  AnswerOutcome,
  AttemptPhase,
  AttendanceSession,
  AuditEntry,
  AuditEvent,
  CallbackAttempt,
  Course,
  CourseKey,
  CourseSettings,
  Learner,
  LearnerKey,
  Otec,
  RegistrationInvite,
  RunSource,
  SenceAnswer,
  SenceEnvironment,
  SentFields,
  SessionState,
} from '../../domain/types';
import type { AttendanceStore, AuditFilter, CallbackRecord, CallbackRecordOutcome, AuditLog, CourseStore, IssuedLoginState, LearnerStore, LoginStateStore, OtecStore, PlatformKey, RegistrationInviteStore } from '../ports';
import { chunksOf } from '../chunks';
import {
  activeLockModel,
  answerModel,
  attemptModel,
  auditModel,
  courseModel,
  inviteModel,
  learnerModel,
  loginStateModel,
  mutexModel,
  otecModel,
  sessionModel,
  type ActiveLockDoc,
  type AnswerDoc,
  type AttemptDoc,
  type AuditDoc,
  type CourseDoc,
  type CourseKeyDoc,
  type InviteDoc,
  type LearnerDoc,
  type LearnerKeyDoc,
  type LoginStateDoc,
  type MutexDoc,
  type OtecDoc,
  type SessionDoc,
} from './schemas';

const ACTIVE_STATES: readonly SessionState[] = ['starting', 'open', 'closing'];

/** Duplicate key error (E11000), optionally on a given index field. */
function isDuplicateKey(error: unknown, field?: string): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const e = error as { code?: unknown; keyPattern?: Record<string, unknown>; message?: unknown };
  if (e.code !== 11000) return false;
  if (field === undefined) return true;
  if (e.keyPattern) return field in e.keyPattern;
  return typeof e.message === 'string' && e.message.includes(field);
}

/**
 * Two concurrent upserts of a new key can both miss and one then fails with E11000 (MongoDB retries
 * most such upserts itself since 4.2); the second try finds the document and updates it.
 */
async function retryOnDuplicate<T>(operation: () => Promise<T>): Promise<T> {
  try {
    return await operation();
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    return operation();
  }
}

/** Tries of a write that found the store busy (FerretDB's SQLite backend under many writers). */
export const BUSY_TRIES = 5;

/**
 * Runs `write` again, after a short pause, while the store answers "database is locked", at most
 * BUSY_TRIES times; any other error, or the last one, is thrown. A busy answer may hide a write that
 * happened: before each try after the first, `tookEffect` (when given) looks for it, and its result,
 * when not null, is the outcome.
 */
async function retryWhenBusy<T>(write: () => Promise<T>, tookEffect?: () => Promise<T | null>): Promise<T> {
  for (let tries = 1; ; tries += 1) {
    try {
      const earlier = tries > 1 && tookEffect ? await tookEffect() : null;
      return earlier ?? (await write());
    } catch (error) {
      if (tries >= BUSY_TRIES || !isStoreBusy(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 10 * tries + Math.floor(Math.random() * 20)));
    }
  }
}

/** A mutex older than this was left by a crashed process: it may be taken over. */
const MUTEX_STALE_MS = 10_000;

/**
 * Runs `critical` while holding the mutex named `name` (see MutexDoc in schemas.ts). Returns
 * `busy` without running it when another caller holds it: for a compare-and-set that means the
 * other caller is making the same change, so this one would lose anyway.
 */
async function withMutex<T>(
  model: Model<MutexDoc>,
  name: string,
  critical: () => Promise<T>,
): Promise<{ busy: true } | { busy: false; value: T }> {
  const at = new Date();
  try {
    await model.create({ _id: name, at });
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    const held = await model.findById(name).lean<MutexDoc>().exec();
    if (!held || Date.now() - held.at.getTime() < MUTEX_STALE_MS) return { busy: true };
    await model.deleteOne({ _id: name, at: held.at }).exec(); // left by a crash: take it over once
    try {
      await model.create({ _id: name, at });
    } catch (retryError) {
      if (isDuplicateKey(retryError)) return { busy: true };
      throw retryError;
    }
  }
  try {
    return { busy: false, value: await critical() };
  } finally {
    // Left behind, the mutex would turn the caller's next try into "busy" for MUTEX_STALE_MS.
    await retryWhenBusy(() => model.deleteOne({ _id: name, at }).exec());
  }
}

function learnerKeyOf(doc: LearnerKeyDoc): LearnerKey {
  return { issuer: doc.issuer, clientId: doc.clientId, sub: doc.sub };
}

function courseKeyOf(doc: CourseKeyDoc): CourseKey {
  return { issuer: doc.issuer, clientId: doc.clientId, contextId: doc.contextId };
}

// ================================================================ learners
function toLearner(doc: LearnerDoc): Learner {
  return {
    issuer: doc.issuer,
    clientId: doc.clientId,
    sub: doc.sub,
    name: doc.name ?? null,
    email: doc.email ?? null,
    run: doc.run ?? null,
    runSource: (doc.runSource ?? null) as RunSource | null,
    updatedAt: doc.updatedAt,
  };
}

export class MongoLearnerStore implements LearnerStore {
  private readonly model: Model<LearnerDoc>;

  constructor(conn: Connection) {
    this.model = learnerModel(conn);
  }

  async upsert(learner: Omit<Learner, 'updatedAt'>): Promise<Learner> {
    const key = { issuer: learner.issuer, clientId: learner.clientId, sub: learner.sub };
    const fields = {
      name: learner.name,
      email: learner.email,
      run: learner.run,
      runSource: learner.runSource,
      updatedAt: new Date(),
    };
    const doc = await retryOnDuplicate(() =>
      this.model
        .findOneAndUpdate(key, { $set: fields }, { upsert: true, returnDocument: 'after' })
        .lean<LearnerDoc>()
        .exec(),
    );
    if (!doc) throw new Error('sence_learners upsert returned no document');
    return toLearner(doc);
  }

  async get(key: LearnerKey): Promise<Learner | null> {
    const doc = await this.model
      .findOne({ issuer: key.issuer, clientId: key.clientId, sub: key.sub })
      .lean<LearnerDoc>()
      .exec();
    return doc ? toLearner(doc) : null;
  }

  async getMany(platform: PlatformKey, subs: readonly string[]): Promise<Map<string, Learner>> {
    const out = new Map<string, Learner>();
    for (const chunk of chunksOf([...new Set(subs)])) {
      const docs = await this.model.find({ issuer: platform.issuer, clientId: platform.clientId, sub: { $in: chunk } }).lean<LearnerDoc[]>().exec();
      for (const doc of docs) out.set(doc.sub, toLearner(doc));
    }
    return out;
  }
}

// ================================================================ courses
function toCourse(doc: CourseDoc): Course {
  return {
    issuer: doc.issuer,
    clientId: doc.clientId,
    contextId: doc.contextId,
    title: doc.title ?? null,
    settings: (doc.settings ?? null) as CourseSettings | null,
    updatedAt: doc.updatedAt,
  };
}

export class MongoCourseStore implements CourseStore {
  private readonly model: Model<CourseDoc>;

  constructor(conn: Connection) {
    this.model = courseModel(conn);
  }

  private async upsert(key: CourseKey, set: Partial<CourseDoc>, setOnInsert: Partial<CourseDoc>): Promise<Course> {
    const filter = { issuer: key.issuer, clientId: key.clientId, contextId: key.contextId };
    const doc = await retryOnDuplicate(() =>
      this.model
        .findOneAndUpdate(filter, { $set: set, $setOnInsert: setOnInsert }, { upsert: true, returnDocument: 'after' })
        .lean<CourseDoc>()
        .exec(),
    );
    if (!doc) throw new Error('sence_courses upsert returned no document');
    return toCourse(doc);
  }

  async touch(key: CourseKey, title: string | null): Promise<Course> {
    return this.upsert(key, { title, updatedAt: new Date() }, { settings: null });
  }

  async get(key: CourseKey): Promise<Course | null> {
    const doc = await this.model
      .findOne({ issuer: key.issuer, clientId: key.clientId, contextId: key.contextId })
      .lean<CourseDoc>()
      .exec();
    return doc ? toCourse(doc) : null;
  }

  /** Settings for a course never launched yet are stored too (title unknown until its first launch). */
  async saveSettings(key: CourseKey, settings: CourseSettings): Promise<Course> {
    return this.upsert(key, { settings: { ...settings }, updatedAt: new Date() }, { title: null });
  }

  async listByOtec(otecId: string): Promise<Course[]> {
    const docs = await this.model.find({ 'settings.otecId': otecId }).sort({ issuer: 1, clientId: 1, contextId: 1 }).lean<CourseDoc[]>().exec();
    return docs.map(toCourse);
  }
}

// ================================================================ otecs
function toOtec(doc: OtecDoc): Otec {
  return {
    id: doc._id,
    name: doc.name,
    rut: doc.rut,
    tokenSealed: doc.tokenSealed,
    tokenHint: doc.tokenHint,
    platforms: Array.isArray(doc.platforms) ? doc.platforms.map((p) => ({ issuer: p.issuer, clientId: p.clientId })) : null,
    createdAt: doc.createdAt,
    updatedAt: doc.updatedAt,
  };
}

export class MongoOtecStore implements OtecStore {
  private readonly model: Model<OtecDoc>;

  constructor(conn: Connection) {
    this.model = otecModel(conn);
  }

  /** Sorted by name (then id). */
  async list(): Promise<Otec[]> {
    const docs = await this.model.find().sort({ name: 1, _id: 1 }).lean<OtecDoc[]>().exec();
    return docs.map(toOtec);
  }

  async get(id: string): Promise<Otec | null> {
    const doc = await this.model.findById(id).lean<OtecDoc>().exec();
    return doc ? toOtec(doc) : null;
  }

  async save(otec: Otec): Promise<Otec> {
    const replacement: OtecDoc = {
      _id: otec.id,
      name: otec.name,
      rut: otec.rut,
      tokenSealed: otec.tokenSealed,
      tokenHint: otec.tokenHint,
      platforms: otec.platforms === null ? null : otec.platforms.map((p) => ({ issuer: p.issuer, clientId: p.clientId })),
      createdAt: otec.createdAt,
      updatedAt: otec.updatedAt,
    };
    const doc = await retryOnDuplicate(() =>
      this.model
        .findOneAndReplace({ _id: otec.id }, replacement, { upsert: true, returnDocument: 'after' })
        .lean<OtecDoc>()
        .exec(),
    );
    if (!doc) throw new Error('sence_otecs upsert returned no document');
    return toOtec(doc);
  }

  async remove(id: string): Promise<boolean> {
    const result = await this.model.deleteOne({ _id: id }).exec();
    return result.deletedCount > 0;
  }
}

// ================================================================ attendance
/** Text key of "this learner in this course": the `_id` of its lock document while a session is active. */
function activeKeyOf(learner: LearnerKey, course: CourseKey): string {
  return JSON.stringify([learner.issuer, learner.clientId, learner.sub, course.issuer, course.clientId, course.contextId]);
}

/** The fields updateSession may change: all but identity (_id, learner, course, createdAt) and version. */
type MutableSessionFields = Omit<SessionDoc, '_id' | 'learner' | 'course' | 'createdAt' | 'version'>;

function mutableSessionFields(s: AttendanceSession): MutableSessionFields {
  return {
    otecId: s.otecId,
    environment: s.environment,
    idSesionAlumno: s.idSesionAlumno,
    sent: { ...s.sent },
    state: s.state,
    limitMinutes: s.limitMinutes,
    warningMinutes: s.warningMinutes,
    idSesionSence: s.idSesionSence,
    senceStartFechaHora: s.senceStartFechaHora,
    senceZonaHoraria: s.senceZonaHoraria,
    openedAt: s.openedAt,
    closeRequestedAt: s.closeRequestedAt,
    endedAt: s.endedAt,
    accreditedSeconds: s.accreditedSeconds,
    lastErrorCodes: [...s.lastErrorCodes],
    endReason: s.endReason,
  };
}

/** The whole document of a new session. */
function sessionDoc(s: AttendanceSession): SessionDoc {
  return {
    _id: s.id,
    learner: { issuer: s.learner.issuer, clientId: s.learner.clientId, sub: s.learner.sub },
    course: { issuer: s.course.issuer, clientId: s.course.clientId, contextId: s.course.contextId },
    createdAt: s.createdAt,
    ...mutableSessionFields(s),
    version: s.version,
  };
}

function toSession(doc: SessionDoc): AttendanceSession {
  return {
    id: doc._id,
    learner: learnerKeyOf(doc.learner),
    course: courseKeyOf(doc.course),
    otecId: doc.otecId,
    environment: doc.environment as SenceEnvironment,
    idSesionAlumno: doc.idSesionAlumno,
    sent: doc.sent as unknown as SentFields,
    state: doc.state as SessionState,
    limitMinutes: doc.limitMinutes,
    warningMinutes: doc.warningMinutes,
    idSesionSence: doc.idSesionSence ?? null,
    senceStartFechaHora: doc.senceStartFechaHora ?? null,
    senceZonaHoraria: doc.senceZonaHoraria ?? null,
    createdAt: doc.createdAt,
    openedAt: doc.openedAt ?? null,
    closeRequestedAt: doc.closeRequestedAt ?? null,
    endedAt: doc.endedAt ?? null,
    accreditedSeconds: doc.accreditedSeconds,
    lastErrorCodes: doc.lastErrorCodes ?? [],
    endReason: doc.endReason ?? null,
    version: doc.version,
  };
}

function toAttempt(doc: AttemptDoc): CallbackAttempt {
  return {
    id: doc._id,
    sessionId: doc.sessionId,
    phase: doc.phase as AttemptPhase,
    tokenHash: doc.tokenHash,
    createdAt: doc.createdAt,
    expiresAt: doc.expiresAt,
    usedAt: doc.usedAt ?? null,
  };
}

function answerDocOf(answer: SenceAnswer): AnswerDoc {
  return {
    _id: answer.id,
    sessionId: answer.sessionId,
    attemptId: answer.attemptId,
    phase: answer.phase,
    outcome: answer.outcome,
    errorCodes: [...answer.errorCodes],
    payload: { ...answer.payload },
    receivedAt: answer.receivedAt,
    origin: answer.origin ?? null,
    referer: answer.referer ?? null,
    originVerified: answer.originVerified ?? null,
  };
}

function toAnswer(doc: AnswerDoc): SenceAnswer {
  return {
    id: doc._id,
    sessionId: doc.sessionId,
    attemptId: doc.attemptId,
    phase: doc.phase as AttemptPhase,
    outcome: doc.outcome as AnswerOutcome,
    errorCodes: doc.errorCodes ?? [],
    payload: (doc.payload ?? {}) as Record<string, string>,
    receivedAt: doc.receivedAt,
    ...(doc.origin === undefined || doc.origin === null ? {} : { origin: doc.origin }),
    ...(doc.referer === undefined || doc.referer === null ? {} : { referer: doc.referer }),
    ...(doc.originVerified === undefined || doc.originVerified === null ? {} : { originVerified: doc.originVerified }),
  };
}

function learnerCourseFilter(learner: LearnerKey, course: CourseKey): Record<string, string> {
  return {
    'learner.issuer': learner.issuer,
    'learner.clientId': learner.clientId,
    'learner.sub': learner.sub,
    'course.issuer': course.issuer,
    'course.clientId': course.clientId,
    'course.contextId': course.contextId,
  };
}

/**
 * How long a lock may point to a session that does not exist before it counts as left over by a
 * crash between the lock's insert and the session's (a concurrent creator inserts both within
 * milliseconds).
 */
const ORPHAN_LOCK_MS = 10_000;

export class MongoAttendanceStore implements AttendanceStore {
  private readonly sessions: Model<SessionDoc>;
  private readonly attempts: Model<AttemptDoc>;
  private readonly answers: Model<AnswerDoc>;
  private readonly locks: Model<ActiveLockDoc>;
  private readonly mutexes: Model<MutexDoc>;

  constructor(conn: Connection) {
    this.sessions = sessionModel(conn);
    this.attempts = attemptModel(conn);
    this.answers = answerModel(conn);
    this.locks = activeLockModel(conn);
    this.mutexes = mutexModel(conn);
  }

  /**
   * Makes sure the learner+course lock names `sessionId`, taking it when free or left over by a
   * session that is no longer active; throws when another active session holds it.
   */
  private async holdLock(key: string, sessionId: string): Promise<void> {
    for (let round = 0; round < 5; round += 1) {
      const lock = await this.locks.findById(key).lean<ActiveLockDoc>().exec();
      if (lock?.sessionId === sessionId) return;
      if (lock) {
        const holder = await this.sessions.findById(lock.sessionId).lean<SessionDoc>().exec();
        if (holder && ACTIVE_STATES.includes(holder.state as SessionState)) {
          throw new Error(`another session (${lock.sessionId}) is active for this learner and course`);
        }
        if (!holder && Date.now() - lock.createdAt.getTime() < ORPHAN_LOCK_MS) {
          throw new Error(`another session (${lock.sessionId}) is being created for this learner and course`);
        }
        await this.locks.deleteOne({ _id: key, sessionId: lock.sessionId }).exec();
      }
      try {
        await this.locks.create({ _id: key, sessionId, createdAt: new Date() });
        return;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
    }
    throw new Error('the active-session lock kept changing, giving up');
  }

  /**
   * "One active session per learner and course" without transactions nor partial indexes: first the
   * lock document (unique `_id`) is inserted, then the session. A lock whose session is no longer
   * active (a crash between ending a session and removing its lock) or never appeared (a crash
   * between the two inserts) is removed, conditionally on still naming that session, and creation
   * is tried again (bounded).
   */
  async createSessionIfNoneActive(
    session: AttendanceSession,
  ): Promise<{ created: true; session: AttendanceSession } | { created: false; existing: AttendanceSession }> {
    const key = activeKeyOf(session.learner, session.course);
    const doc = sessionDoc(session);
    for (let round = 0; round < 5; round += 1) {
      let locked = false;
      try {
        await this.locks.create({ _id: key, sessionId: session.id, createdAt: new Date() });
        locked = true;
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
      }
      if (locked) {
        try {
          await this.sessions.create(doc);
        } catch (error) {
          await this.locks.deleteOne({ _id: key, sessionId: session.id }).exec();
          throw error; // e.g. a session with that id exists already
        }
        return { created: true, session: toSession(doc) };
      }
      const lock = await this.locks.findById(key).lean<ActiveLockDoc>().exec();
      if (!lock) continue; // released meanwhile: try again
      const holder = await this.sessions.findById(lock.sessionId).lean<SessionDoc>().exec();
      if (holder && ACTIVE_STATES.includes(holder.state as SessionState)) return { created: false, existing: toSession(holder) };
      if (!holder && Date.now() - lock.createdAt.getTime() < ORPHAN_LOCK_MS) {
        await new Promise((resolve) => setTimeout(resolve, 20)); // its creator is inserting the session
        continue;
      }
      await this.locks.deleteOne({ _id: key, sessionId: lock.sessionId }).exec();
    }
    throw new Error('createSessionIfNoneActive: the active session kept changing, giving up');
  }

  async getSession(id: string): Promise<AttendanceSession | null> {
    const doc = await this.sessions.findById(id).lean<SessionDoc>().exec();
    return doc ? toSession(doc) : null;
  }

  async findActiveSession(learner: LearnerKey, course: CourseKey): Promise<AttendanceSession | null> {
    const lock = await this.locks.findById(activeKeyOf(learner, course)).lean<ActiveLockDoc>().exec();
    if (!lock) return null;
    const doc = await this.sessions.findById(lock.sessionId).lean<SessionDoc>().exec();
    return doc && ACTIVE_STATES.includes(doc.state as SessionState) ? toSession(doc) : null;
  }

  async listSessions(learner: LearnerKey, course: CourseKey): Promise<AttendanceSession[]> {
    const docs = await this.sessions
      .find(learnerCourseFilter(learner, course))
      .sort({ createdAt: -1, _id: -1 })
      .lean<SessionDoc[]>()
      .exec();
    return docs.map(toSession);
  }

  async listCourseSessions(course: CourseKey): Promise<AttendanceSession[]> {
    const docs = await this.sessions
      .find({ 'course.issuer': course.issuer, 'course.clientId': course.clientId, 'course.contextId': course.contextId })
      .sort({ createdAt: -1, _id: -1 })
      .lean<SessionDoc[]>()
      .exec();
    return docs.map(toSession);
  }

  /**
   * Identity (id, learner, course, createdAt) never changes; everything else is written from `next`.
   * When the session leaves the active states its lock is removed (after the session is written, so
   * a crash in between leaves a lock on an ended session, which createSessionIfNoneActive clears).
   * No transition leads from an ended state back to an active one (attendance-rules.ts).
   * `answer`, when given, is written in the same single-document update as the session (atomic
   * without a transaction), in the session's `unfiledAnswers` until recordCallback files it.
   */
  async updateSession(next: AttendanceSession, expectedVersion: number, answer?: SenceAnswer): Promise<AttendanceSession | null> {
    return this.writeSession(next, expectedVersion, answer);
  }

  /**
   * With `answer`, the write also lists its attempt in `answeredAttempts`, and matches only while
   * that attempt is not listed yet: the callback's commit point (issue #19 §4).
   */
  private async writeSession(next: AttendanceSession, expectedVersion: number, answer?: SenceAnswer): Promise<AttendanceSession | null> {
    const key = activeKeyOf(next.learner, next.course);
    const active = ACTIVE_STATES.includes(next.state);
    const set = { ...mutableSessionFields(next), version: expectedVersion + 1 };
    const update = answer ? { $set: set, $push: { unfiledAnswers: answerDocOf(answer), answeredAttempts: answer.attemptId } } : { $set: set };
    const filter = answer ? { _id: next.id, version: expectedVersion, answeredAttempts: { $ne: answer.attemptId } } : { _id: next.id, version: expectedVersion };
    const outcome = await withMutex(this.mutexes, `session:${next.id}:${expectedVersion}`, async () => {
      const current = await this.sessions.findOne(filter).select({ _id: 1 }).lean().exec();
      if (!current) return null;
      if (active) await this.holdLock(key, next.id); // throws when another session is active
      return this.sessions.findOneAndUpdate(filter, update, { returnDocument: 'after' }).lean<SessionDoc>().exec();
    });
    if (outcome.busy || !outcome.value) return null;
    if (!active) await this.locks.deleteOne({ _id: key, sessionId: next.id }).exec();
    return toSession(outcome.value);
  }

  async listSessionsInStates(states: SessionState[], limit: number): Promise<AttendanceSession[]> {
    if (states.length === 0 || limit <= 0) return [];
    const docs = await this.sessions
      .find({ state: { $in: states } })
      .sort({ createdAt: 1, _id: 1 })
      .limit(limit)
      .lean<SessionDoc[]>()
      .exec();
    return docs.map(toSession);
  }

  async createAttempt(attempt: CallbackAttempt): Promise<void> {
    await this.attempts.create({
      _id: attempt.id,
      sessionId: attempt.sessionId,
      phase: attempt.phase,
      tokenHash: attempt.tokenHash,
      createdAt: attempt.createdAt,
      expiresAt: attempt.expiresAt,
      usedAt: attempt.usedAt,
    });
  }

  /** Under the mutex `attempts:<session>:<phase>`; a caller that finds it taken waits for the holder's attempt. */
  async createAttemptUnlessOpen(attempt: CallbackAttempt, now: Date): Promise<CallbackAttempt> {
    for (let round = 0; round < 50; round += 1) {
      const outcome = await withMutex(this.mutexes, `attempts:${attempt.sessionId}:${attempt.phase}`, async () => {
        const open = await this.findOpenAttempt(attempt.sessionId, attempt.phase, now);
        if (open) return open;
        await this.createAttempt(attempt);
        return attempt;
      });
      if (!outcome.busy) return outcome.value;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    throw new Error('createAttemptUnlessOpen: the attempt mutex stayed taken, giving up');
  }

  /**
   * Used when its `usedAt` is written, or when its session lists it in `answeredAttempts` (the
   * callback was recorded but the store stopped before the attempt itself was marked, issue #19 §4).
   */
  async getAttempt(id: string): Promise<CallbackAttempt | null> {
    const doc = await this.attempts.findById(id).lean<AttemptDoc>().exec();
    if (!doc) return null;
    const attempt = toAttempt(doc);
    if (attempt.usedAt !== null) return attempt;
    const answeredAt = await this.answeredAt(attempt.sessionId, attempt.id);
    return answeredAt ? { ...attempt, usedAt: answeredAt } : attempt;
  }

  async findOpenAttempt(sessionId: string, phase: AttemptPhase, now: Date): Promise<CallbackAttempt | null> {
    const answered = await this.answeredAttempts(sessionId);
    const doc = await this.attempts
      .findOne({ sessionId, phase, usedAt: null, expiresAt: { $gt: now }, ...(answered.length ? { _id: { $nin: answered } } : {}) })
      .sort({ createdAt: -1, _id: -1 })
      .lean<AttemptDoc>()
      .exec();
    return doc ? toAttempt(doc) : null;
  }

  private async answeredAttempts(sessionId: string): Promise<string[]> {
    const doc = await this.sessions.findById(sessionId).select({ answeredAttempts: 1 }).lean<Pick<SessionDoc, 'answeredAttempts'>>().exec();
    return doc?.answeredAttempts ?? [];
  }

  /** When the answer of this attempt was received, if its session lists it as answered; else null. */
  private async answeredAt(sessionId: string, attemptId: string): Promise<Date | null> {
    if (!(await this.answeredAttempts(sessionId)).includes(attemptId)) return null;
    const answer = (await this.listAnswers(sessionId)).find((a) => a.attemptId === attemptId);
    return answer?.receivedAt ?? new Date(0);
  }

  async markAttemptUsed(id: string, at: Date): Promise<boolean> {
    const outcome = await withMutex(this.mutexes, `attempt:${id}`, async () => {
      const result = await this.attempts.updateOne({ _id: id, usedAt: null }, { $set: { usedAt: at } }).exec();
      return result.modifiedCount === 1;
    });
    return !outcome.busy && outcome.value;
  }

  async releaseAttempt(id: string, at: Date): Promise<boolean> {
    const result = await this.attempts.updateOne({ _id: id, usedAt: at }, { $set: { usedAt: null } }).exec();
    return result.modifiedCount === 1;
  }

  /**
   * No transactions on FerretDB, so the order of writes is what makes a callback safe whatever
   * moment the store stops (issue #19 §4): the session and SENCE's answer are written first, in one
   * document update that also lists the attempt in `answeredAttempts` and matches only while it is
   * not listed — that update is the commit point. Then the attempt is marked used and the answer
   * filed in `sence_answers`; both may be lost to a crash without harm (getAttempt and
   * findOpenAttempt read `answeredAttempts`, listAnswers reads `unfiledAnswers`). A callback the
   * store lost before the commit left nothing: posted again, it is taken. Each write is tried again
   * while the store is busy; a mutex left by a writer that stopped is waited for (taken over after
   * MUTEX_STALE_MS), so that the genuine callback posted again is not mistaken for a replay.
   */
  async recordCallback(record: CallbackRecord): Promise<CallbackRecordOutcome> {
    const attempt = await this.attempts.findById(record.attemptId).lean<AttemptDoc>().exec();
    if (!attempt || attempt.usedAt) return { ok: false, conflict: 'attempt-used' };
    const waitUntil = Date.now() + MUTEX_STALE_MS + 2_000;
    let session: AttendanceSession | null;
    for (;;) {
      // The session and SENCE's answer in one document update: the commit point (see above).
      session = await retryWhenBusy(
        () => this.updateSession(record.next, record.expectedVersion, record.answer),
        () => this.sessionWritten(record.next, record.expectedVersion + 1, record.attemptId),
      );
      if (session) break;
      // One read of both fields: the commit writes them in one document update, so a callback that
      // lost the race to the same attempt's commit always sees it listed (two reads could see the
      // attempt not yet listed, then the version already moved: a replay taken for 'session-changed').
      const stored = await this.sessions
        .findById(record.next.id)
        .select({ version: 1, answeredAttempts: 1 })
        .lean<Pick<SessionDoc, 'version' | 'answeredAttempts'>>()
        .exec();
      if ((stored?.answeredAttempts ?? []).includes(record.attemptId)) return { ok: false, conflict: 'attempt-used' };
      if (stored?.version !== record.expectedVersion) {
        // The session changed under it (another callback, the sweep): this callback can no longer apply.
        await retryWhenBusy(() => this.markAttemptUsed(record.attemptId, record.usedAt)).catch(() => undefined);
        return { ok: false, conflict: 'session-changed' };
      }
      // Same version, not written: its mutex is held, by a writer of this moment or one that stopped
      // with the store (taken over after MUTEX_STALE_MS). Not a replay: wait for it.
      if (Date.now() > waitUntil) throw new Error('recordCallback: the session stayed locked by another writer');
      await new Promise((resolve) => setTimeout(resolve, 25 + Math.floor(Math.random() * 25)));
    }
    // Committed. What follows may be lost to a crash without losing or doubling the callback.
    await retryWhenBusy(() => this.markAttemptUsed(record.attemptId, record.usedAt)).catch(() => undefined);
    try {
      // Filed in sence_answers, then taken off the session; kept there if either step fails.
      await retryWhenBusy(async () => {
        try {
          await this.saveAnswer(record.answer);
        } catch (error) {
          if (!isDuplicateKey(error)) throw error; // stored by a try whose answer was lost
        }
      });
      // The whole document, as pushed: FerretDB 1.x pulls by equality only (no query on elements).
      await this.sessions.updateOne({ _id: session.id }, { $pull: { unfiledAnswers: answerDocOf(record.answer) } }).exec();
    } catch {
      // Kept: see above.
    }
    return { ok: true, session };
  }

  /** The stored session when it is exactly `next` at `version` (written by an earlier try), else null. */
  private async sessionWritten(next: AttendanceSession, version: number, attemptId: string): Promise<AttendanceSession | null> {
    const doc = await this.sessions.findOne({ _id: next.id, version }).lean<SessionDoc>().exec();
    if (!doc || !(doc.answeredAttempts ?? []).includes(attemptId)) return null;
    const stored = toSession(doc);
    return isDeepStrictEqual(stored, { ...next, version }) ? stored : null;
  }

  async saveAnswer(answer: SenceAnswer): Promise<void> {
    await this.answers.create(answerDocOf(answer));
  }

  /** Oldest first (arrival order): those filed in sence_answers and those still kept on the session. */
  async listAnswers(sessionId: string): Promise<SenceAnswer[]> {
    const [filed, session] = await Promise.all([
      this.answers.find({ sessionId }).lean<AnswerDoc[]>().exec(),
      this.sessions.findById(sessionId).select({ unfiledAnswers: 1 }).lean<Pick<SessionDoc, 'unfiledAnswers'>>().exec(),
    ]);
    const ids = new Set(filed.map((d) => d._id));
    const docs = [...filed, ...(session?.unfiledAnswers ?? []).filter((d) => !ids.has(d._id))];
    docs.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime() || (a._id < b._id ? -1 : a._id > b._id ? 1 : 0));
    return docs.map(toAnswer);
  }

  async sessionsWithUnverifiedOrigin(sessionIds: readonly string[]): Promise<Set<string>> {
    const out = new Set<string>();
    for (const chunk of chunksOf([...new Set(sessionIds)])) {
      const [filed, unfiled] = await Promise.all([
        this.answers.find({ sessionId: { $in: chunk }, originVerified: false }).select({ sessionId: 1 }).lean<Pick<AnswerDoc, 'sessionId'>[]>().exec(),
        this.sessions
          .find({ _id: { $in: chunk }, 'unfiledAnswers.originVerified': false })
          .select({ _id: 1 })
          .lean<Pick<SessionDoc, '_id'>[]>()
          .exec(),
      ]);
      for (const d of filed) out.add(d.sessionId);
      for (const d of unfiled) out.add(d._id);
    }
    return out;
  }
}

// ================================================================ audit
function toEntry(doc: AuditDoc): AuditEntry {
  return {
    id: doc.entryId,
    at: doc.at,
    event: doc.event as AuditEvent,
    accepted: doc.accepted,
    reason: doc.reason,
    sourceIp: doc.sourceIp ?? null,
    learner: doc.learner ? learnerKeyOf(doc.learner) : null,
    course: doc.course ? courseKeyOf(doc.course) : null,
    sessionId: doc.sessionId ?? null,
    details: doc.details ?? {},
    count: doc.count ?? 1,
    lastAt: doc.lastAt ?? doc.at,
  };
}

export class MongoAuditLog implements AuditLog {
  private readonly model: Model<AuditDoc>;

  constructor(conn: Connection) {
    this.model = auditModel(conn);
  }

  private doc(entry: AuditEntry, fingerprint: string | null) {
    return {
      entryId: entry.id,
      at: entry.at,
      event: entry.event,
      accepted: entry.accepted,
      reason: entry.reason,
      sourceIp: entry.sourceIp,
      learner: entry.learner ? { issuer: entry.learner.issuer, clientId: entry.learner.clientId, sub: entry.learner.sub } : null,
      course: entry.course
        ? { issuer: entry.course.issuer, clientId: entry.course.clientId, contextId: entry.course.contextId }
        : null,
      sessionId: entry.sessionId,
      details: { ...entry.details },
      count: entry.count ?? 1,
      lastAt: entry.lastAt ?? entry.at,
      fingerprint,
    };
  }

  async record(entry: AuditEntry): Promise<void> {
    await this.model.create(this.doc(entry, null));
  }

  /** Not transactional (MongoDB 7 and FerretDB share no transactions): a race may store two entries, never lose one. */
  async recordRepeatable(entry: AuditEntry, fingerprint: string, since: Date): Promise<void> {
    const updated = await this.model
      .findOneAndUpdate(
        { fingerprint, lastAt: { $gte: since } },
        { $inc: { count: 1 }, $max: { lastAt: entry.at } },
        { sort: { lastAt: -1 }, returnDocument: 'after' },
      )
      .lean<AuditDoc>()
      .exec();
    if (!updated) await this.model.create(this.doc(entry, fingerprint));
  }

  /** Newest first; entries of the same millisecond newest-recorded first (ObjectId order). */
  async list(filter: AuditFilter): Promise<AuditEntry[]> {
    if (filter.limit <= 0) return [];
    const query: Record<string, unknown> = {};
    if (filter.course) Object.assign(query, { 'course.issuer': filter.course.issuer, 'course.clientId': filter.course.clientId, 'course.contextId': filter.course.contextId });
    if (filter.learner) Object.assign(query, { 'learner.issuer': filter.learner.issuer, 'learner.clientId': filter.learner.clientId, 'learner.sub': filter.learner.sub });
    if (filter.accepted !== undefined) query.accepted = filter.accepted;
    const offset = Math.max(0, Math.floor(filter.offset ?? 0));
    const docs = await this.model.find(query).sort({ at: -1, _id: -1 }).skip(offset).limit(filter.limit).lean<AuditDoc[]>().exec();
    return docs.map(toEntry);
  }

  /**
   * Retention (issue #19): the oldest entries by first occurrence (index { at, _id }) whose last
   * occurrence is also before `before`, at most `limit`. No TTL index (FerretDB 1.x has none): the
   * tool's periodic sweep calls this.
   */
  async deleteOlderThan(before: Date, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    const old = await this.model
      .find({ at: { $lt: before }, $or: [{ lastAt: { $lt: before } }, { lastAt: null }] }, { _id: 1 })
      .sort({ at: 1, _id: 1 })
      .limit(limit)
      .lean<Array<{ _id: unknown }>>()
      .exec();
    if (old.length === 0) return 0;
    const result = await this.model.deleteMany({ _id: { $in: old.map((d) => d._id) } }).exec();
    return result.deletedCount ?? 0;
  }
}

// ================================================================ registration invitations
function toInvite(doc: InviteDoc): RegistrationInvite {
  return {
    codeHash: doc._id,
    name: doc.name ?? null,
    createdAt: doc.createdAt,
    expiresAt: doc.expiresAt,
    usedAt: doc.usedAt ?? null,
    platform: doc.platform ? { issuer: doc.platform.issuer, clientId: doc.platform.clientId } : null,
    failedAttempts: doc.failedAttempts ?? 0,
  };
}

/** Fewer than `max` attempts charged (an invitation stored before issue #19 has no count: 0). */
const attemptsBelow = (max: number) => ({ $or: [{ failedAttempts: { $lt: max } }, { failedAttempts: { $exists: false } }] });

/**
 * Every conditional write of an invitation runs under the mutex `invite:<hash>` (FerretDB 1.x runs a
 * conditional findOneAndUpdate as a read and a write: ten concurrent uses of one invitation all
 * matched `usedAt: null` — store-contract.test.ts). A use that finds the mutex taken is refused (the
 * other caller is using it); writes that settle a use (release, setPlatform) wait for it.
 */
export class MongoInviteStore implements RegistrationInviteStore {
  private readonly model: Model<InviteDoc>;
  private readonly mutexes: Model<MutexDoc>;

  constructor(conn: Connection) {
    this.model = inviteModel(conn);
    this.mutexes = mutexModel(conn);
  }

  private async exclusive<T>(codeHash: string, critical: () => Promise<T>, wait: boolean): Promise<{ busy: true } | { busy: false; value: T }> {
    for (let tries = 0; ; tries += 1) {
      const outcome = await withMutex(this.mutexes, `invite:${codeHash}`, critical);
      if (!outcome.busy || !wait || tries >= 200) return outcome;
      await new Promise((resolve) => setTimeout(resolve, 10 + Math.floor(Math.random() * 20)));
    }
  }

  async create(invite: RegistrationInvite): Promise<void> {
    await this.model.create({ _id: invite.codeHash, name: invite.name, createdAt: invite.createdAt, expiresAt: invite.expiresAt, usedAt: null, platform: null, failedAttempts: 0 });
  }

  async get(codeHash: string): Promise<RegistrationInvite | null> {
    const doc = await this.model.findById(codeHash).lean<InviteDoc>().exec();
    return doc ? toInvite(doc) : null;
  }

  async consume(codeHash: string, now: Date, maxFailedAttempts: number): Promise<RegistrationInvite | null> {
    const outcome = await this.exclusive(codeHash, () => this.model
      .findOneAndUpdate({ _id: codeHash, usedAt: null, expiresAt: { $gt: now }, ...attemptsBelow(maxFailedAttempts) }, { $set: { usedAt: now }, $inc: { failedAttempts: 1 } }, { returnDocument: 'after' })
      .lean<InviteDoc>()
      .exec(), false);
    return !outcome.busy && outcome.value ? toInvite(outcome.value) : null;
  }

  async claimUpdate(codeHash: string, now: Date, maxFailedAttempts: number): Promise<RegistrationInvite | null> {
    const outcome = await this.exclusive(codeHash, () => this.model
      .findOneAndUpdate({ _id: codeHash, platform: { $ne: null }, expiresAt: { $gt: now }, ...attemptsBelow(maxFailedAttempts) }, { $inc: { failedAttempts: 1 } }, { returnDocument: 'after' })
      .lean<InviteDoc>()
      .exec(), false);
    return !outcome.busy && outcome.value ? toInvite(outcome.value) : null;
  }

  async release(codeHash: string, maxFailedAttempts: number): Promise<void> {
    const outcome = await this.exclusive(codeHash, () => this.model.updateOne({ _id: codeHash, platform: null, ...attemptsBelow(maxFailedAttempts) }, { $set: { usedAt: null } }).exec(), true);
    if (outcome.busy) throw new Error('release: the invitation mutex stayed taken, giving up');
  }

  async setPlatform(codeHash: string, platform: { issuer: string; clientId: string }): Promise<void> {
    const outcome = await this.exclusive(codeHash, async () => {
      await this.model.updateOne({ _id: codeHash }, { $set: { platform: { issuer: platform.issuer, clientId: platform.clientId } } }).exec();
      await this.model.updateOne({ _id: codeHash, failedAttempts: { $gt: 0 } }, { $inc: { failedAttempts: -1 } }).exec();
    }, true);
    if (outcome.busy) throw new Error('setPlatform: the invitation mutex stayed taken, giving up');
  }

  async list(): Promise<RegistrationInvite[]> {
    const docs = await this.model.find().sort({ createdAt: -1, _id: 1 }).lean<InviteDoc[]>().exec();
    return docs.map(toInvite);
  }
}

// ================================================================ login states
export class MongoLoginStateStore implements LoginStateStore {
  private readonly model: Model<LoginStateDoc>;
  private readonly mutexes: Model<MutexDoc>;

  constructor(conn: Connection) {
    this.model = loginStateModel(conn);
    this.mutexes = mutexModel(conn);
  }

  async save(entry: IssuedLoginState & { state: string; expiresAt: Date }): Promise<void> {
    await this.model.create({
      _id: entry.state,
      nonce: entry.nonce,
      issuer: entry.issuer,
      clientId: entry.clientId,
      storageTarget: entry.storageTarget,
      relaunchQuery: entry.relaunchQuery,
      linkQuery: entry.linkQuery,
      expiresAt: entry.expiresAt,
    });
  }

  /** Atomic find-and-delete; expiry is checked here (the sweep removes expired entries later). */
  async consume(state: string, now: Date): Promise<IssuedLoginState | null> {
    const outcome = await withMutex(this.mutexes, `login:${state}`, () =>
      this.model.findOneAndDelete({ _id: state }).lean<LoginStateDoc>().exec(),
    );
    const doc = outcome.busy ? null : outcome.value;
    if (!doc || doc.expiresAt.getTime() <= now.getTime()) return null;
    return {
      nonce: doc.nonce,
      issuer: doc.issuer,
      clientId: doc.clientId ?? null,
      storageTarget: doc.storageTarget ?? null,
      relaunchQuery: doc.relaunchQuery ?? null,
      linkQuery: doc.linkQuery ?? null,
    };
  }

  /** The sweep (no TTL index: FerretDB 1.x has none). Returns how many. */
  async deleteExpired(now: Date, limit?: number): Promise<number> {
    return deleteExpiredDocs(this.model, now, limit);
  }
}

/**
 * The tool's own expiry sweep for a collection with an `expiresAt` field (no TTL index: FerretDB 1.x
 * has none): everything expired, or at most `limit` documents of it. Returns how many were deleted.
 */
export async function deleteExpiredDocs<T extends { _id: string; expiresAt: Date }>(model: Model<T>, now: Date, limit?: number): Promise<number> {
  const expired = { expiresAt: { $lte: now } } as Parameters<Model<T>['deleteMany']>[0];
  if (limit === undefined) return (await model.deleteMany(expired).exec()).deletedCount;
  if (limit <= 0) return 0;
  const ids = await model.find(expired).select({ _id: 1 }).limit(limit).lean<Array<{ _id: string }>>().exec();
  if (ids.length === 0) return 0;
  return (await model.deleteMany({ _id: { $in: ids.map((d) => d._id) } } as Parameters<Model<T>['deleteMany']>[0]).exec()).deletedCount;
}
