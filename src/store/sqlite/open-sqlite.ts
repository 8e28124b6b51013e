/**
 * Opens the embedded SQLite file and brings its schema up to date.
 *
 * The same file also holds ltijs's tables (prefixed `lti_`, written by another module); ours are all
 * prefixed `app_`. Dates are INTEGER epoch milliseconds; nested values are JSON text columns.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { AppError } from '../../errors';

export type Database = BetterSqlite3.Database;

/** States in which a session is "active": at most one per learner and course (see app_sessions_active). */
export const ACTIVE_STATES_SQL = "('starting','open','closing')";

interface Migration {
  version: number;
  sql: string;
}

/**
 * Append-only list: never edit a shipped migration, add the next version. Every statement is
 * idempotent (IF NOT EXISTS) so a half-applied file from an older build still converges.
 */
const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE IF NOT EXISTS app_learners (
        issuer      TEXT NOT NULL,
        client_id   TEXT NOT NULL,
        sub         TEXT NOT NULL,
        name        TEXT,
        email       TEXT,
        run         TEXT,
        run_source  TEXT,
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (issuer, client_id, sub)
      );

      CREATE TABLE IF NOT EXISTS app_courses (
        issuer      TEXT NOT NULL,
        client_id   TEXT NOT NULL,
        context_id  TEXT NOT NULL,
        title       TEXT,
        settings    TEXT,            -- JSON CourseSettings or NULL
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (issuer, client_id, context_id)
      );

      CREATE TABLE IF NOT EXISTS app_otecs (
        id            TEXT PRIMARY KEY,
        name          TEXT NOT NULL,
        rut           TEXT NOT NULL,
        token_sealed  TEXT NOT NULL,
        token_hint    TEXT NOT NULL,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL
      );

      CREATE TABLE IF NOT EXISTS app_sessions (
        id                      TEXT PRIMARY KEY,
        learner_issuer          TEXT NOT NULL,
        learner_client_id       TEXT NOT NULL,
        learner_sub             TEXT NOT NULL,
        course_issuer           TEXT NOT NULL,
        course_client_id        TEXT NOT NULL,
        course_context_id       TEXT NOT NULL,
        otec_id                 TEXT NOT NULL,
        environment             TEXT NOT NULL,
        id_sesion_alumno        TEXT NOT NULL,
        sent                    TEXT NOT NULL,   -- JSON SentFields
        state                   TEXT NOT NULL,
        limit_minutes           INTEGER NOT NULL,
        warning_minutes         INTEGER NOT NULL,
        id_sesion_sence         TEXT,
        sence_start_fecha_hora  TEXT,
        sence_zona_horaria      TEXT,
        created_at              INTEGER NOT NULL,
        opened_at               INTEGER,
        close_requested_at      INTEGER,
        ended_at                INTEGER,
        accredited_seconds      INTEGER NOT NULL,
        last_error_codes        TEXT NOT NULL,   -- JSON string[]
        end_reason              TEXT,
        version                 INTEGER NOT NULL
      );
      -- At most one active session per learner and course: createSessionIfNoneActive relies on it.
      CREATE UNIQUE INDEX IF NOT EXISTS app_sessions_active
        ON app_sessions (learner_issuer, learner_client_id, learner_sub, course_issuer, course_client_id, course_context_id)
        WHERE state IN ${ACTIVE_STATES_SQL};
      -- listSessions (learner + course, newest first)
      CREATE INDEX IF NOT EXISTS app_sessions_by_learner_course
        ON app_sessions (learner_issuer, learner_client_id, learner_sub, course_issuer, course_client_id, course_context_id, created_at);
      -- listCourseSessions (course, newest first)
      CREATE INDEX IF NOT EXISTS app_sessions_by_course
        ON app_sessions (course_issuer, course_client_id, course_context_id, created_at);
      -- listSessionsInStates (state, oldest first)
      CREATE INDEX IF NOT EXISTS app_sessions_by_state
        ON app_sessions (state, created_at);

      CREATE TABLE IF NOT EXISTS app_attempts (
        id          TEXT PRIMARY KEY,
        session_id  TEXT NOT NULL,
        phase       TEXT NOT NULL,
        token_hash  TEXT NOT NULL,
        created_at  INTEGER NOT NULL,
        expires_at  INTEGER NOT NULL,
        used_at     INTEGER
      );
      -- findOpenAttempt (session + phase, latest first)
      CREATE INDEX IF NOT EXISTS app_attempts_by_session_phase
        ON app_attempts (session_id, phase, created_at);

      CREATE TABLE IF NOT EXISTS app_answers (
        id           TEXT PRIMARY KEY,
        session_id   TEXT NOT NULL,
        attempt_id   TEXT NOT NULL,
        phase        TEXT NOT NULL,
        outcome      TEXT NOT NULL,
        error_codes  TEXT NOT NULL,   -- JSON string[]
        payload      TEXT NOT NULL,   -- JSON Record<string, string>
        received_at  INTEGER NOT NULL
      );
      -- listAnswers (session, in arrival order)
      CREATE INDEX IF NOT EXISTS app_answers_by_session
        ON app_answers (session_id, received_at);

      CREATE TABLE IF NOT EXISTS app_audit (
        id                 TEXT PRIMARY KEY,
        at                 INTEGER NOT NULL,
        event              TEXT NOT NULL,
        accepted           INTEGER NOT NULL,   -- 0 | 1
        reason             TEXT NOT NULL,
        source_ip          TEXT,
        learner_issuer     TEXT,
        learner_client_id  TEXT,
        learner_sub        TEXT,
        course_issuer      TEXT,
        course_client_id   TEXT,
        course_context_id  TEXT,
        session_id         TEXT,
        details            TEXT NOT NULL    -- JSON object
      );
      -- list (all, newest first) and list (by course, newest first); rowid breaks ties in insertion order
      CREATE INDEX IF NOT EXISTS app_audit_by_at ON app_audit (at);
      CREATE INDEX IF NOT EXISTS app_audit_by_course
        ON app_audit (course_issuer, course_client_id, course_context_id, at);

      CREATE TABLE IF NOT EXISTS app_login_states (
        state       TEXT PRIMARY KEY,
        nonce       TEXT NOT NULL,
        issuer      TEXT NOT NULL,
        client_id   TEXT,
        expires_at  INTEGER NOT NULL
      );
      -- deleteExpired sweep
      CREATE INDEX IF NOT EXISTS app_login_states_by_expiry ON app_login_states (expires_at);
    `,
  },
  {
    // Issue #6: logins bound through LTI Platform Storage, and how to relaunch them top-level.
    version: 2,
    sql: `
      ALTER TABLE app_login_states ADD COLUMN storage_target TEXT;
      ALTER TABLE app_login_states ADD COLUMN relaunch_query TEXT;
    `,
  },
  {
    // Issue #9: the roster cache (NRPS) and per-learner SENCE action / exempt marks.
    version: 3,
    sql: `
      CREATE TABLE IF NOT EXISTS app_course_rosters (
        issuer      TEXT NOT NULL,
        client_id   TEXT NOT NULL,
        context_id  TEXT NOT NULL,
        members     TEXT NOT NULL,   -- JSON RosterMember[]
        fetched_at  INTEGER NOT NULL,
        PRIMARY KEY (issuer, client_id, context_id)
      );

      CREATE TABLE IF NOT EXISTS app_enrollments (
        issuer      TEXT NOT NULL,
        client_id   TEXT NOT NULL,
        context_id  TEXT NOT NULL,
        sub         TEXT NOT NULL,
        run         TEXT,
        action      TEXT,            -- JSON SenceAction or NULL (course default)
        exempt      INTEGER NOT NULL, -- 0 | 1
        updated_at  INTEGER NOT NULL,
        PRIMARY KEY (issuer, client_id, context_id, sub)
      );

      CREATE TABLE IF NOT EXISTS app_alert_digests (
        issuer            TEXT NOT NULL,
        client_id         TEXT NOT NULL,
        context_id        TEXT NOT NULL,
        last_attempt_day  TEXT,
        last_sent_at      INTEGER,
        last_error        TEXT,
        PRIMARY KEY (issuer, client_id, context_id)
      );
    `,
  },
  {
    // Issue #7 (security): OTECs belong to platforms, repeated audit entries are counted, callbacks
    // keep their Origin/Referer, and dynamic registration needs a one-time invitation.
    version: 4,
    sql: `
      -- JSON PlatformKey[]; NULL = stored before links existed (linked at start-up, see otec-migration.ts)
      ALTER TABLE app_otecs ADD COLUMN platforms TEXT;

      ALTER TABLE app_audit ADD COLUMN count INTEGER NOT NULL DEFAULT 1;
      ALTER TABLE app_audit ADD COLUMN last_at INTEGER;
      ALTER TABLE app_audit ADD COLUMN fingerprint TEXT;
      -- recordRepeatable: the latest entry with a fingerprint
      CREATE INDEX IF NOT EXISTS app_audit_by_fingerprint ON app_audit (fingerprint, last_at);
      -- list (by course and learner)
      CREATE INDEX IF NOT EXISTS app_audit_by_learner
        ON app_audit (learner_issuer, learner_client_id, learner_sub, at);

      ALTER TABLE app_answers ADD COLUMN origin TEXT;
      ALTER TABLE app_answers ADD COLUMN referer TEXT;
      ALTER TABLE app_answers ADD COLUMN origin_verified INTEGER;   -- 0 | 1 | NULL (before issue #7)

      CREATE TABLE IF NOT EXISTS app_registration_invites (
        code_hash           TEXT PRIMARY KEY,
        name                TEXT,
        created_at          INTEGER NOT NULL,
        expires_at          INTEGER NOT NULL,
        used_at             INTEGER,
        platform_issuer     TEXT,
        platform_client_id  TEXT
      );
    `,
  },
  {
    // Issue #8: the tool starts the OIDC login itself; a target_link_uri's query waits with the login.
    version: 5,
    sql: `
      ALTER TABLE app_login_states ADD COLUMN link_query TEXT;
    `,
  },
  {
    // Issue #19: LTI Platform Storage's pending launches, each spent once (swept when expired).
    version: 6,
    sql: `
      CREATE TABLE IF NOT EXISTS app_pending_launches (
        id          TEXT PRIMARY KEY,
        expires_at  INTEGER NOT NULL
      );
      CREATE INDEX IF NOT EXISTS app_pending_launches_by_expiry ON app_pending_launches (expires_at);
    `,
  },
  {
    // Issue #19 §3: an invitation counts its attempts (3 failed attempts spend it).
    version: 7,
    sql: `
      ALTER TABLE app_registration_invites ADD COLUMN failed_attempts INTEGER NOT NULL DEFAULT 0;
    `,
  },
];

/** The newest schema version this build knows. */
export const SQLITE_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]?.version ?? 0;

/**
 * Applies pending migrations, each in its own IMMEDIATE transaction (so two processes opening the
 * same file at once do not both apply one). Safe to call on every start.
 */
export function migrateSqlite(db: Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS app_schema_version (version INTEGER NOT NULL)');
  const readVersion = db.prepare<[], { version: number }>('SELECT MAX(version) AS version FROM app_schema_version');
  const current = readVersion.get()?.version ?? 0;
  if (current > SQLITE_SCHEMA_VERSION) {
    throw new AppError(
      'startup-failure',
      500,
      `SQLITE_FILE holds schema version ${current}, newer than this build knows (${SQLITE_SCHEMA_VERSION}): run a newer version of the tool`,
      { details: { variable: 'SQLITE_FILE', found: current, known: SQLITE_SCHEMA_VERSION } },
    );
  }
  const record = db.prepare<[number]>('INSERT INTO app_schema_version (version) VALUES (?)');
  for (const migration of MIGRATIONS) {
    db.transaction(() => {
      // Re-read inside the write lock: another process may have applied it meanwhile.
      if ((readVersion.get()?.version ?? 0) >= migration.version) return;
      db.exec(migration.sql);
      record.run(migration.version);
    }).immediate();
  }
}

/**
 * Opens (creating if needed) the SQLite file, sets the pragmas the tool relies on and migrates it.
 * `':memory:'` is accepted for tests (WAL does not apply there).
 */
export function isInMemory(file: string): boolean {
  return file === ':memory:' || file === '';
}

export function openSqliteDatabase(file: string): Database {
  const inMemory = isInMemory(file);
  let db: Database | undefined;
  try {
    if (!inMemory) fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    db = new BetterSqlite3(file);
    db.pragma('journal_mode = WAL'); // readers never block the writer
    db.pragma('synchronous = NORMAL'); // safe with WAL; fsync at checkpoints only
    db.pragma('busy_timeout = 5000'); // wait for another process's write lock instead of failing
    db.pragma('foreign_keys = ON');
    migrateSqlite(db);
    return db;
  } catch (error) {
    if (db?.open) db.close();
    if (error instanceof AppError) throw error;
    throw new AppError(
      'startup-failure',
      500,
      `SQLITE_FILE "${file}" could not be opened: ${error instanceof Error ? error.message : String(error)}`,
      { cause: error, details: { variable: 'SQLITE_FILE' } },
    );
  }
}
