import type { Course, CourseKey, CourseSettings } from '../../domain/types';
import type { CourseStore } from '../ports';
import type { Database } from './open-sqlite';
import { fromMs, json, parseJson } from './sqlite-codec';
import { groupCommitFor, type GroupCommit } from './group-commit';

interface CourseRow {
  issuer: string;
  client_id: string;
  context_id: string;
  title: string | null;
  settings: string | null;
  updated_at: number;
}

function toCourse(row: CourseRow): Course {
  return {
    issuer: row.issuer,
    clientId: row.client_id,
    contextId: row.context_id,
    title: row.title,
    settings: row.settings === null ? null : parseJson<CourseSettings>(row.settings),
    updatedAt: fromMs(row.updated_at),
  };
}

function required(row: CourseRow | undefined): Course {
  if (!row) throw new Error('app_courses upsert returned no row');
  return toCourse(row);
}

export class SqliteCourseStore implements CourseStore {
  private readonly touchStmt;
  private readonly getStmt;
  private readonly saveSettingsStmt;
  private readonly listByOtecStmt;
  private readonly commits: GroupCommit;

  /** A launch's touch goes into the connection's group commit (group-commit.ts). */
  constructor(db: Database, commits: GroupCommit = groupCommitFor(db)) {
    this.commits = commits;
    this.touchStmt = db.prepare<[string, string, string, string | null, number], CourseRow>(
      `INSERT INTO app_courses (issuer, client_id, context_id, title, settings, updated_at)
       VALUES (?, ?, ?, ?, NULL, ?)
       ON CONFLICT (issuer, client_id, context_id) DO UPDATE SET
         title = excluded.title, updated_at = excluded.updated_at
       RETURNING *`,
    );
    this.getStmt = db.prepare<[string, string, string], CourseRow>(
      'SELECT * FROM app_courses WHERE issuer = ? AND client_id = ? AND context_id = ?',
    );
    // Settings for a course never launched yet are stored too (title unknown until its first launch).
    this.saveSettingsStmt = db.prepare<[string, string, string, string, number], CourseRow>(
      `INSERT INTO app_courses (issuer, client_id, context_id, title, settings, updated_at)
       VALUES (?, ?, ?, NULL, ?, ?)
       ON CONFLICT (issuer, client_id, context_id) DO UPDATE SET
         settings = excluded.settings, updated_at = excluded.updated_at
       RETURNING *`,
    );
    this.listByOtecStmt = db.prepare<[string], CourseRow>(
      `SELECT * FROM app_courses WHERE settings IS NOT NULL AND json_extract(settings, '$.otecId') = ?
       ORDER BY issuer, client_id, context_id`,
    );
  }

  async touch(key: CourseKey, title: string | null): Promise<Course> {
    return required(await this.commits.run(() => this.touchStmt.get(key.issuer, key.clientId, key.contextId, title, Date.now())));
  }

  async get(key: CourseKey): Promise<Course | null> {
    const row = this.getStmt.get(key.issuer, key.clientId, key.contextId);
    return row ? toCourse(row) : null;
  }

  async saveSettings(key: CourseKey, settings: CourseSettings): Promise<Course> {
    return required(this.saveSettingsStmt.get(key.issuer, key.clientId, key.contextId, json(settings), Date.now()));
  }

  async listByOtec(otecId: string): Promise<Course[]> {
    return this.listByOtecStmt.all(otecId).map(toCourse);
  }
}
