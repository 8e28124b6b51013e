import type { CourseKey } from '../../domain/types';
import type { LearnerEnrollment, SenceAction } from '../../domain/enrollment';
import type { EnrollmentStore } from '../ports';
import type { Database } from './open-sqlite';
import { fromMs, json, parseJson } from './sqlite-codec';

interface EnrollmentRow {
  issuer: string;
  client_id: string;
  context_id: string;
  sub: string;
  run: string | null;
  action: string | null;
  exempt: number;
  updated_at: number;
}

function toEnrollment(row: EnrollmentRow): LearnerEnrollment {
  return {
    course: { issuer: row.issuer, clientId: row.client_id, contextId: row.context_id },
    sub: row.sub,
    run: row.run,
    action: row.action === null ? null : parseJson<SenceAction>(row.action),
    exempt: row.exempt === 1,
    updatedAt: fromMs(row.updated_at),
  };
}

export class SqliteEnrollmentStore implements EnrollmentStore {
  private readonly getStmt;
  private readonly listStmt;
  private readonly saveMany_;

  constructor(db: Database) {
    this.getStmt = db.prepare<[string, string, string, string], EnrollmentRow>(
      'SELECT * FROM app_enrollments WHERE issuer = ? AND client_id = ? AND context_id = ? AND sub = ?',
    );
    this.listStmt = db.prepare<[string, string, string], EnrollmentRow>(
      'SELECT * FROM app_enrollments WHERE issuer = ? AND client_id = ? AND context_id = ? ORDER BY sub',
    );
    const save = db.prepare<[string, string, string, string, string | null, string | null, number, number]>(
      `INSERT INTO app_enrollments (issuer, client_id, context_id, sub, run, action, exempt, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (issuer, client_id, context_id, sub) DO UPDATE SET
         run = excluded.run, action = excluded.action, exempt = excluded.exempt, updated_at = excluded.updated_at`,
    );
    // One transaction: a batch is written whole or not at all.
    this.saveMany_ = db.transaction((records: LearnerEnrollment[]) => {
      for (const r of records) {
        save.run(r.course.issuer, r.course.clientId, r.course.contextId, r.sub, r.run, r.action ? json(r.action) : null, r.exempt ? 1 : 0, r.updatedAt.getTime());
      }
    });
  }

  async get(course: CourseKey, sub: string): Promise<LearnerEnrollment | null> {
    const row = this.getStmt.get(course.issuer, course.clientId, course.contextId, sub);
    return row ? toEnrollment(row) : null;
  }

  async list(course: CourseKey): Promise<LearnerEnrollment[]> {
    return this.listStmt.all(course.issuer, course.clientId, course.contextId).map(toEnrollment);
  }

  async saveMany(records: LearnerEnrollment[]): Promise<void> {
    this.saveMany_(records);
  }
}
