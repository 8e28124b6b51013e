/**
 * (Errors are matched by message, not with toThrow: better-sqlite3's native part keeps the SqliteError
 * class of the first test file that loaded it in this Jest worker, another realm's Error.)
 *
 * The SQLite store's group commit (src/store/sqlite/group-commit.ts) on a real file: writes of the
 * same moment share one commit, yet each caller keeps its own all-or-nothing, a failed commit keeps
 * nothing, and closing the store commits what is queued.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { GroupCommit, MAX_UNITS_PER_COMMIT } from '../../src/store/sqlite/group-commit';
import { openSqliteDatabase, type Database } from '../../src/store/sqlite/open-sqlite';
import { sqliteStores } from '../../src/store/open-stores';
import type { AuditEntry } from '../../src/domain/types';

let dir: string;
let db: Database;

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asistencia-group-commit-'));
  db = openSqliteDatabase(path.join(dir, 'store.sqlite'));
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, v TEXT NOT NULL);
           CREATE TABLE parent (id INTEGER PRIMARY KEY);
           CREATE TABLE child (id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent (id) DEFERRABLE INITIALLY DEFERRED)`);
});

afterEach(() => {
  if (db.open) db.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const insert = (v: string) => () => db.prepare('INSERT INTO t (v) VALUES (?)').run(v).lastInsertRowid;
const values = () => db.prepare<[], { v: string }>('SELECT v FROM t ORDER BY id').all().map((r) => r.v);

describe('GroupCommit', () => {
  it('runs the units of one moment in the order given, in one transaction, and answers each caller after the commit', async () => {
    const commits = new GroupCommit(db);
    const inTransaction: boolean[] = [];
    const results = ['a', 'b', 'c'].map((v) =>
      commits.run(() => {
        inTransaction.push(db.inTransaction);
        return insert(v)();
      }),
    );
    // Nothing is written during the turn the units were queued in.
    expect(values()).toEqual([]);
    const seenAtSettle: number[] = [];
    const ids = await Promise.all(results.map((p) => p.then((id) => (seenAtSettle.push(values().length), id))));
    expect(ids.map(Number)).toEqual([1, 2, 3]);
    expect(inTransaction).toEqual([true, true, true]);
    // Even the first caller was answered when all three rows were already committed.
    expect(seenAtSettle).toEqual([3, 3, 3]);
    // Visible to another connection (another process): committed, not only written.
    const other = new BetterSqlite3(path.join(dir, 'store.sqlite'), { readonly: true });
    expect(other.prepare('SELECT count(*) AS n FROM t').get()).toEqual({ n: 3 });
    other.close();
  });

  it('a unit that throws loses only its own writes; the others of the batch are kept', async () => {
    const commits = new GroupCommit(db);
    const first = commits.run(insert('first'));
    const failing = commits.run(() => {
      insert('half-written')();
      throw new Error('this unit fails after its first write');
    });
    const last = commits.run(insert('last'));
    await expect(failing).rejects.toMatchObject({ message: 'this unit fails after its first write' });
    await expect(first).resolves.toBeDefined();
    await expect(last).resolves.toBeDefined();
    expect(values()).toEqual(['first', 'last']);
  });

  it('a commit that fails keeps nothing of the batch, and every caller gets the error', async () => {
    const commits = new GroupCommit(db);
    const a = commits.run(insert('a'));
    // A deferred foreign key is only checked at COMMIT: the whole commit fails.
    const orphan = commits.run(() => db.prepare('INSERT INTO child (id, parent_id) VALUES (1, 999)').run());
    const b = commits.run(insert('b'));
    for (const p of [a, orphan, b]) await expect(p).rejects.toMatchObject({ message: 'FOREIGN KEY constraint failed' });
    expect(values()).toEqual([]);
    expect(db.prepare('SELECT count(*) AS n FROM child').get()).toEqual({ n: 0 });
    expect(db.inTransaction).toBe(false);
    // The next moment commits normally.
    await commits.run(insert('after'));
    expect(values()).toEqual(['after']);
  });

  it('when SQLite rolls back the whole transaction inside a unit, the later units do not run on their own: nothing is kept', async () => {
    const commits = new GroupCommit(db);
    const ran: string[] = [];
    const a = commits.run(insert('a'));
    const aborting = commits.run(() => {
      // What SQLite does on its own after SQLITE_FULL or an I/O error in the middle of a transaction.
      db.exec('ROLLBACK');
    });
    const c = commits.run(() => {
      ran.push('c');
      return insert('c')();
    });
    for (const p of [a, aborting, c]) await expect(p).rejects.toMatchObject({ message: expect.any(String) });
    expect(ran).toEqual([]);
    expect(values()).toEqual([]);
  });

  it(`commits more than ${MAX_UNITS_PER_COMMIT} units of one moment (in several transactions), none lost, in order`, async () => {
    const commits = new GroupCommit(db);
    const count = MAX_UNITS_PER_COMMIT * 2 + 1;
    const results = Array.from({ length: count }, (_, i) => commits.run(insert(String(i))));
    await Promise.all(results);
    expect(values()).toEqual(Array.from({ length: count }, (_, i) => String(i)));
    expect(db.inTransaction).toBe(false);
  });

  it('a unit queued on a closed database is refused with an error (never lost silently)', async () => {
    const commits = new GroupCommit(db);
    const pending = commits.run(insert('late'));
    db.close();
    await expect(pending).rejects.toMatchObject({ message: expect.stringMatching(/not open/) });
  });
});

describe('the SQLite stores with group commit', () => {
  it('closing the stores commits the audit entries still queued', async () => {
    db.close();
    const file = path.join(dir, 'store.sqlite');
    const stores = sqliteStores(openSqliteDatabase(file));
    const entry: AuditEntry = {
      id: 'audit-close-1',
      at: new Date('2026-11-30T12:00:00Z'),
      event: 'callback-accepted',
      accepted: true,
      reason: 'start success',
      sourceIp: '127.0.0.1',
      learner: null,
      course: null,
      sessionId: null,
      details: {},
    };
    const recording = stores.audit.record(entry);
    await stores.close();
    await recording;
    const again = sqliteStores(openSqliteDatabase(file));
    expect((await again.audit.list({ limit: 10 })).map((e) => e.id)).toEqual(['audit-close-1']);
    await again.close();
    db = openSqliteDatabase(file);
  });
});
