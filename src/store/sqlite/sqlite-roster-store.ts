import type { CourseKey } from '../../domain/types';
import type { CourseRoster, RosterMember } from '../../domain/roster';
import type { RosterStore } from '../ports';
import type { Database } from './open-sqlite';
import { fromMs, json, parseJson } from './sqlite-codec';

interface RosterRow {
  issuer: string;
  client_id: string;
  context_id: string;
  members: string;
  fetched_at: number;
}

export class SqliteRosterStore implements RosterStore {
  private readonly getStmt;
  private readonly saveStmt;
  private readonly listStmt;

  constructor(db: Database) {
    this.getStmt = db.prepare<[string, string, string], RosterRow>(
      'SELECT * FROM app_course_rosters WHERE issuer = ? AND client_id = ? AND context_id = ?',
    );
    this.saveStmt = db.prepare<[string, string, string, string, number]>(
      `INSERT INTO app_course_rosters (issuer, client_id, context_id, members, fetched_at) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (issuer, client_id, context_id) DO UPDATE SET members = excluded.members, fetched_at = excluded.fetched_at`,
    );
    this.listStmt = db.prepare<[], Pick<RosterRow, 'issuer' | 'client_id' | 'context_id'>>(
      'SELECT issuer, client_id, context_id FROM app_course_rosters ORDER BY issuer, client_id, context_id',
    );
  }

  async listCourses(): Promise<CourseKey[]> {
    return this.listStmt.all().map((r) => ({ issuer: r.issuer, clientId: r.client_id, contextId: r.context_id }));
  }

  async get(course: CourseKey): Promise<CourseRoster | null> {
    const row = this.getStmt.get(course.issuer, course.clientId, course.contextId);
    if (!row) return null;
    return {
      course: { issuer: row.issuer, clientId: row.client_id, contextId: row.context_id },
      ...membersOf(row.members),
      fetchedAt: fromMs(row.fetched_at),
    };
  }

  async save(roster: CourseRoster): Promise<void> {
    const c = roster.course;
    // A cut roster (issue #19) is stored as {"members": […], "truncated": true} in the same column
    // (no schema change); an array is a whole roster, as before.
    const members = roster.truncated === true ? json({ members: roster.members, truncated: true }) : json(roster.members);
    this.saveStmt.run(c.issuer, c.clientId, c.contextId, members, roster.fetchedAt.getTime());
  }
}

function membersOf(column: string): { members: RosterMember[]; truncated: boolean } {
  const value = parseJson<RosterMember[] | { members: RosterMember[]; truncated: boolean }>(column);
  return Array.isArray(value) ? { members: value, truncated: false } : { members: value.members, truncated: value.truncated === true };
}
