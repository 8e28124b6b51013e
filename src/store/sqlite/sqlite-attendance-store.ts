import type {
  AttendanceSession,
  AttemptPhase,
  AnswerOutcome,
  CallbackAttempt,
  CourseKey,
  LearnerKey,
  SenceAnswer,
  SenceEnvironment,
  SentFields,
  SessionState,
} from '../../domain/types';
import type { AttendanceStore, CallbackRecord, CallbackRecordOutcome } from '../ports';
import type { GroupCommit } from './group-commit';
import { ACTIVE_STATES_SQL, type Database } from './open-sqlite';
import { fromMs, fromMsOrNull, isSqliteConstraint, json, parseJson, toMs, toMsOrNull } from './sqlite-codec';

interface SessionRow {
  id: string;
  learner_issuer: string;
  learner_client_id: string;
  learner_sub: string;
  course_issuer: string;
  course_client_id: string;
  course_context_id: string;
  otec_id: string;
  environment: string;
  id_sesion_alumno: string;
  sent: string;
  state: string;
  limit_minutes: number;
  warning_minutes: number;
  id_sesion_sence: string | null;
  sence_start_fecha_hora: string | null;
  sence_zona_horaria: string | null;
  created_at: number;
  opened_at: number | null;
  close_requested_at: number | null;
  ended_at: number | null;
  accredited_seconds: number;
  last_error_codes: string;
  end_reason: string | null;
  version: number;
}

/** Named parameters of the session INSERT / UPDATE: the row itself. */
type SessionParams = SessionRow;

interface AttemptRow {
  id: string;
  session_id: string;
  phase: string;
  token_hash: string;
  created_at: number;
  expires_at: number;
  used_at: number | null;
}

interface AnswerRow {
  id: string;
  session_id: string;
  attempt_id: string;
  phase: string;
  outcome: string;
  error_codes: string;
  payload: string;
  received_at: number;
  origin: string | null;
  referer: string | null;
  origin_verified: number | null;
}

function toSession(row: SessionRow): AttendanceSession {
  return {
    id: row.id,
    learner: { issuer: row.learner_issuer, clientId: row.learner_client_id, sub: row.learner_sub },
    course: { issuer: row.course_issuer, clientId: row.course_client_id, contextId: row.course_context_id },
    otecId: row.otec_id,
    environment: row.environment as SenceEnvironment,
    idSesionAlumno: row.id_sesion_alumno,
    sent: parseJson<SentFields>(row.sent),
    state: row.state as SessionState,
    limitMinutes: row.limit_minutes,
    warningMinutes: row.warning_minutes,
    idSesionSence: row.id_sesion_sence,
    senceStartFechaHora: row.sence_start_fecha_hora,
    senceZonaHoraria: row.sence_zona_horaria,
    createdAt: fromMs(row.created_at),
    openedAt: fromMsOrNull(row.opened_at),
    closeRequestedAt: fromMsOrNull(row.close_requested_at),
    endedAt: fromMsOrNull(row.ended_at),
    accreditedSeconds: row.accredited_seconds,
    lastErrorCodes: parseJson<string[]>(row.last_error_codes),
    endReason: row.end_reason,
    version: row.version,
  };
}

function sessionParams(s: AttendanceSession, version: number): SessionParams {
  return {
    id: s.id,
    learner_issuer: s.learner.issuer,
    learner_client_id: s.learner.clientId,
    learner_sub: s.learner.sub,
    course_issuer: s.course.issuer,
    course_client_id: s.course.clientId,
    course_context_id: s.course.contextId,
    otec_id: s.otecId,
    environment: s.environment,
    id_sesion_alumno: s.idSesionAlumno,
    sent: json(s.sent),
    state: s.state,
    limit_minutes: s.limitMinutes,
    warning_minutes: s.warningMinutes,
    id_sesion_sence: s.idSesionSence,
    sence_start_fecha_hora: s.senceStartFechaHora,
    sence_zona_horaria: s.senceZonaHoraria,
    created_at: toMs(s.createdAt),
    opened_at: toMsOrNull(s.openedAt),
    close_requested_at: toMsOrNull(s.closeRequestedAt),
    ended_at: toMsOrNull(s.endedAt),
    accredited_seconds: s.accreditedSeconds,
    last_error_codes: json(s.lastErrorCodes),
    end_reason: s.endReason,
    version,
  };
}

function toAttempt(row: AttemptRow): CallbackAttempt {
  return {
    id: row.id,
    sessionId: row.session_id,
    phase: row.phase as AttemptPhase,
    tokenHash: row.token_hash,
    createdAt: fromMs(row.created_at),
    expiresAt: fromMs(row.expires_at),
    usedAt: fromMsOrNull(row.used_at),
  };
}

function toAnswer(row: AnswerRow): SenceAnswer {
  return {
    id: row.id,
    sessionId: row.session_id,
    attemptId: row.attempt_id,
    phase: row.phase as AttemptPhase,
    outcome: row.outcome as AnswerOutcome,
    errorCodes: parseJson<string[]>(row.error_codes),
    payload: parseJson<Record<string, string>>(row.payload),
    receivedAt: fromMs(row.received_at),
    ...(row.origin === null ? {} : { origin: row.origin }),
    ...(row.referer === null ? {} : { referer: row.referer }),
    ...(row.origin_verified === null ? {} : { originVerified: row.origin_verified === 1 }),
  };
}

const LEARNER_COURSE_WHERE = `learner_issuer = ? AND learner_client_id = ? AND learner_sub = ?
  AND course_issuer = ? AND course_client_id = ? AND course_context_id = ?`;

type LearnerCourseParams = [string, string, string, string, string, string];

function learnerCourse(learner: LearnerKey, course: CourseKey): LearnerCourseParams {
  return [learner.issuer, learner.clientId, learner.sub, course.issuer, course.clientId, course.contextId];
}

export class SqliteAttendanceStore implements AttendanceStore {
  private readonly insertSessionStmt;
  private readonly getSessionStmt;
  private readonly findActiveStmt;
  private readonly listSessionsStmt;
  private readonly listCourseSessionsStmt;
  private readonly updateSessionStmt;
  private readonly listInStatesStmt;
  private readonly insertAttemptStmt;
  private readonly getAttemptStmt;
  private readonly findOpenAttemptStmt;
  private readonly markAttemptUsedStmt;
  private readonly releaseAttemptStmt;
  private readonly insertAnswerStmt;
  private readonly listAnswersStmt;
  private readonly unverifiedOriginStmt;

  private readonly createAttemptUnlessOpenTx;
  private readonly commits: GroupCommit;

  constructor(db: Database, commits: GroupCommit) {
    this.commits = commits;
    // IMMEDIATE: the write lock is taken before the read, so two processes cannot both miss.
    this.createAttemptUnlessOpenTx = db.transaction((attempt: CallbackAttempt, now: Date): CallbackAttempt => {
      const open = this.findOpenAttemptStmt.get(attempt.sessionId, attempt.phase, toMs(now));
      if (open) return toAttempt(open);
      this.insertAttempt(attempt);
      return attempt;
    });
    this.insertSessionStmt = db.prepare<[SessionParams]>(
      `INSERT INTO app_sessions (
         id, learner_issuer, learner_client_id, learner_sub, course_issuer, course_client_id, course_context_id,
         otec_id, environment, id_sesion_alumno, sent, state, limit_minutes, warning_minutes, id_sesion_sence,
         sence_start_fecha_hora, sence_zona_horaria, created_at, opened_at, close_requested_at, ended_at,
         accredited_seconds, last_error_codes, end_reason, version)
       VALUES (
         @id, @learner_issuer, @learner_client_id, @learner_sub, @course_issuer, @course_client_id, @course_context_id,
         @otec_id, @environment, @id_sesion_alumno, @sent, @state, @limit_minutes, @warning_minutes, @id_sesion_sence,
         @sence_start_fecha_hora, @sence_zona_horaria, @created_at, @opened_at, @close_requested_at, @ended_at,
         @accredited_seconds, @last_error_codes, @end_reason, @version)`,
    );
    this.getSessionStmt = db.prepare<[string], SessionRow>('SELECT * FROM app_sessions WHERE id = ?');
    // Same predicate text as the partial index app_sessions_active, so SQLite can use it.
    this.findActiveStmt = db.prepare<LearnerCourseParams, SessionRow>(
      `SELECT * FROM app_sessions WHERE ${LEARNER_COURSE_WHERE} AND state IN ${ACTIVE_STATES_SQL}`,
    );
    this.listSessionsStmt = db.prepare<LearnerCourseParams, SessionRow>(
      `SELECT * FROM app_sessions WHERE ${LEARNER_COURSE_WHERE} ORDER BY created_at DESC, id DESC`,
    );
    this.listCourseSessionsStmt = db.prepare<[string, string, string], SessionRow>(
      `SELECT * FROM app_sessions WHERE course_issuer = ? AND course_client_id = ? AND course_context_id = ?
       ORDER BY created_at DESC, id DESC`,
    );
    // Identity (id, learner, course, created_at) never changes; everything else is written from `next`.
    this.updateSessionStmt = db.prepare<[SessionParams & { expected_version: number }], SessionRow>(
      `UPDATE app_sessions SET
         otec_id = @otec_id, environment = @environment, id_sesion_alumno = @id_sesion_alumno, sent = @sent,
         state = @state, limit_minutes = @limit_minutes, warning_minutes = @warning_minutes,
         id_sesion_sence = @id_sesion_sence, sence_start_fecha_hora = @sence_start_fecha_hora,
         sence_zona_horaria = @sence_zona_horaria, opened_at = @opened_at, close_requested_at = @close_requested_at,
         ended_at = @ended_at, accredited_seconds = @accredited_seconds, last_error_codes = @last_error_codes,
         end_reason = @end_reason, version = @version
       WHERE id = @id AND version = @expected_version
       RETURNING *`,
    );
    // One statement for any set of states: the list arrives as a JSON array.
    this.listInStatesStmt = db.prepare<[string, number], SessionRow>(
      `SELECT * FROM app_sessions WHERE state IN (SELECT value FROM json_each(?))
       ORDER BY created_at ASC, id ASC LIMIT ?`,
    );

    this.insertAttemptStmt = db.prepare<[string, string, string, string, number, number, number | null]>(
      `INSERT INTO app_attempts (id, session_id, phase, token_hash, created_at, expires_at, used_at)
       VALUES (?, ?, ?, ?, ?, ?, ?)`,
    );
    this.getAttemptStmt = db.prepare<[string], AttemptRow>('SELECT * FROM app_attempts WHERE id = ?');
    this.findOpenAttemptStmt = db.prepare<[string, string, number], AttemptRow>(
      `SELECT * FROM app_attempts
       WHERE session_id = ? AND phase = ? AND used_at IS NULL AND expires_at > ?
       ORDER BY created_at DESC, id DESC LIMIT 1`,
    );
    this.markAttemptUsedStmt = db.prepare<[number, string]>(
      'UPDATE app_attempts SET used_at = ? WHERE id = ? AND used_at IS NULL',
    );
    this.releaseAttemptStmt = db.prepare<[string, number]>(
      'UPDATE app_attempts SET used_at = NULL WHERE id = ? AND used_at = ?',
    );

    this.insertAnswerStmt = db.prepare<[string, string, string, string, string, string, string, number, string | null, string | null, number | null]>(
      `INSERT INTO app_answers (id, session_id, attempt_id, phase, outcome, error_codes, payload, received_at,
         origin, referer, origin_verified)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    this.listAnswersStmt = db.prepare<[string], AnswerRow>(
      'SELECT * FROM app_answers WHERE session_id = ? ORDER BY received_at ASC, id ASC',
    );
    // Any number of sessions (a JSON array), each looked up through app_answers_by_session.
    this.unverifiedOriginStmt = db.prepare<[string], { session_id: string }>(
      'SELECT DISTINCT session_id FROM app_answers WHERE session_id IN (SELECT value FROM json_each(?)) AND origin_verified = 0',
    );
  }

  async createSessionIfNoneActive(
    session: AttendanceSession,
  ): Promise<{ created: true; session: AttendanceSession } | { created: false; existing: AttendanceSession }> {
    const params = sessionParams(session, session.version);
    // The unique partial index decides, also against other processes sharing the file. If the
    // active session we collided with ends before we read it, try again (bounded).
    for (let round = 0; round < 3; round += 1) {
      try {
        this.insertSessionStmt.run(params);
        return { created: true, session: toSession(params) };
      } catch (error) {
        if (!isSqliteConstraint(error, 'SQLITE_CONSTRAINT_UNIQUE')) throw error;
      }
      const existing = this.findActiveStmt.get(...learnerCourse(session.learner, session.course));
      if (existing) return { created: false, existing: toSession(existing) };
    }
    throw new Error('createSessionIfNoneActive: the active session kept changing, giving up');
  }

  async getSession(id: string): Promise<AttendanceSession | null> {
    const row = this.getSessionStmt.get(id);
    return row ? toSession(row) : null;
  }

  async findActiveSession(learner: LearnerKey, course: CourseKey): Promise<AttendanceSession | null> {
    const row = this.findActiveStmt.get(...learnerCourse(learner, course));
    return row ? toSession(row) : null;
  }

  async listSessions(learner: LearnerKey, course: CourseKey): Promise<AttendanceSession[]> {
    return this.listSessionsStmt.all(...learnerCourse(learner, course)).map(toSession);
  }

  async listCourseSessions(course: CourseKey): Promise<AttendanceSession[]> {
    return this.listCourseSessionsStmt.all(course.issuer, course.clientId, course.contextId).map(toSession);
  }

  async updateSession(next: AttendanceSession, expectedVersion: number): Promise<AttendanceSession | null> {
    return this.writeSession(next, expectedVersion);
  }

  private writeSession(next: AttendanceSession, expectedVersion: number): AttendanceSession | null {
    const row = this.updateSessionStmt.get({ ...sessionParams(next, expectedVersion + 1), expected_version: expectedVersion });
    return row ? toSession(row) : null;
  }

  async listSessionsInStates(states: SessionState[], limit: number): Promise<AttendanceSession[]> {
    if (states.length === 0 || limit <= 0) return [];
    return this.listInStatesStmt.all(json(states), limit).map(toSession);
  }

  private insertAttempt(attempt: CallbackAttempt): void {
    this.insertAttemptStmt.run(
      attempt.id,
      attempt.sessionId,
      attempt.phase,
      attempt.tokenHash,
      toMs(attempt.createdAt),
      toMs(attempt.expiresAt),
      toMsOrNull(attempt.usedAt),
    );
  }

  async createAttempt(attempt: CallbackAttempt): Promise<void> {
    this.insertAttempt(attempt);
  }

  async createAttemptUnlessOpen(attempt: CallbackAttempt, now: Date): Promise<CallbackAttempt> {
    return this.createAttemptUnlessOpenTx.immediate(attempt, now);
  }

  async getAttempt(id: string): Promise<CallbackAttempt | null> {
    const row = this.getAttemptStmt.get(id);
    return row ? toAttempt(row) : null;
  }

  async findOpenAttempt(sessionId: string, phase: AttemptPhase, now: Date): Promise<CallbackAttempt | null> {
    const row = this.findOpenAttemptStmt.get(sessionId, phase, toMs(now));
    return row ? toAttempt(row) : null;
  }

  async markAttemptUsed(id: string, at: Date): Promise<boolean> {
    return this.markAttemptUsedStmt.run(toMs(at), id).changes === 1;
  }

  async releaseAttempt(id: string, at: Date): Promise<boolean> {
    return this.releaseAttemptStmt.run(id, toMs(at)).changes === 1;
  }

  async recordCallback(record: CallbackRecord): Promise<CallbackRecordOutcome> {
    // One unit of the group commit: all of it or (on a store failure) none of it.
    return this.commits.run((): CallbackRecordOutcome => {
      if (this.markAttemptUsedStmt.run(toMs(record.usedAt), record.attemptId).changes !== 1) return { ok: false, conflict: 'attempt-used' };
      const session = this.writeSession(record.next, record.expectedVersion);
      if (!session) return { ok: false, conflict: 'session-changed' };
      this.insertAnswer(record.answer);
      return { ok: true, session };
    });
  }

  async saveAnswer(answer: SenceAnswer): Promise<void> {
    this.insertAnswer(answer);
  }

  private insertAnswer(answer: SenceAnswer): void {
    this.insertAnswerStmt.run(
      answer.id,
      answer.sessionId,
      answer.attemptId,
      answer.phase,
      answer.outcome,
      json(answer.errorCodes),
      json(answer.payload),
      toMs(answer.receivedAt),
      answer.origin ?? null,
      answer.referer ?? null,
      answer.originVerified === undefined ? null : answer.originVerified ? 1 : 0,
    );
  }

  /** Oldest first (arrival order). */
  async listAnswers(sessionId: string): Promise<SenceAnswer[]> {
    return this.listAnswersStmt.all(sessionId).map(toAnswer);
  }

  async sessionsWithUnverifiedOrigin(sessionIds: readonly string[]): Promise<Set<string>> {
    if (sessionIds.length === 0) return new Set();
    return new Set(this.unverifiedOriginStmt.all(JSON.stringify([...new Set(sessionIds)])).map((r) => r.session_id));
  }
}
