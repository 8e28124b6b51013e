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
  RegistrationInvite,
  SenceAnswer,
  SessionState,
} from '../domain/types';
import type { CourseRoster } from '../domain/roster';
import type { LearnerEnrollment } from '../domain/enrollment';

export interface LearnerStore {
  /** Insert or update name/email/run; returns the stored learner. */
  upsert(learner: Omit<Learner, 'updatedAt'>): Promise<Learner>;
  get(key: LearnerKey): Promise<Learner | null>;
  /**
   * The learners of one platform (issuer and client id) whose sub is in `subs`, by sub; unknown
   * subs are absent. A few queries for any number of subs (staff pages list whole courses).
   */
  getMany(platform: PlatformKey, subs: readonly string[]): Promise<Map<string, Learner>>;
}

/** The platform part of a learner's key. */
export interface PlatformKey {
  issuer: string;
  clientId: string;
}

export interface CourseStore {
  /** Insert the course if new, update its title; keeps existing settings. */
  touch(key: CourseKey, title: string | null): Promise<Course>;
  get(key: CourseKey): Promise<Course | null>;
  saveSettings(key: CourseKey, settings: CourseSettings): Promise<Course>;
  /** Courses whose settings use this OTEC (OTEC migration and removal). */
  listByOtec(otecId: string): Promise<Course[]>;
}

export interface OtecStore {
  list(): Promise<Otec[]>;
  get(id: string): Promise<Otec | null>;
  /** Insert or replace by id. */
  save(otec: Otec): Promise<Otec>;
  /** Deletes it; false when it did not exist. */
  remove(id: string): Promise<boolean>;
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
  /**
   * Undoes markAttemptUsed(id, at) when what followed could not be written (the store failed in
   * between): the same callback can then be posted again. Only an attempt used at exactly `at` is
   * released; returns whether it was.
   */
  releaseAttempt(id: string, at: Date): Promise<boolean>;

  saveAnswer(answer: SenceAnswer): Promise<void>;
  listAnswers(sessionId: string): Promise<SenceAnswer[]>;
  /**
   * Of these sessions, those with at least one SENCE answer whose origin was not verified
   * (`originVerified === false`, issue #7), whether filed or still kept on the session. A few
   * queries for any number of sessions (the staff attendance page of a whole course).
   */
  sessionsWithUnverifiedOrigin(sessionIds: readonly string[]): Promise<Set<string>>;

  /**
   * Records an accepted SENCE callback: marks the attempt used (only if it was unused), writes
   * `next` (only if the stored version is still `expectedVersion`) and stores SENCE's answer.
   * - `attempt-used`: another post of the same callback came first; nothing written.
   * - `session-changed`: the session changed since it was read (another callback, the sweep); the
   *   attempt stays used (a replay is refused), the session and the answer are not written.
   * - a store failure: SQLite keeps nothing (the attempt stays unused: the callback can be posted
   *   again). MongoDB (no transactions on FerretDB) writes the session, the answer and the attempt's
   *   id in one document update first (the commit point, issue #19 §4): a failure before it leaves
   *   nothing, so the callback can be posted again; after it, marking the attempt used and filing
   *   the answer in its own collection may fail without harm (getAttempt counts an attempt listed
   *   on its session as used; the answer stays on the session, where listAnswers finds it).
   * SQLite commits the unit together with the other writes of the same moment (group commit).
   */
  recordCallback(record: CallbackRecord): Promise<CallbackRecordOutcome>;
}

export interface CallbackRecord {
  attemptId: string;
  usedAt: Date;
  next: AttendanceSession;
  expectedVersion: number;
  answer: SenceAnswer;
}

export type CallbackRecordOutcome =
  | { ok: true; session: AttendanceSession }
  | { ok: false; conflict: 'attempt-used' | 'session-changed' };

export interface AuditFilter {
  course?: CourseKey;
  /** Only accepted (true) or only rejected (false) entries. */
  accepted?: boolean;
  learner?: LearnerKey;
  limit: number;
  /** Entries to skip first, in the same order (the audit page's pages); 0 when absent. */
  offset?: number;
}

export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  /**
   * Stores `entry` once per `fingerprint`: when an entry with the same fingerprint was stored (or
   * repeated) at or after `since`, that entry's count grows by one and its lastAt becomes entry.at
   * instead of adding a row (a flood of identical rejections is one entry with a count).
   */
  recordRepeatable(entry: AuditEntry, fingerprint: string, since: Date): Promise<void>;
  /** Newest first (by first occurrence); every filter given applies. count and lastAt are always set. */
  list(filter: AuditFilter): Promise<AuditEntry[]>;
  /**
   * Retention (issue #19): deletes at most `limit` entries whose last occurrence (lastAt) is before
   * `before`, oldest first; returns how many. The periodic sweep calls it in batches.
   */
  deleteOlderThan(before: Date, limit: number): Promise<number>;
}

/** One-time dynamic-registration invitations (`platform invite`). */
export interface RegistrationInviteStore {
  create(invite: RegistrationInvite): Promise<void>;
  get(codeHash: string): Promise<RegistrationInvite | null>;
  /**
   * A first registration: marks it used and charges one attempt if it is unused, unexpired at `now`
   * and has fewer than `maxFailedAttempts` attempts charged; returns it (as updated), or null. Atomic.
   */
  consume(codeHash: string, now: Date, maxFailedAttempts: number): Promise<RegistrationInvite | null>;
  /**
   * Moodle's "Update": charges one attempt if it registered a platform, is unexpired at `now` and has
   * fewer than `maxFailedAttempts` attempts charged; returns it (as updated), or null. Atomic.
   */
  claimUpdate(codeHash: string, now: Date, maxFailedAttempts: number): Promise<RegistrationInvite | null>;
  /**
   * A first registration failed: its attempt stays charged, and the invitation is unused again
   * unless it registered a platform or its charged attempts reached `maxFailedAttempts` (spent).
   */
  release(codeHash: string, maxFailedAttempts: number): Promise<void>;
  /** A registration or update succeeded: records the platform and gives its attempt back. */
  setPlatform(codeHash: string, platform: { issuer: string; clientId: string }): Promise<void>;
  list(): Promise<RegistrationInvite[]>;
}

/** One login of the OIDC flow: the nonce this tool issued for `state`, consumed once at launch. */
/** One OIDC login this tool started: what its launch must match. */
export interface IssuedLoginState {
  nonce: string;
  issuer: string;
  clientId: string | null;
  /**
   * LTI Platform Storage: the `lti_storage_target` of a login whose state was put in the platform's
   * storage (its launch must prove the same browser holds it); null for a login without it.
   */
  storageTarget: string | null;
  /** Query of the login initiation without `lti_storage_target`: relaunches the tool top-level. */
  relaunchQuery: string | null;
  /**
   * The query string of the login's `target_link_uri` (a link such as `…/lti?vista=x`): the platform
   * is sent the URI without it, and the launch's request gets it back (as ltijs did); null when none.
   */
  linkQuery: string | null;
}

export interface LoginStateStore {
  save(entry: IssuedLoginState & { state: string; expiresAt: Date }): Promise<void>;
  /** Returns and deletes the entry (atomic); null when unknown, used or expired. */
  consume(state: string, now: Date): Promise<IssuedLoginState | null>;
  /**
   * Removes entries that expired (logins never completed), at most `limit` of them when given
   * (the sweep works in small batches); returns how many.
   */
  deleteExpired(now: Date, limit?: number): Promise<number>;
}

/**
 * LTI Platform Storage's pending launches (issue #19): the check page's sealed `pending` names one
 * of these, and only the first answer that spends it goes on to the panel (a replay within its
 * lifetime finds nothing). Expired ones are removed by the periodic sweep (no TTL index).
 */
export interface PendingLaunchStore {
  save(id: string, expiresAt: Date): Promise<void>;
  /** Deletes the entry (atomic); true only for the one call that found it unexpired at `now`. */
  consume(id: string, now: Date): Promise<boolean>;
  /** Removes entries expired at `now`, at most `limit` of them when given; returns how many. */
  deleteExpired(now: Date, limit?: number): Promise<number>;
}

/** The last roster fetched from the LMS (NRPS) per course: the report's cache, kept across restarts. */
export interface RosterStore {
  get(course: CourseKey): Promise<CourseRoster | null>;
  /** Insert or replace the course's roster. */
  save(roster: CourseRoster): Promise<void>;
  /** Every course with a stored roster (the daily alert digest walks them). */
  listCourses(): Promise<CourseKey[]>;
}

/** Per course: when the daily alert digest was last tried and last delivered. */
export interface DigestState {
  course: CourseKey;
  /** Santiago day (yyyy-mm-dd) of the last attempt, successful or not: one attempt per day. */
  lastAttemptDay: string | null;
  /** Last successful delivery: errors after it go in the next digest (nothing lost on a failure). */
  lastSentAt: Date | null;
  lastError: string | null;
}

export interface DigestStore {
  get(course: CourseKey): Promise<DigestState | null>;
  /** Insert or replace by course. */
  save(state: DigestState): Promise<void>;
}

/** Per-learner SENCE action and exempt mark (issue #9), one record per course and LMS user. */
export interface EnrollmentStore {
  get(course: CourseKey, sub: string): Promise<LearnerEnrollment | null>;
  /** Every record of the course, ordered by sub. */
  list(course: CourseKey): Promise<LearnerEnrollment[]>;
  /**
   * Inserts or replaces each record (by course and sub). Callers validate everything first: a batch
   * is only written when every row of it is valid.
   */
  saveMany(records: LearnerEnrollment[]): Promise<void>;
}

export interface Stores {
  learners: LearnerStore;
  courses: CourseStore;
  otecs: OtecStore;
  attendance: AttendanceStore;
  audit: AuditLog;
  logins: LoginStateStore;
  pendingLaunches: PendingLaunchStore;
  rosters: RosterStore;
  enrollments: EnrollmentStore;
  digests: DigestStore;
  invites: RegistrationInviteStore;
  /**
   * Resolves when the store answers and accepts writes; rejects (with the reason, no secret)
   * otherwise. GET /readyz asks it.
   */
  checkReady(): Promise<void>;
  close(): Promise<void>;
}
