import type { Learner, LearnerKey, RunSource } from '../../domain/types';
import type { LearnerStore, PlatformKey } from '../ports';
import type { Database } from './open-sqlite';
import { fromMs } from './sqlite-codec';
import { groupCommitFor, type GroupCommit } from './group-commit';

interface LearnerRow {
  issuer: string;
  client_id: string;
  sub: string;
  name: string | null;
  email: string | null;
  run: string | null;
  run_source: string | null;
  updated_at: number;
}

function toLearner(row: LearnerRow): Learner {
  return {
    issuer: row.issuer,
    clientId: row.client_id,
    sub: row.sub,
    name: row.name,
    email: row.email,
    run: row.run,
    runSource: row.run_source as RunSource | null,
    updatedAt: fromMs(row.updated_at),
  };
}

export class SqliteLearnerStore implements LearnerStore {
  private readonly upsertStmt;
  private readonly getStmt;
  private readonly getManyStmt;
  private readonly commits: GroupCommit;

  /** The launch's upsert goes into the connection's group commit (group-commit.ts). */
  constructor(db: Database, commits: GroupCommit = groupCommitFor(db)) {
    this.commits = commits;
    this.upsertStmt = db.prepare<[string, string, string, string | null, string | null, string | null, string | null, number], LearnerRow>(
      `INSERT INTO app_learners (issuer, client_id, sub, name, email, run, run_source, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (issuer, client_id, sub) DO UPDATE SET
         name = excluded.name, email = excluded.email, run = excluded.run,
         run_source = excluded.run_source, updated_at = excluded.updated_at
       RETURNING *`,
    );
    this.getStmt = db.prepare<[string, string, string], LearnerRow>(
      'SELECT * FROM app_learners WHERE issuer = ? AND client_id = ? AND sub = ?',
    );
    // One statement for any number of subs (a JSON array), each looked up by the primary key.
    this.getManyStmt = db.prepare<[string, string, string], LearnerRow>(
      'SELECT * FROM app_learners WHERE issuer = ? AND client_id = ? AND sub IN (SELECT value FROM json_each(?))',
    );
  }

  async upsert(learner: Omit<Learner, 'updatedAt'>): Promise<Learner> {
    const row = await this.commits.run(() =>
      this.upsertStmt.get(learner.issuer, learner.clientId, learner.sub, learner.name, learner.email, learner.run, learner.runSource, Date.now()),
    );
    if (!row) throw new Error('app_learners upsert returned no row');
    return toLearner(row);
  }

  async get(key: LearnerKey): Promise<Learner | null> {
    const row = this.getStmt.get(key.issuer, key.clientId, key.sub);
    return row ? toLearner(row) : null;
  }

  async getMany(platform: PlatformKey, subs: readonly string[]): Promise<Map<string, Learner>> {
    const out = new Map<string, Learner>();
    if (subs.length === 0) return out;
    for (const row of this.getManyStmt.all(platform.issuer, platform.clientId, JSON.stringify([...new Set(subs)]))) out.set(row.sub, toLearner(row));
    return out;
  }
}
