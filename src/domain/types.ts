/**
 * Records of the tool, as plain data. Pure: no Express, no database.
 * An LMS user is (issuer, clientId, sub); an LMS course is (issuer, clientId, contextId).
 */

export interface LearnerKey {
  issuer: string;
  clientId: string;
  sub: string;
}

export interface CourseKey {
  issuer: string;
  clientId: string;
  contextId: string;
}

export type RunSource = 'custom' | 'lis' | 'typed';

export interface Learner extends LearnerKey {
  name: string | null;
  email: string | null;
  /** Normalised RUN (`12345678-5`), or null when the LMS sent none that is valid. */
  run: string | null;
  runSource: RunSource | null;
  updatedAt: Date;
}

/** SENCE environment: `rcetest` (test) or `rce` (production). */
export type SenceEnvironment = 'test' | 'production';

export type TrainingLine = 1 | 3 | 6;

export interface CourseSettings {
  otecId: string;
  lineaCapacitacion: TrainingLine;
  /** 10 digits; '' for line 1; '-1' only in test. */
  codSence: string;
  /** Action id (7–50 chars; line 6 exempt from the minimum; '-1' only in test). */
  codigoCurso: string;
  requiredHours: number;
  environment: SenceEnvironment;
  /** Open session limit in minutes (default 180). */
  sessionLimitMinutes: number;
  /** Warn this many minutes before the limit (default 10). */
  warningMinutes: number;
}

export interface Course extends CourseKey {
  title: string | null;
  settings: CourseSettings | null;
  updatedAt: Date;
}

/** An LMS platform registration: (issuer, client_id). */
export interface PlatformKey {
  issuer: string;
  clientId: string;
}

export interface Otec {
  id: string;
  name: string;
  /** OTEC RUT, normalised `xxxxxxxx-x`. */
  rut: string;
  /** AES-256-GCM sealed token (see src/domain/token-crypto.ts); never the plain token. */
  tokenSealed: string;
  /** Last 4 characters of the token, to show staff which one is stored. */
  tokenHint: string;
  /**
   * Platforms whose courses may use this OTEC and whose LMS administrators manage it (issue #7).
   * `null` only for an OTEC stored before links existed, until the start-up migration links it to
   * the platforms of the courses that use it.
   */
  platforms: PlatformKey[] | null;
  createdAt: Date;
  updatedAt: Date;
}

/**
 * One SENCE session of one learner in one course, from "Abrir sesión" to its end.
 * `idSesionAlumno` is sent to SENCE on start and close and echoed back in every callback.
 */
export type SessionState =
  | 'starting' // start form rendered, waiting for SENCE's callback
  | 'open' // SENCE accepted the start; the clock runs
  | 'closing' // close form rendered, waiting for SENCE's callback
  | 'closed' // SENCE accepted the close; time accredited
  | 'start-failed' // SENCE answered the start with an error
  | 'abandoned' // no start callback arrived in time (learner left ClaveÚnica)
  | 'expired' // open past the limit: its time is lost
  | 'ended-by-sence'; // SENCE says the session no longer exists (e.g. 301 on close)

/** The values sent to SENCE at start; the close resends them (plus IdSesionSence). No token. */
export interface SentFields {
  RutOtec: string;
  CodSence: string;
  CodigoCurso: string;
  LineaCapacitacion: string;
  RunAlumno: string;
  IdSesionAlumno: string;
}

export interface AttendanceSession {
  id: string;
  learner: LearnerKey;
  course: CourseKey;
  otecId: string;
  environment: SenceEnvironment;
  idSesionAlumno: string;
  sent: SentFields;
  state: SessionState;
  /** Limit and warning in force when the session started (minutes). */
  limitMinutes: number;
  warningMinutes: number;
  idSesionSence: string | null;
  /** SENCE's own `FechaHora` / `ZonaHoraria` of the start callback, stored as received. */
  senceStartFechaHora: string | null;
  senceZonaHoraria: string | null;
  createdAt: Date;
  /** Server time the start callback was accepted: the clock starts here. */
  openedAt: Date | null;
  closeRequestedAt: Date | null;
  /** Server time the session ended (closed, expired, failed, abandoned). */
  endedAt: Date | null;
  accreditedSeconds: number;
  /** Error codes of the last SENCE error answer, as text (e.g. ['211','204']). */
  lastErrorCodes: string[];
  /** Human reason for the end state (Spanish), e.g. why it expired. */
  endReason: string | null;
  /** Optimistic concurrency: incremented on every update. */
  version: number;
}

export type AttemptPhase = 'start' | 'close';

/** One trip through SENCE (start or close) with its one-time callback token. */
export interface CallbackAttempt {
  id: string;
  sessionId: string;
  phase: AttemptPhase;
  /** SHA-256 (hex) of the one-time token carried in UrlRetoma/UrlError. */
  tokenHash: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

export type AnswerOutcome = 'success' | 'error';

/** A SENCE callback that was accepted, with its raw payload. */
export interface SenceAnswer {
  id: string;
  sessionId: string;
  attemptId: string;
  phase: AttemptPhase;
  outcome: AnswerOutcome;
  errorCodes: string[];
  /** The posted fields exactly as received (trimmed names). */
  payload: Record<string, string>;
  receivedAt: Date;
  /** `Origin` and `Referer` headers of the callback, as received (issue #7). */
  origin?: string | null;
  referer?: string | null;
  /**
   * True when the browser named SENCE's origin (Origin/Referer); false only when it named another
   * site ("origen no verificado", issue #20 §5); absent when it named none (`Origin: null`, no
   * Referer) or the answer predates issue #7.
   */
  originVerified?: boolean;
}

export type AuditEvent =
  | 'attempt-created'
  | 'callback-accepted'
  | 'callback-rejected'
  | 'session-expired'
  | 'session-abandoned'
  | 'settings-saved'
  | 'settings-rejected'
  | 'otec-saved'
  | 'access-denied'
  | 'launch-rejected'
  // issue #9: per-learner action / exempt marks, and the staff alert digest
  | 'enrollment-saved'
  | 'enrollment-rejected'
  | 'alert-digest-sent'
  | 'alert-digest-failed'
  | 'otec-removed'
  | 'otec-refused'
  | 'registration-refused'
  | 'registration-completed'
  | 'rate-limited';

export interface AuditEntry {
  id: string;
  at: Date;
  event: AuditEvent;
  accepted: boolean;
  reason: string;
  sourceIp: string | null;
  learner: LearnerKey | null;
  course: CourseKey | null;
  sessionId: string | null;
  /** Non-secret details (never tokens). */
  details: Record<string, unknown>;
  /** How many identical entries this one stands for (repeated rejections are stored once); 1 when omitted. */
  count?: number;
  /** When the last of those identical entries happened; `at` when omitted. */
  lastAt?: Date;
}

/** A one-time dynamic-registration invitation created by the operator (`platform invite`). */
export interface RegistrationInvite {
  /** SHA-256 (hex) of the invitation code; the code itself is only printed once. */
  codeHash: string;
  name: string | null;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  /** The platform registered with it. */
  platform: PlatformKey | null;
  /**
   * Attempts charged and not given back (issue #19 §3): every use (a registration, or Moodle's
   * "Update") is charged one when it starts and given it back when it succeeds; at 3 it is spent.
   */
  failedAttempts: number;
}
