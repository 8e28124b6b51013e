/** SQLite adapter of PendingLaunchStore (LTI Platform Storage's check page, issue #19). */
import type { PendingLaunchStore } from '../ports';
import type { Database } from './open-sqlite';
import { toMs } from './sqlite-codec';
import { groupCommitFor, type GroupCommit } from './group-commit';

export class SqlitePendingLaunchStore implements PendingLaunchStore {
  private readonly insertStmt;
  private readonly consumeStmt;
  private readonly deleteExpiredStmt;
  private readonly commits: GroupCommit;

  constructor(db: Database, commits: GroupCommit = groupCommitFor(db)) {
    this.commits = commits;
    this.insertStmt = db.prepare<[string, number]>('INSERT INTO app_pending_launches (id, expires_at) VALUES (?, ?)');
    // One statement: of two answers with the same id, only one deletes the row.
    this.consumeStmt = db.prepare<[string, number]>('DELETE FROM app_pending_launches WHERE id = ? AND expires_at > ?');
    // LIMIT -1 is "no limit" in SQLite.
    this.deleteExpiredStmt = db.prepare<[number, number]>(
      'DELETE FROM app_pending_launches WHERE rowid IN (SELECT rowid FROM app_pending_launches WHERE expires_at <= ? LIMIT ?)',
    );
  }

  async save(id: string, expiresAt: Date): Promise<void> {
    await this.commits.run(() => this.insertStmt.run(id, toMs(expiresAt)));
  }

  /** An expired entry stays for the sweep and reads as unknown. */
  async consume(id: string, now: Date): Promise<boolean> {
    return (await this.commits.run(() => this.consumeStmt.run(id, toMs(now)))).changes === 1;
  }

  async deleteExpired(now: Date, limit = -1): Promise<number> {
    return this.deleteExpiredStmt.run(toMs(now), limit).changes;
  }
}
