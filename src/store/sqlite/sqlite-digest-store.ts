import type { CourseKey } from '../../domain/types';
import type { DigestState, DigestStore } from '../ports';
import type { Database } from './open-sqlite';
import { fromMsOrNull } from './sqlite-codec';

interface DigestRow {
  issuer: string;
  client_id: string;
  context_id: string;
  last_attempt_day: string | null;
  last_sent_at: number | null;
  last_error: string | null;
}

export class SqliteDigestStore implements DigestStore {
  private readonly getStmt;
  private readonly saveStmt;

  constructor(db: Database) {
    this.getStmt = db.prepare<[string, string, string], DigestRow>('SELECT * FROM app_alert_digests WHERE issuer = ? AND client_id = ? AND context_id = ?');
    this.saveStmt = db.prepare<[string, string, string, string | null, number | null, string | null]>(
      `INSERT INTO app_alert_digests (issuer, client_id, context_id, last_attempt_day, last_sent_at, last_error) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (issuer, client_id, context_id) DO UPDATE SET
         last_attempt_day = excluded.last_attempt_day, last_sent_at = excluded.last_sent_at, last_error = excluded.last_error`,
    );
  }

  async get(course: CourseKey): Promise<DigestState | null> {
    const row = this.getStmt.get(course.issuer, course.clientId, course.contextId);
    if (!row) return null;
    return {
      course: { issuer: row.issuer, clientId: row.client_id, contextId: row.context_id },
      lastAttemptDay: row.last_attempt_day,
      lastSentAt: fromMsOrNull(row.last_sent_at),
      lastError: row.last_error,
    };
  }

  async save(state: DigestState): Promise<void> {
    const c = state.course;
    this.saveStmt.run(c.issuer, c.clientId, c.contextId, state.lastAttemptDay, state.lastSentAt?.getTime() ?? null, state.lastError);
  }
}
