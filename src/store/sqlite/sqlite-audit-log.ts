import type { AuditEntry, AuditEvent } from '../../domain/types';
import type { AuditFilter, AuditLog } from '../ports';
import type { GroupCommit } from './group-commit';
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
  count: number;
  last_at: number | null;
  fingerprint: string | null;
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
    count: row.count,
    lastAt: fromMs(row.last_at ?? row.at),
  };
}

export class SqliteAuditLog implements AuditLog {
  private readonly db: Database;
  private readonly insertStmt;
  private readonly repeatStmt;
  private readonly deleteOldStmt;
  private readonly commits: GroupCommit;

  constructor(db: Database, commits: GroupCommit) {
    this.db = db;
    this.commits = commits;
    this.insertStmt = db.prepare<[AuditRow]>(
      `INSERT INTO app_audit (id, at, event, accepted, reason, source_ip, learner_issuer, learner_client_id,
         learner_sub, course_issuer, course_client_id, course_context_id, session_id, details, count, last_at, fingerprint)
       VALUES (@id, @at, @event, @accepted, @reason, @source_ip, @learner_issuer, @learner_client_id,
         @learner_sub, @course_issuer, @course_client_id, @course_context_id, @session_id, @details, @count, @last_at, @fingerprint)`,
    );
    this.repeatStmt = db.prepare<[number, string, number]>(
      `UPDATE app_audit SET count = count + 1, last_at = MAX(last_at, ?)
       WHERE rowid = (SELECT rowid FROM app_audit WHERE fingerprint = ? AND last_at >= ? ORDER BY last_at DESC LIMIT 1)`,
    );
    // Oldest first through app_audit_by_at; an entry first seen before `before` but repeated since
    // (lastAt later) is kept until its last occurrence is old too.
    this.deleteOldStmt = db.prepare<[number, number, number]>(
      `DELETE FROM app_audit WHERE rowid IN (
         SELECT rowid FROM app_audit WHERE at < ? AND COALESCE(last_at, at) < ? ORDER BY at LIMIT ?)`,
    );
  }

  private row(entry: AuditEntry, fingerprint: string | null): AuditRow {
    return {
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
      count: entry.count ?? 1,
      last_at: toMs(entry.lastAt ?? entry.at),
      fingerprint,
    };
  }

  async record(entry: AuditEntry): Promise<void> {
    // A plain insert: committed with the other writes of the same moment (group commit).
    const row = this.row(entry, null);
    await this.commits.run(() => {
      this.insertStmt.run(row);
    });
  }

  async recordRepeatable(entry: AuditEntry, fingerprint: string, since: Date): Promise<void> {
    // One write transaction: two identical rejections at once still make one entry.
    this.db.transaction(() => {
      if (this.repeatStmt.run(toMs(entry.at), fingerprint, toMs(since)).changes === 0) this.insertStmt.run(this.row(entry, fingerprint));
    }).immediate();
  }

  async list(filter: AuditFilter): Promise<AuditEntry[]> {
    if (filter.limit <= 0) return [];
    const where: string[] = [];
    const args: Array<string | number> = [];
    if (filter.course) {
      where.push('course_issuer = ? AND course_client_id = ? AND course_context_id = ?');
      args.push(filter.course.issuer, filter.course.clientId, filter.course.contextId);
    }
    if (filter.learner) {
      where.push('learner_issuer = ? AND learner_client_id = ? AND learner_sub = ?');
      args.push(filter.learner.issuer, filter.learner.clientId, filter.learner.sub);
    }
    if (filter.accepted !== undefined) {
      where.push('accepted = ?');
      args.push(filter.accepted ? 1 : 0);
    }
    // Newest first; entries of the same millisecond newest-recorded first (rowid = insertion order).
    const sql = `SELECT * FROM app_audit ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY at DESC, rowid DESC LIMIT ? OFFSET ?`;
    return this.db.prepare<Array<string | number>, AuditRow>(sql).all(...args, filter.limit, Math.max(0, Math.floor(filter.offset ?? 0))).map(toEntry);
  }

  async deleteOlderThan(before: Date, limit: number): Promise<number> {
    if (limit <= 0) return 0;
    const cut = toMs(before);
    return this.commits.run(() => this.deleteOldStmt.run(cut, cut, limit).changes);
  }
}
