import type { AuditEntry, AuditEvent, CourseKey } from '../../domain/types';
import type { AuditLog } from '../ports';
import type { Database } from './open-sqlite';
import { fromMs, json, parseJson, toMs } from './sqlite-codec';

interface AuditRow {
  id: string;
  at: number;
  event: string;
  accepted: number;
  reason: string;
  source_ip: string | null;
  learner_issuer: string | null;
  learner_client_id: string | null;
  learner_sub: string | null;
  course_issuer: string | null;
  course_client_id: string | null;
  course_context_id: string | null;
  session_id: string | null;
  details: string;
}

function toEntry(row: AuditRow): AuditEntry {
  return {
    id: row.id,
    at: fromMs(row.at),
    event: row.event as AuditEvent,
    accepted: row.accepted === 1,
    reason: row.reason,
    sourceIp: row.source_ip,
    learner:
      row.learner_issuer === null || row.learner_client_id === null || row.learner_sub === null
        ? null
        : { issuer: row.learner_issuer, clientId: row.learner_client_id, sub: row.learner_sub },
    course:
      row.course_issuer === null || row.course_client_id === null || row.course_context_id === null
        ? null
        : { issuer: row.course_issuer, clientId: row.course_client_id, contextId: row.course_context_id },
    sessionId: row.session_id,
    details: parseJson<Record<string, unknown>>(row.details),
  };
}

export class SqliteAuditLog implements AuditLog {
  private readonly insertStmt;
  private readonly listAllStmt;
  private readonly listByCourseStmt;

  constructor(db: Database) {
    this.insertStmt = db.prepare<[AuditRow]>(
      `INSERT INTO app_audit (id, at, event, accepted, reason, source_ip, learner_issuer, learner_client_id,
         learner_sub, course_issuer, course_client_id, course_context_id, session_id, details)
       VALUES (@id, @at, @event, @accepted, @reason, @source_ip, @learner_issuer, @learner_client_id,
         @learner_sub, @course_issuer, @course_client_id, @course_context_id, @session_id, @details)`,
    );
    // Newest first; entries of the same millisecond newest-recorded first (rowid = insertion order).
    this.listAllStmt = db.prepare<[number], AuditRow>('SELECT * FROM app_audit ORDER BY at DESC, rowid DESC LIMIT ?');
    this.listByCourseStmt = db.prepare<[string, string, string, number], AuditRow>(
      `SELECT * FROM app_audit WHERE course_issuer = ? AND course_client_id = ? AND course_context_id = ?
       ORDER BY at DESC, rowid DESC LIMIT ?`,
    );
  }

  async record(entry: AuditEntry): Promise<void> {
    this.insertStmt.run({
      id: entry.id,
      at: toMs(entry.at),
      event: entry.event,
      accepted: entry.accepted ? 1 : 0,
      reason: entry.reason,
      source_ip: entry.sourceIp,
      learner_issuer: entry.learner?.issuer ?? null,
      learner_client_id: entry.learner?.clientId ?? null,
      learner_sub: entry.learner?.sub ?? null,
      course_issuer: entry.course?.issuer ?? null,
      course_client_id: entry.course?.clientId ?? null,
      course_context_id: entry.course?.contextId ?? null,
      session_id: entry.sessionId,
      details: json(entry.details),
    });
  }

  async list(filter: { course?: CourseKey; limit: number }): Promise<AuditEntry[]> {
    if (filter.limit <= 0) return [];
    const rows = filter.course
      ? this.listByCourseStmt.all(filter.course.issuer, filter.course.clientId, filter.course.contextId, filter.limit)
      : this.listAllStmt.all(filter.limit);
    return rows.map(toEntry);
  }
}
