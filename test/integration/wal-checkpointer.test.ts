/**
 * WAL checkpoints on a worker thread (src/store/sqlite/wal-checkpointer.ts), on a real SQLite file:
 * what is written reaches the database file without the request connection checkpointing (its own
 * autocheckpoint is raised to a safety valve), and closing puts SQLite's default back.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { openSqliteDatabase, type Database } from '../../src/store/sqlite/open-sqlite';
import { DEFAULT_AUTOCHECKPOINT_PAGES, SAFETY_AUTOCHECKPOINT_PAGES, startWalCheckpointer, type WalCheckpointer } from '../../src/store/sqlite/wal-checkpointer';

jest.setTimeout(30_000);

async function until(what: string, check: () => boolean, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('WAL checkpointer', () => {
  let dir: string;
  let file: string;
  let db: Database;
  let checkpointer: WalCheckpointer | null = null;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asistencia-wal-'));
    file = path.join(dir, 'tool.sqlite');
    db = openSqliteDatabase(file);
    db.exec('CREATE TABLE bulk (id INTEGER PRIMARY KEY, body TEXT NOT NULL)');
  });

  afterEach(async () => {
    await checkpointer?.close();
    checkpointer = null;
    if (db.open) db.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const writeRows = (n: number) => {
    const insert = db.prepare('INSERT INTO bulk (body) VALUES (?)');
    for (let i = 0; i < n; i += 1) insert.run('x'.repeat(1000)); // one commit each, as requests do
  };

  it('copies what requests write into the database file on its own thread; the request connection only keeps a safety valve', async () => {
    checkpointer = startWalCheckpointer(db, file, { intervalMs: 50 });
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(SAFETY_AUTOCHECKPOINT_PAGES);
    const before = fs.statSync(file).size;
    // ~3 MB of WAL: far below the safety valve (10,000 pages), so only the worker can move it.
    writeRows(3000);
    await until('the worker checkpointed the rows into the database file', () => fs.statSync(file).size > before + 2_000_000);
    // Its count arrives by message from the thread, a moment after the file grew.
    await until('the worker reported its checkpoints', () => checkpointer!.checkpoints() > 0);
    // Another connection (another instance of the tool) reads every row.
    const other = new BetterSqlite3(file, { readonly: true });
    try {
      expect(other.prepare('SELECT COUNT(*) AS n FROM bulk').get()).toEqual({ n: 3000 });
    } finally {
      other.close();
    }
  });

  it('without it, the same writes stay in the WAL under the raised limit (what the worker is for)', async () => {
    db.pragma(`wal_autocheckpoint = ${SAFETY_AUTOCHECKPOINT_PAGES}`);
    const before = fs.statSync(file).size;
    writeRows(3000);
    await new Promise((r) => setTimeout(r, 300));
    expect(fs.statSync(file).size).toBe(before);
    expect(fs.statSync(`${file}-wal`).size).toBeGreaterThan(3_000_000);
  });

  it('close() runs a last checkpoint, stops the thread and gives SQLite its own checkpoints back', async () => {
    checkpointer = startWalCheckpointer(db, file, { intervalMs: 60_000 });
    const before = fs.statSync(file).size;
    writeRows(500);
    expect(fs.statSync(file).size).toBe(before);
    await checkpointer.close();
    expect(fs.statSync(file).size).toBeGreaterThan(before);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(DEFAULT_AUTOCHECKPOINT_PAGES);
    // A second close is harmless.
    await checkpointer.close();
  });
});
