/**
 * Storage ports. Two real adapters implement each: SQLite (src/store/sqlite, embedded default) and
 * MongoDB (src/store/mongo, production). One contract suite (test/integration/store-contract.test.ts)
 * runs against both. Adapters return plain domain records (src/domain/types.ts), never rows/documents.
 */
import type {
  AttendanceSession,
  AuditEntry,
  CallbackAttempt,
  Course,
  CourseKey,
  CourseSettings,
  Learner,
  LearnerKey,
  Otec,
  SenceAnswer,
  SessionState,
} from '../domain/types';

export interface LearnerStore {
  /** Insert or update name/email/run; returns the stored learner. */
  upsert(learner: Omit<Learner, 'updatedAt'>): Promise<Learner>;
  get(key: LearnerKey): Promise<Learner | null>;
}

export interface CourseStore {
  /** Insert the course if new, update its title; keeps existing settings. */
  touch(key: CourseKey, title: string | null): Promise<Course>;
  get(key: CourseKey): Promise<Course | null>;
  saveSettings(key: CourseKey, settings: CourseSettings): Promise<Course>;
}

export interface OtecStore {
  list(): Promise<Otec[]>;
  get(id: string): Promise<Otec | null>;
  /** Insert or replace by id. */
  save(otec: Otec): Promise<Otec>;
}

export interface AttendanceStore {
  /**
   * Inserts a new session in state 'starting' unless the learner already has a session in
   * 'starting', 'open' or 'closing' in that course; returns { created: false, existing } then.
   * Must be atomic (a unique partial index), so a double click cannot create two.
   */
  createSessionIfNoneActive(
    session: AttendanceSession,
  ): Promise<{ created: true; session: AttendanceSession } | { created: false; existing: AttendanceSession }>;
  getSession(id: string): Promise<AttendanceSession | null>;
  /** The learner's session in 'starting' | 'open' | 'closing' for that course, if any. */
  findActiveSession(learner: LearnerKey, course: CourseKey): Promise<AttendanceSession | null>;
  /** All sessions of a learner in a course, newest first. */
  listSessions(learner: LearnerKey, course: CourseKey): Promise<AttendanceSession[]>;
  /** All sessions of a course, newest first (staff report). */
  listCourseSessions(course: CourseKey): Promise<AttendanceSession[]>;
  /**
   * Writes `next` only if the stored version equals `expectedVersion` (and stores version+1).
   * Returns the stored session, or null when someone else changed it first.
   */
  updateSession(next: AttendanceSession, expectedVersion: number): Promise<AttendanceSession | null>;
  /** Sessions in the given states, oldest first, at most `limit` (for expiry sweeps). */
  listSessionsInStates(states: SessionState[], limit: number): Promise<AttendanceSession[]>;

  createAttempt(attempt: CallbackAttempt): Promise<void>;
  /**
   * Stores `attempt` unless its session already has an open (unused, unexpired at `now`) attempt of
   * the same phase; returns the open one then, else `attempt`. Atomic, also across processes: a
   * double click or two instances never make two attempts.
   */
  createAttemptUnlessOpen(attempt: CallbackAttempt, now: Date): Promise<CallbackAttempt>;
  getAttempt(id: string): Promise<CallbackAttempt | null>;
  /** Latest unused, unexpired attempt of a session and phase (to reuse on double click). */
  findOpenAttempt(sessionId: string, phase: CallbackAttempt['phase'], now: Date): Promise<CallbackAttempt | null>;
  /** Marks the attempt used if it was unused; returns false when it was already used (replay). Atomic. */
  markAttemptUsed(id: string, at: Date): Promise<boolean>;

  saveAnswer(answer: SenceAnswer): Promise<void>;
  listAnswers(sessionId: string): Promise<SenceAnswer[]>;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  /** Newest first; filter by course when given. */
  list(filter: { course?: CourseKey; limit: number }): Promise<AuditEntry[]>;
}

/** One login of the OIDC flow: the nonce this tool issued for `state`, consumed once at launch. */
export interface LoginStateStore {
  save(entry: { state: string; nonce: string; issuer: string; clientId: string | null; expiresAt: Date }): Promise<void>;
  /** Returns and deletes the entry (atomic); null when unknown, used or expired. */
  consume(state: string, now: Date): Promise<{ nonce: string; issuer: string; clientId: string | null } | null>;
  /**
   * Removes entries that expired (logins never completed), at most `limit` of them when given
   * (the sweep works in small batches); returns how many.
   */
  deleteExpired(now: Date, limit?: number): Promise<number>;
}

export interface Stores {
  learners: LearnerStore;
  courses: CourseStore;
  otecs: OtecStore;
  attendance: AttendanceStore;
  audit: AuditLog;
  logins: LoginStateStore;
  /**
   * Resolves when the store answers and accepts writes; rejects (with the reason, no secret)
   * otherwise. GET /readyz asks it.
   */
  checkReady(): Promise<void>;
  close(): Promise<void>;
}
