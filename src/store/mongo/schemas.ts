/**
 * Mongoose schemas, indexes and models of the tool's own collections (all prefixed `sence_`).
 *
 * Why mongoose 8 on its own connection (mongoose.createConnection), not the default one: ltijs pins
 * mongoose 7 and registers its models on *its* default connection, and its Close() disconnects that
 * default connection. Keeping our models on a separate mongoose 8 Connection means no model-name
 * collisions with ltijs, no dependence on ltijs's mongoose version, and ltijs's shutdown cannot close
 * our store under us (nor ours its).
 *
 * Thin by design: documents mirror the domain records (src/domain/types.ts) field by field; mapping
 * lives in mongo-stores.ts. Nested free-form values (sent fields, settings, payload, details) are
 * Mixed and stored as given (`minimize: false` keeps `{}`). No `required`: '' is a valid value of
 * several fields (e.g. codSence for line 1) and the adapters always write every field.
 */
import { Schema, type Connection, type Model, type Types } from 'mongoose';

/** Indexes are built by Connection.syncIndexes() at start (see openMongoStores), not lazily per model. */
const OPTIONS = { versionKey: false, minimize: false, id: false, autoIndex: false } as const;

const nullableString = { type: String, default: null };
const nullableDate = { type: Date, default: null };

// ---------------------------------------------------------------- learners
export interface LearnerDoc {
  _id: Types.ObjectId;
  issuer: string;
  clientId: string;
  sub: string;
  name: string | null;
  email: string | null;
  run: string | null;
  runSource: string | null;
  updatedAt: Date;
}

const learnerSchema = new Schema<LearnerDoc>(
  {
    issuer: String,
    clientId: String,
    sub: String,
    name: nullableString,
    email: nullableString,
    run: nullableString,
    runSource: nullableString,
    updatedAt: Date,
  },
  { ...OPTIONS, collection: 'sence_learners' },
);
learnerSchema.index({ issuer: 1, clientId: 1, sub: 1 }, { unique: true });

// ---------------------------------------------------------------- courses
export interface CourseDoc {
  _id: Types.ObjectId;
  issuer: string;
  clientId: string;
  contextId: string;
  title: string | null;
  settings: Record<string, unknown> | null;
  updatedAt: Date;
}

const courseSchema = new Schema<CourseDoc>(
  {
    issuer: String,
    clientId: String,
    contextId: String,
    title: nullableString,
    settings: { type: Schema.Types.Mixed, default: null },
    updatedAt: Date,
  },
  { ...OPTIONS, collection: 'sence_courses' },
);
courseSchema.index({ issuer: 1, clientId: 1, contextId: 1 }, { unique: true });

// ---------------------------------------------------------------- otecs
export interface OtecDoc {
  _id: string;
  name: string;
  rut: string;
  tokenSealed: string;
  tokenHint: string;
  /** Absent/null: stored before issue #7 (linked by the start-up migration). */
  platforms?: Array<{ issuer: string; clientId: string }> | null;
  createdAt: Date;
  updatedAt: Date;
}

const otecSchema = new Schema<OtecDoc>(
  {
    _id: String,
    name: String,
    rut: String,
    tokenSealed: String,
    tokenHint: String,
    platforms: { type: Schema.Types.Mixed, default: null },
    createdAt: Date,
    updatedAt: Date,
  },
  { ...OPTIONS, collection: 'sence_otecs' },
);
otecSchema.index({ name: 1, _id: 1 });

// ---------------------------------------------------------------- sessions
const learnerKeySchema = new Schema({ issuer: String, clientId: String, sub: String }, { _id: false, id: false });
const courseKeySchema = new Schema({ issuer: String, clientId: String, contextId: String }, { _id: false, id: false });

export interface LearnerKeyDoc {
  issuer: string;
  clientId: string;
  sub: string;
}

export interface CourseKeyDoc {
  issuer: string;
  clientId: string;
  contextId: string;
}

export interface SessionDoc {
  _id: string;
  learner: LearnerKeyDoc;
  course: CourseKeyDoc;
  otecId: string;
  environment: string;
  idSesionAlumno: string;
  sent: Record<string, unknown>;
  state: string;
  limitMinutes: number;
  warningMinutes: number;
  idSesionSence: string | null;
  senceStartFechaHora: string | null;
  senceZonaHoraria: string | null;
  createdAt: Date;
  openedAt: Date | null;
  closeRequestedAt: Date | null;
  endedAt: Date | null;
  accreditedSeconds: number;
  lastErrorCodes: string[];
  endReason: string | null;
  version: number;
  /**
   * SENCE answers written in the same single-document update as the session they changed (MongoDB
   * has no transactions on FerretDB), until they are filed in `sence_answers`; see recordCallback.
   */
  unfiledAnswers?: AnswerDoc[];
  /**
   * The callback attempts whose answer changed this session, written in the same update (issue #19
   * §4): the commit point of a callback. An attempt is used when it is listed here, whether or not
   * its own `usedAt` was written before the store stopped; a second write for it never matches.
   */
  answeredAttempts?: string[];
}

const sessionSchema = new Schema<SessionDoc>(
  {
    _id: String,
    learner: { type: learnerKeySchema },
    course: { type: courseKeySchema },
    otecId: String,
    environment: String,
    idSesionAlumno: String,
    sent: { type: Schema.Types.Mixed },
    state: String,
    limitMinutes: Number,
    warningMinutes: Number,
    idSesionSence: nullableString,
    senceStartFechaHora: nullableString,
    senceZonaHoraria: nullableString,
    createdAt: Date,
    openedAt: nullableDate,
    closeRequestedAt: nullableDate,
    endedAt: nullableDate,
    accreditedSeconds: Number,
    lastErrorCodes: { type: [String], default: undefined },
    endReason: nullableString,
    version: Number,
    unfiledAnswers: { type: [Schema.Types.Mixed], default: undefined },
    answeredAttempts: { type: [String], default: undefined },
  },
  { ...OPTIONS, collection: 'sence_sessions' },
);
// listSessions (learner + course, newest first)
sessionSchema.index({
  'learner.issuer': 1,
  'learner.clientId': 1,
  'learner.sub': 1,
  'course.issuer': 1,
  'course.clientId': 1,
  'course.contextId': 1,
  createdAt: -1,
});
// listCourseSessions (course, newest first)
sessionSchema.index({ 'course.issuer': 1, 'course.clientId': 1, 'course.contextId': 1, createdAt: -1 });
// listSessionsInStates (oldest first)
sessionSchema.index({ state: 1, createdAt: 1 });

// ---------------------------------------------------------------- attempts
export interface AttemptDoc {
  _id: string;
  sessionId: string;
  phase: string;
  tokenHash: string;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
}

const attemptSchema = new Schema<AttemptDoc>(
  {
    _id: String,
    sessionId: String,
    phase: String,
    tokenHash: String,
    createdAt: Date,
    expiresAt: Date,
    usedAt: nullableDate,
  },
  { ...OPTIONS, collection: 'sence_attempts' },
);
// findOpenAttempt (session + phase, latest first)
attemptSchema.index({ sessionId: 1, phase: 1, createdAt: -1 });

// ---------------------------------------------------------------- answers
export interface AnswerDoc {
  _id: string;
  sessionId: string;
  attemptId: string;
  phase: string;
  outcome: string;
  errorCodes: string[];
  payload: Record<string, unknown>;
  receivedAt: Date;
  origin?: string | null;
  referer?: string | null;
  originVerified?: boolean | null;
}

const answerSchema = new Schema<AnswerDoc>(
  {
    _id: String,
    sessionId: String,
    attemptId: String,
    phase: String,
    outcome: String,
    errorCodes: { type: [String], default: undefined },
    payload: { type: Schema.Types.Mixed },
    receivedAt: Date,
    origin: nullableString,
    referer: nullableString,
    originVerified: { type: Boolean, default: null },
  },
  { ...OPTIONS, collection: 'sence_answers' },
);
// listAnswers (session, arrival order)
answerSchema.index({ sessionId: 1, receivedAt: 1 });

// ---------------------------------------------------------------- audit
export interface AuditDoc {
  /** Generated ObjectId: increases with insertion, so it orders entries of the same millisecond. */
  _id: Types.ObjectId;
  entryId: string;
  at: Date;
  event: string;
  accepted: boolean;
  reason: string;
  sourceIp: string | null;
  learner: LearnerKeyDoc | null;
  course: CourseKeyDoc | null;
  sessionId: string | null;
  details: Record<string, unknown>;
  count?: number;
  lastAt?: Date | null;
  fingerprint?: string | null;
}

const auditSchema = new Schema<AuditDoc>(
  {
    entryId: String,
    at: Date,
    event: String,
    accepted: Boolean,
    reason: String,
    sourceIp: nullableString,
    learner: { type: learnerKeySchema, default: null },
    course: { type: courseKeySchema, default: null },
    sessionId: nullableString,
    details: { type: Schema.Types.Mixed },
    count: { type: Number, default: 1 },
    lastAt: nullableDate,
    fingerprint: nullableString,
  },
  { ...OPTIONS, collection: 'sence_audit' },
);
// recordRepeatable (latest entry with a fingerprint) and list by learner
auditSchema.index({ fingerprint: 1, lastAt: -1 });
auditSchema.index({ 'learner.issuer': 1, 'learner.clientId': 1, 'learner.sub': 1, at: -1, _id: -1 });
auditSchema.index({ entryId: 1 }, { unique: true });
// list (all, newest first)
auditSchema.index({ at: -1, _id: -1 });
// list (by course, newest first)
auditSchema.index({ 'course.issuer': 1, 'course.clientId': 1, 'course.contextId': 1, at: -1, _id: -1 });

// ---------------------------------------------------------------- login states
export interface LoginStateDoc {
  /** The OIDC `state`. */
  _id: string;
  nonce: string;
  issuer: string;
  clientId: string | null;
  storageTarget: string | null;
  relaunchQuery: string | null;
  linkQuery?: string | null;
  expiresAt: Date;
}

const loginStateSchema = new Schema<LoginStateDoc>(
  {
    _id: String,
    nonce: String,
    issuer: String,
    clientId: nullableString,
    storageTarget: nullableString,
    relaunchQuery: nullableString,
    linkQuery: nullableString,
    expiresAt: Date,
  },
  { ...OPTIONS, collection: 'sence_login_states' },
);
// deleteExpired (the tool's own sweep: no TTL index, which FerretDB 1.x lacks); consume() checks expiry.
loginStateSchema.index({ expiresAt: 1 });

// ---------------------------------------------------------------- active-session locks
/**
 * One document per learner and course while that learner has a session in 'starting' | 'open' |
 * 'closing' there: `_id` is the learner+course key as text, so the always-unique `_id` index allows
 * one active session per learner and course. This replaces a sparse/partial unique index, which
 * FerretDB 1.x does not implement (FerretDB issue 2448); `_id` uniqueness works on every
 * MongoDB-compatible server and needs no transaction.
 */
export interface ActiveLockDoc {
  _id: string;
  sessionId: string;
  createdAt: Date;
}

const activeLockSchema = new Schema<ActiveLockDoc>(
  { _id: String, sessionId: String, createdAt: Date },
  { ...OPTIONS, collection: 'sence_active_sessions' },
);

// ---------------------------------------------------------------- short-lived mutexes
/**
 * FerretDB 1.x runs a conditional update or find-and-delete as a read followed by a write, not
 * atomically: two connections can both match `{ _id, version: 3 }` and both write. Inserting a
 * document with a given `_id` is atomic everywhere, so every compare-and-set of the adapters
 * (optimistic session version, attempt used once, login state consumed once) first inserts
 * `{ _id: what it is about }` here, does its conditional write, and deletes it again. A mutex left
 * by a crash is taken over after MUTEX_STALE_MS.
 */
export interface MutexDoc {
  _id: string;
  at: Date;
}

const mutexSchema = new Schema<MutexDoc>({ _id: String, at: Date }, { ...OPTIONS, collection: 'sence_mutexes' });

// ---------------------------------------------------------------- registration invitations
export interface InviteDoc {
  /** SHA-256 (hex) of the invitation code. */
  _id: string;
  name: string | null;
  createdAt: Date;
  expiresAt: Date;
  usedAt: Date | null;
  platform: { issuer: string; clientId: string } | null;
  /** Absent on invitations stored before issue #19: 0. */
  failedAttempts?: number;
}

const inviteSchema = new Schema<InviteDoc>(
  {
    _id: String,
    name: nullableString,
    createdAt: Date,
    expiresAt: Date,
    usedAt: nullableDate,
    platform: { type: Schema.Types.Mixed, default: null },
    failedAttempts: { type: Number, default: 0 },
  },
  { ...OPTIONS, collection: 'sence_registration_invites' },
);

// ---------------------------------------------------------------- models
/** Returns the model registered on `conn`, registering it the first time (several stores may ask). */
function modelOn<T>(conn: Connection, name: string, schema: Schema<T>): Model<T> {
  const existing = conn.models[name] as Model<T> | undefined;
  return existing ?? conn.model<T>(name, schema);
}

export const learnerModel = (conn: Connection): Model<LearnerDoc> => modelOn(conn, 'SenceLearner', learnerSchema);
export const courseModel = (conn: Connection): Model<CourseDoc> => modelOn(conn, 'SenceCourse', courseSchema);
export const otecModel = (conn: Connection): Model<OtecDoc> => modelOn(conn, 'SenceOtec', otecSchema);
export const sessionModel = (conn: Connection): Model<SessionDoc> => modelOn(conn, 'SenceSession', sessionSchema);
export const attemptModel = (conn: Connection): Model<AttemptDoc> => modelOn(conn, 'SenceAttempt', attemptSchema);
export const answerModel = (conn: Connection): Model<AnswerDoc> => modelOn(conn, 'SenceAnswer', answerSchema);
export const auditModel = (conn: Connection): Model<AuditDoc> => modelOn(conn, 'SenceAudit', auditSchema);
export const inviteModel = (conn: Connection): Model<InviteDoc> => modelOn(conn, 'SenceRegistrationInvite', inviteSchema);
export const loginStateModel = (conn: Connection): Model<LoginStateDoc> =>
  modelOn(conn, 'SenceLoginState', loginStateSchema);
export const mutexModel = (conn: Connection): Model<MutexDoc> => modelOn(conn, 'SenceMutex', mutexSchema);
export const activeLockModel = (conn: Connection): Model<ActiveLockDoc> => modelOn(conn, 'SenceActiveLock', activeLockSchema);

/** Registers every model of the tool on `conn` (so Connection.syncIndexes() sees them all). */
export function registerMongoModels(conn: Connection): void {
  learnerModel(conn);
  courseModel(conn);
  otecModel(conn);
  sessionModel(conn);
  attemptModel(conn);
  answerModel(conn);
  auditModel(conn);
  loginStateModel(conn);
  inviteModel(conn);
  activeLockModel(conn);
  mutexModel(conn);
}
