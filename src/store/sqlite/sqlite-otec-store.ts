import type { Otec, PlatformKey } from '../../domain/types';
import type { OtecStore } from '../ports';
import type { Database } from './open-sqlite';
import { fromMs, json, parseJson, toMs } from './sqlite-codec';

interface OtecRow {
  id: string;
  name: string;
  rut: string;
  token_sealed: string;
  token_hint: string;
  platforms: string | null;
  created_at: number;
  updated_at: number;
}

function toOtec(row: OtecRow): Otec {
  return {
    id: row.id,
    name: row.name,
    rut: row.rut,
    tokenSealed: row.token_sealed,
    tokenHint: row.token_hint,
    platforms: row.platforms === null ? null : parseJson<PlatformKey[]>(row.platforms),
    createdAt: fromMs(row.created_at),
    updatedAt: fromMs(row.updated_at),
  };
}

export class SqliteOtecStore implements OtecStore {
  private readonly listStmt;
  private readonly getStmt;
  private readonly saveStmt;
  private readonly removeStmt;

  constructor(db: Database) {
    this.listStmt = db.prepare<[], OtecRow>('SELECT * FROM app_otecs ORDER BY name, id');
    this.getStmt = db.prepare<[string], OtecRow>('SELECT * FROM app_otecs WHERE id = ?');
    this.saveStmt = db.prepare<[string, string, string, string, string, string | null, number, number], OtecRow>(
      `INSERT INTO app_otecs (id, name, rut, token_sealed, token_hint, platforms, created_at, updated_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET
         name = excluded.name, rut = excluded.rut, token_sealed = excluded.token_sealed,
         token_hint = excluded.token_hint, platforms = excluded.platforms,
         created_at = excluded.created_at, updated_at = excluded.updated_at
       RETURNING *`,
    );
    this.removeStmt = db.prepare<[string]>('DELETE FROM app_otecs WHERE id = ?');
  }

  /** Sorted by name (then id). */
  async list(): Promise<Otec[]> {
    return this.listStmt.all().map(toOtec);
  }

  async get(id: string): Promise<Otec | null> {
    const row = this.getStmt.get(id);
    return row ? toOtec(row) : null;
  }

  async save(otec: Otec): Promise<Otec> {
    const row = this.saveStmt.get(
      otec.id,
      otec.name,
      otec.rut,
      otec.tokenSealed,
      otec.tokenHint,
      otec.platforms === null ? null : json(otec.platforms.map((p) => ({ issuer: p.issuer, clientId: p.clientId }))),
      toMs(otec.createdAt),
      toMs(otec.updatedAt),
    );
    if (!row) throw new Error('app_otecs upsert returned no row');
    return toOtec(row);
  }

  async remove(id: string): Promise<boolean> {
    return this.removeStmt.run(id).changes > 0;
  }
}
