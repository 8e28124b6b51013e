import type { IssuedLoginState, LoginStateStore } from '../ports';
import type { Database } from './open-sqlite';
import { toMs } from './sqlite-codec';
import { groupCommitFor, type GroupCommit } from './group-commit';

interface LoginStateRow {
  nonce: string;
  issuer: string;
  client_id: string | null;
  storage_target: string | null;
  relaunch_query: string | null;
  link_query: string | null;
  expires_at: number;
}

export class SqliteLoginStateStore implements LoginStateStore {
  private readonly insertStmt;
  private readonly consumeStmt;
  private readonly deleteExpiredStmt;
  private readonly commits: GroupCommit;

  /** A login's save and its launch's consume go into the connection's group commit (group-commit.ts). */
  constructor(db: Database, commits: GroupCommit = groupCommitFor(db)) {
    this.commits = commits;
    this.insertStmt = db.prepare<[string, string, string, string | null, string | null, string | null, string | null, number]>(
      'INSERT INTO app_login_states (state, nonce, issuer, client_id, storage_target, relaunch_query, link_query, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    );
    // Deleting and reading in one statement: two launches with the same state cannot both get it.
    this.consumeStmt = db.prepare<[string], LoginStateRow>(
      'DELETE FROM app_login_states WHERE state = ? RETURNING nonce, issuer, client_id, storage_target, relaunch_query, link_query, expires_at',
    );
    // LIMIT -1 is "no limit" in SQLite.
    this.deleteExpiredStmt = db.prepare<[number, number]>(
      'DELETE FROM app_login_states WHERE rowid IN (SELECT rowid FROM app_login_states WHERE expires_at <= ? LIMIT ?)',
    );
  }

  async save(entry: IssuedLoginState & { state: string; expiresAt: Date }): Promise<void> {
    await this.commits.run(() => this.insertStmt.run(entry.state, entry.nonce, entry.issuer, entry.clientId, entry.storageTarget, entry.relaunchQuery, entry.linkQuery, toMs(entry.expiresAt)));
  }

  /** An expired entry is deleted too (it can never be used) and reads as unknown. */
  async consume(state: string, now: Date): Promise<IssuedLoginState | null> {
    const row = await this.commits.run(() => this.consumeStmt.get(state));
    if (!row || row.expires_at <= toMs(now)) return null;
    return { nonce: row.nonce, issuer: row.issuer, clientId: row.client_id, storageTarget: row.storage_target, relaunchQuery: row.relaunch_query, linkQuery: row.link_query };
  }

  /** Removes logins that were never completed and have expired, at most `limit`. Returns how many. */
  async deleteExpired(now: Date, limit = -1): Promise<number> {
    return this.deleteExpiredStmt.run(toMs(now), limit).changes;
  }
}
