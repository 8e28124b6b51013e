/**
 * ltijs 5.9.9 storage plugin over better-sqlite3, on the SAME connection and file as the app's own
 * tables (ours are `lti_*`, the app's are `app_*`).
 *
 * Why it exists: ltijs with ltijs-sequelize on SQLite managed only ~25–35 full LTI launches/s (one
 * launch = login + id_token POST + redirect GET = 11 store calls, 14 when target_link_uri carries a
 * query string; sequelize serialises queries on
 * its single sqlite3 connection and adds async ORM overhead per call). The tool must sustain
 * ≥300 launches/s with p99 < 100 ms on a 2-core machine. Here every call is a handful of
 * synchronous better-sqlite3 statements, each prepared ONCE (cached by collection + sorted query
 * keys) and each hitting a real index. Measured on the 2-core box (file DB, WAL, synchronous=NORMAL):
 * the 14 store calls of the worst-case launch (9 Get, 2 Insert, 2 Replace, 1 Delete) take ~0.13–0.26 ms
 * (reads ~3–8 µs, writes ~20–40 µs each; p99 ~3–4 ms when a WAL checkpoint lands), i.e. <10 % of one
 * core at 300 launches/s, so the store is no longer the bottleneck (RS256 verification and ltijs's
 * Express 4 stack are). A regression guard runs in test/integration/ltijs-sqlite-plugin.test.ts.
 * (Since 2026-11-30 the tool answers the login and the launch itself, lti-runtime.ts: a launch now
 * makes 2 Replace and 4 Get calls here — platform and status, at login and at launch — and ltijs's
 * `state` and `nonce` collections are only swept.)
 *
 * Semantics copied from ltijs's built-in mongoose store (node_modules/ltijs/dist/Utils/Database.js):
 * - Get(key, collection, query?) → array of plain documents, or `false` when nothing matches. Without a
 *   key, documents come back as stored (keyed collections then show `{...index, iv, data}`); TTL
 *   collections carry `createdAt` as a Date (mongoose default `Date.now`). With a key, each document
 *   is replaced by `JSON.parse(decrypt(data, iv))` and, in TTL collections, `createdAt` becomes
 *   epoch ms truncated to the second (ltijs does `Date.parse(date)`, which goes through a string);
 *   Platform.platformAccessToken() relies on that number for its expiry check.
 * - Insert(key, collection, item, index?) → with a key, stores `{...index, iv, data}` (index required).
 * - Replace(key, collection, query, item, index?) → replaceOne + upsert: the FIRST match is replaced
 *   whole (createdAt reset to now), or the replacement is inserted; query fields are NOT merged in.
 * - Modify(key, collection, query, modification) → updateOne $set on the first visible match;
 *   `undefined` values are ignored (mongoose 7 drops them); createdAt is kept. With a key, only the
 *   FIRST property of `modification` is applied inside the encrypted payload (as ltijs does).
 * - Delete(collection, query) → deleteMany.
 * - mongoose schema rules: unknown top-level fields are dropped (strict), String fields are cast
 *   (3 → "3"), Booleans cast ("true" → true), defaults applied (platformStatus.active = false).
 * - TTLs (mongo `expires` on createdAt): nonce 10 s, state 600 s, accesstoken 3600 s, idtoken and
 *   contexttoken 24 h. Where MongoDB removes expired documents up to ~60 s late, here they are
 *   invisible from the exact expiry instant, deleted lazily when a Get meets them, and in bulk by
 *   sweep(), which the app calls periodically (the plugin starts no timers).
 * - Encrypt/Decrypt: AES-256-CBC, key = sha256(secret), random 16-byte IV, hex strings — byte for
 *   byte ltijs's scheme, so keys and access tokens stay readable by either store.
 *
 * Deliberate differences: the nonce index is UNIQUE (mongo's is not), which closes ltijs's
 * Get-then-Insert replay race; a concurrent duplicate nonce fails with NONCE_ALREADY_RECEIVED.
 * Query operators (`$in`, `$gt`, …) are not supported (ltijs never sends them) and throw.
 */
import crypto from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import type { DatabasePlugin } from 'ltijs';
import { groupCommitFor, type GroupCommit } from '../store/sqlite/group-commit';

/** A stored document as ltijs sees it. */
export type LtijsDocument = Record<string, unknown>;

export interface SqliteLtijsPluginOptions {
  /** Clock in epoch ms (tests inject one). Default Date.now. */
  now?: () => number;
  /** Close the better-sqlite3 connection in Close(). Default false: the app owns the connection. */
  closeDatabase?: boolean;
  /** In setup(), switch a file database to WAL if it is not already. Default true. */
  ensureWal?: boolean;
  /**
   * Where the writes go: by default the connection's group commit, shared with the tool's stores
   * (a launch's nonce and tokens commit together with its login state, learner and course, and with
   * the other launches of the same moment). Each write still settles only after its COMMIT.
   */
  groupCommit?: GroupCommit;
}

/** TTL in seconds per collection, as in ltijs's mongoose schemas (`expires` on createdAt). */
export const LTIJS_TTL_SECONDS: Readonly<Record<string, number>> = Object.freeze({
  idtoken: 3600 * 24,
  contexttoken: 3600 * 24,
  accesstoken: 3600,
  nonce: 10,
  state: 600,
});

type Scalar = 'string' | 'boolean' | 'mixed' | 'string[]' | 'date';
type FieldKind = Scalar | { readonly [sub: string]: 'string' };

interface ColumnSpec {
  readonly field: string;
  readonly column: string;
}

interface IndexSpec {
  readonly name: string;
  readonly columns: readonly string[];
  readonly unique: boolean;
}

interface CollectionSpec {
  readonly name: string;
  readonly table: string;
  readonly ttlMs: number | null;
  /** The mongoose schema: only these top-level fields are kept. */
  readonly fields: Readonly<Record<string, FieldKind>>;
  readonly defaults: Readonly<LtijsDocument>;
  /** Fields copied into real (indexed) columns. */
  readonly columns: readonly ColumnSpec[];
  readonly columnByField: ReadonlyMap<string, string>;
  readonly indexes: readonly IndexSpec[];
}

interface Row {
  id: number;
  doc: string;
  created_at: number;
  expires_at: number | null;
}

type Stmt = BetterSqlite3.Statement<unknown[], unknown>;
type ReplaceFn = (spec: CollectionSpec, query: LtijsDocument, doc: LtijsDocument, createdAt: number) => void;
type ModifyFn = (spec: CollectionSpec, query: LtijsDocument, modification: LtijsDocument, key: string | false) => void;

const KEY_FIELDS: Record<string, FieldKind> = {
  kid: 'string',
  platformUrl: 'string',
  clientId: 'string',
  iv: 'string',
  data: 'string',
};

function collection(
  name: string,
  fields: Record<string, FieldKind>,
  columns: Array<[field: string, column: string]>,
  indexes: Array<{ suffix: string; columns: string[]; unique?: boolean }>,
  defaults: LtijsDocument = {},
): CollectionSpec {
  const table = `lti_${name.toLowerCase()}`;
  const ttl = LTIJS_TTL_SECONDS[name];
  const cols = columns.map(([field, column]) => ({ field, column }));
  return {
    name,
    table,
    ttlMs: ttl === undefined ? null : ttl * 1000,
    fields: ttl === undefined ? fields : { ...fields, createdAt: 'date' },
    defaults,
    columns: cols,
    columnByField: new Map(cols.map((c) => [c.field, c.column])),
    indexes: indexes.map((i) => ({ name: `${table}_${i.suffix}`, columns: i.columns, unique: i.unique === true })),
  };
}

/** Every collection ltijs 5.9.9 uses, its schema, its indexed columns and indexes. */
const COLLECTIONS: readonly CollectionSpec[] = [
  collection(
    'idtoken',
    { iss: 'string', user: 'string', userInfo: 'mixed', platformInfo: 'mixed', clientId: 'string', platformId: 'string', deploymentId: 'string' },
    [['iss', 'iss'], ['clientId', 'client_id'], ['deploymentId', 'deployment_id'], ['user', 'user_id']],
    [{ suffix: 'by_key', columns: ['iss', 'client_id', 'deployment_id', 'user_id'] }],
  ),
  collection(
    'contexttoken',
    {
      contextId: 'string', user: 'string', roles: 'string[]', path: 'string', targetLinkUri: 'string', context: 'mixed',
      resource: 'mixed', custom: 'mixed', launchPresentation: 'mixed', messageType: 'string', version: 'string',
      deepLinkingSettings: 'mixed', lis: 'mixed', endpoint: 'mixed', namesRoles: 'mixed',
    },
    [['contextId', 'context_id'], ['user', 'user_id']],
    [{ suffix: 'by_key', columns: ['context_id', 'user_id'] }],
  ),
  collection(
    'platform',
    {
      platformUrl: 'string', platformName: 'string', clientId: 'string', authEndpoint: 'string', accesstokenEndpoint: 'string',
      authorizationServer: 'string', kid: 'string', authConfig: { method: 'string', key: 'string' },
    },
    [['platformUrl', 'platform_url'], ['clientId', 'client_id'], ['kid', 'kid']],
    [
      // also serves {platformUrl} alone (left prefix)
      { suffix: 'by_url_client', columns: ['platform_url', 'client_id'], unique: true },
      { suffix: 'by_kid', columns: ['kid'], unique: true },
    ],
  ),
  collection(
    'platformStatus',
    { id: 'string', active: 'boolean' },
    [['id', 'status_id']],
    [{ suffix: 'by_id', columns: ['status_id'], unique: true }],
    { active: false },
  ),
  collection(
    'publickey',
    KEY_FIELDS,
    [['kid', 'kid'], ['platformUrl', 'platform_url'], ['clientId', 'client_id']],
    [
      { suffix: 'by_kid', columns: ['kid'], unique: true },
      { suffix: 'by_url_client', columns: ['platform_url', 'client_id'] },
    ],
  ),
  collection(
    'privatekey',
    KEY_FIELDS,
    [['kid', 'kid'], ['platformUrl', 'platform_url'], ['clientId', 'client_id']],
    [
      { suffix: 'by_kid', columns: ['kid'], unique: true },
      { suffix: 'by_url_client', columns: ['platform_url', 'client_id'] },
    ],
  ),
  collection(
    'accesstoken',
    { platformUrl: 'string', clientId: 'string', scopes: 'string', iv: 'string', data: 'string' },
    [['platformUrl', 'platform_url'], ['clientId', 'client_id'], ['scopes', 'scopes']],
    [{ suffix: 'by_key', columns: ['platform_url', 'client_id', 'scopes'], unique: true }],
  ),
  collection('nonce', { nonce: 'string' }, [['nonce', 'nonce']], [{ suffix: 'by_nonce', columns: ['nonce'], unique: true }]),
  collection('state', { state: 'string', query: 'mixed' }, [['state', 'state']], [{ suffix: 'by_state', columns: ['state'], unique: true }]),
];

/** The SQLite table behind each ltijs collection. */
export const LTIJS_TABLES: Readonly<Record<string, string>> = Object.freeze(
  Object.fromEntries(COLLECTIONS.map((c) => [c.name, c.table])),
);

const SPEC_BY_NAME: ReadonlyMap<string, CollectionSpec> = new Map(COLLECTIONS.map((c) => [c.name, c]));

function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !Buffer.isBuffer(v);
}

function castError(path: string, kind: string, value: unknown): Error {
  let shown: string;
  try {
    shown = JSON.stringify(value) ?? String(value);
  } catch {
    shown = String(value);
  }
  return new Error(`Cast to ${kind} failed for value ${shown} at path "${path}"`);
}

/** mongoose's String cast: numbers, booleans and bigints become strings; objects are refused. */
function castString(path: string, v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (v instanceof Date) return v.toString();
  throw castError(path, 'string', v);
}

const TRUE_VALUES: readonly unknown[] = [true, 'true', 1, '1', 'yes'];
const FALSE_VALUES: readonly unknown[] = [false, 'false', 0, '0', 'no'];

function castBoolean(path: string, v: unknown): boolean | null {
  if (v === null || v === undefined) return null;
  if (TRUE_VALUES.includes(v)) return true;
  if (FALSE_VALUES.includes(v)) return false;
  throw castError(path, 'Boolean', v);
}

function castField(path: string, kind: FieldKind, v: unknown): unknown {
  switch (kind) {
    case 'string':
      return castString(path, v);
    case 'boolean':
      return castBoolean(path, v);
    case 'mixed':
      return v;
    case 'date':
      return v;
    case 'string[]':
      if (v === null) return null;
      return (Array.isArray(v) ? v : [v]).map((e, i) => castString(`${path}.${i}`, e));
    default: {
      if (v === null) return null;
      if (!isPlainObject(v)) throw castError(path, 'Embedded', v);
      const out: LtijsDocument = {};
      for (const [sub, subKind] of Object.entries(kind)) {
        const sv = v[sub];
        if (sv !== undefined) out[sub] = castField(`${path}.${sub}`, subKind, sv);
      }
      return out;
    }
  }
}

function toEpochMs(v: unknown): number | null {
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? null : v.getTime();
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string') {
    const ms = Date.parse(v);
    return Number.isNaN(ms) ? null : ms;
  }
  return null;
}

function isUniqueViolation(err: unknown): boolean {
  return typeof err === 'object' && err !== null && (err as { code?: unknown }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

function assertNoOperators(what: string, obj: Record<string, unknown>): void {
  for (const [k, v] of Object.entries(obj)) {
    if (k.startsWith('$')) throw new Error(`UNSUPPORTED_${what}_OPERATOR: ${k}`);
    if (isPlainObject(v) && Object.keys(v).some((sub) => sub.startsWith('$'))) {
      throw new Error(`UNSUPPORTED_${what}_OPERATOR at "${k}"`);
    }
  }
}

/** Bind value for a json_extract() comparison (SQLite has no booleans; objects compare as minified JSON). */
function jsonBindValue(v: unknown): string | number | null {
  if (v === null || v === undefined) return null;
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (typeof v === 'string' || typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (v instanceof Date) return v.toISOString();
  return JSON.stringify(v);
}

function jsonPath(field: string): string {
  return '$' + field.split('.').map((seg) => `."${seg.replace(/"/g, '\\"')}"`).join('');
}

export class SqliteLtijsPlugin implements DatabasePlugin {
  private readonly db: BetterSqlite3.Database;
  private readonly now: () => number;
  private readonly closeDatabase: boolean;
  private readonly ensureWal: boolean;
  private readonly statements = new Map<string, Stmt>();
  private deployed = false;
  private cachedKey: { secret: string; key: Buffer } | null = null;
  private readonly replaceTx: BetterSqlite3.Transaction<ReplaceFn>;
  private readonly modifyTx: BetterSqlite3.Transaction<ModifyFn>;
  private readonly commits: GroupCommit;

  constructor(db: BetterSqlite3.Database, options: SqliteLtijsPluginOptions = {}) {
    this.db = db;
    this.commits = options.groupCommit ?? groupCommitFor(db);
    this.now = options.now ?? Date.now;
    this.closeDatabase = options.closeDatabase ?? false;
    this.ensureWal = options.ensureWal ?? true;
    // IMMEDIATE: take the write lock before reading, so two processes on the same file cannot both
    // miss the row and both insert it.
    this.replaceTx = db.transaction<ReplaceFn>((spec, query, doc, createdAt) => this.replaceSync(spec, query, doc, createdAt));
    this.modifyTx = db.transaction<ModifyFn>((spec, query, modification, key) => this.modifySync(spec, query, modification, key));
  }

  // ---------------------------------------------------------------- lifecycle (called by ltijs)

  /** Creates the lti_* tables and indexes (idempotent). ltijs calls it from deploy(). */
  async setup(): Promise<true> {
    if (this.ensureWal && !this.db.memory) {
      const mode = this.db.pragma('journal_mode', { simple: true });
      if (typeof mode === 'string' && mode.toLowerCase() !== 'wal') this.db.pragma('journal_mode = WAL');
    }
    this.db.transaction(() => {
      for (const spec of COLLECTIONS) this.db.exec(SqliteLtijsPlugin.ddl(spec));
    }).immediate();
    this.deployed = true;
    return true;
  }

  /** ltijs calls it from close(). Leaves the shared connection open unless `closeDatabase`. */
  async Close(): Promise<true> {
    this.deployed = false;
    if (this.closeDatabase && this.db.open) {
      this.statements.clear();
      this.db.close();
    }
    return true;
  }

  // ---------------------------------------------------------------- the store API ltijs calls

  async Get(ENCRYPTIONKEY: string | false, collection: string, query?: object): Promise<LtijsDocument[] | false> {
    this.assertDeployed();
    if (!collection) throw new Error('MISSING_COLLECTION');
    const spec = this.spec(collection);
    const q = (query ?? {}) as LtijsDocument;
    const { stmt, params } = this.whereStatement(spec, 'select', q);
    const rows = stmt.all(...params) as Row[];
    const now = this.now();
    const out: LtijsDocument[] = [];
    let expired: number[] | undefined;
    for (const row of rows) {
      if (row.expires_at !== null && row.expires_at <= now) {
        (expired ??= []).push(row.id);
        continue;
      }
      out.push(this.materialise(spec, row, ENCRYPTIONKEY));
    }
    if (expired) {
      const del = this.deleteByIdStatement(spec);
      for (const id of expired) del.run(id);
    }
    return out.length === 0 ? false : out;
  }

  async Insert(ENCRYPTIONKEY: string | false, collection: string, item: object, index?: object): Promise<true> {
    this.assertDeployed();
    if (!collection || !item || (ENCRYPTIONKEY && !index)) throw new Error('MISSING_PARAMS');
    const spec = this.spec(collection);
    const data = ENCRYPTIONKEY ? { ...(index as LtijsDocument), ...this.encryptSync(JSON.stringify(item), ENCRYPTIONKEY) } : (item as LtijsDocument);
    const { doc, createdAt } = this.newDocument(spec, data);
    await this.commits.run(() => this.insertRow(spec, doc, createdAt));
    return true;
  }

  async Replace(ENCRYPTIONKEY: string | false, collection: string, query: object, item: object, index?: object): Promise<true> {
    this.assertDeployed();
    if (!collection || !item || (ENCRYPTIONKEY && !index)) throw new Error('MISSING_PARAMS');
    const spec = this.spec(collection);
    const data = ENCRYPTIONKEY ? { ...(index as LtijsDocument), ...this.encryptSync(JSON.stringify(item), ENCRYPTIONKEY) } : (item as LtijsDocument);
    const { doc, createdAt } = this.newDocument(spec, data);
    // Inside the group's transaction the replace runs in a savepoint (better-sqlite3 nests it).
    await this.commits.run(() => this.replaceTx.immediate(spec, (query ?? {}) as LtijsDocument, doc, createdAt));
    return true;
  }

  async Modify(ENCRYPTIONKEY: string | false, collection: string, query: object, modification: object): Promise<true> {
    this.assertDeployed();
    if (!collection || !query || !modification) throw new Error('MISSING_PARAMS');
    const spec = this.spec(collection);
    assertNoOperators('UPDATE', modification as LtijsDocument);
    await this.commits.run(() => this.modifyTx.immediate(spec, query as LtijsDocument, modification as LtijsDocument, ENCRYPTIONKEY));
    return true;
  }

  async Delete(collection: string, query: object): Promise<true> {
    this.assertDeployed();
    if (!collection || !query) throw new Error('MISSING_PARAMS');
    const spec = this.spec(collection);
    const { stmt, params } = this.whereStatement(spec, 'delete', query as LtijsDocument);
    await this.commits.run(() => stmt.run(...params));
    return true;
  }

  async Encrypt(data: string, secret: string): Promise<{ iv: string; data: string }> {
    return this.encryptSync(data, secret);
  }

  async Decrypt(data: string, iv: string, secret: string): Promise<string> {
    return this.decryptSync(data, iv, secret);
  }

  // ---------------------------------------------------------------- for the app

  /**
   * Deletes expired rows from every TTL collection; returns how many. At most `maxRowsPerTable`
   * per table per call (default: all), so a large backlog can be drained in short steps without
   * holding the event loop or the write lock for long. Call it periodically (e.g. every minute).
   */
  sweep(maxRowsPerTable = -1): number {
    const now = this.now();
    let removed = 0;
    for (const spec of COLLECTIONS) {
      if (spec.ttlMs === null) continue;
      removed += this.statement(`sweep|${spec.name}`, () =>
        `DELETE FROM ${quoteIdent(spec.table)} WHERE id IN (SELECT id FROM ${quoteIdent(spec.table)} WHERE expires_at <= ? LIMIT ?)`,
      ).run(now, maxRowsPerTable).changes;
    }
    return removed;
  }

  /** How many distinct statements have been prepared so far (each is prepared once and reused). */
  get preparedStatementCount(): number {
    return this.statements.size;
  }

  /** EXPLAIN QUERY PLAN of the statement Get(…, collection, query) uses: lets tests prove index use. */
  explainGet(collection: string, query: object = {}): string[] {
    const spec = this.spec(collection);
    const { stmt, params } = this.whereStatement(spec, 'select', query as LtijsDocument);
    const plan = this.db.prepare(`EXPLAIN QUERY PLAN ${stmt.source}`).all(...params) as Array<{ detail: string }>;
    return plan.map((p) => p.detail);
  }

  // ---------------------------------------------------------------- internals

  private static ddl(spec: CollectionSpec): string {
    const t = quoteIdent(spec.table);
    const cols = spec.columns.map((c) => `  ${quoteIdent(c.column)} TEXT,\n`).join('');
    let sql =
      `CREATE TABLE IF NOT EXISTS ${t} (\n  id INTEGER PRIMARY KEY,\n${cols}` +
      `  doc TEXT NOT NULL,\n  created_at INTEGER NOT NULL,\n  expires_at INTEGER\n);\n`;
    for (const idx of spec.indexes) {
      sql += `CREATE ${idx.unique ? 'UNIQUE ' : ''}INDEX IF NOT EXISTS ${quoteIdent(idx.name)} ON ${t} (${idx.columns.map(quoteIdent).join(', ')});\n`;
    }
    if (spec.ttlMs !== null) {
      sql += `CREATE INDEX IF NOT EXISTS ${quoteIdent(`${spec.table}_by_expiry`)} ON ${t} (expires_at);\n`;
    }
    return sql;
  }

  private assertDeployed(): void {
    if (!this.deployed) throw new Error('PROVIDER_NOT_DEPLOYED');
  }

  private spec(collection: string): CollectionSpec {
    const spec = SPEC_BY_NAME.get(collection);
    if (!spec) throw new Error(`UNKNOWN_COLLECTION: ${collection}`);
    return spec;
  }

  private statement(key: string, sql: () => string): Stmt {
    let stmt = this.statements.get(key);
    if (!stmt) {
      stmt = this.db.prepare<unknown[], unknown>(sql());
      this.statements.set(key, stmt);
    }
    return stmt;
  }

  /**
   * The cached statement for `op` on `spec` filtered by `query`'s keys (sorted), and its parameters.
   * Indexed fields compare their column, others fall back to json_extract(doc). `IS ?` (not `= ?`)
   * so that `{field: null}` matches missing/null like MongoDB, and SQLite still uses the index.
   */
  private whereStatement(
    spec: CollectionSpec,
    op: 'select' | 'first' | 'firstVisible' | 'delete' | 'deleteExpired',
    query: LtijsDocument,
  ): { stmt: Stmt; params: unknown[] } {
    assertNoOperators('QUERY', query);
    const keys = Object.keys(query).sort();
    const params: unknown[] = [];
    for (const k of keys) {
      const column = spec.columnByField.get(k);
      if (column !== undefined) {
        params.push(castString(k, query[k]));
      } else {
        params.push(jsonPath(k), jsonBindValue(query[k]));
      }
    }
    if (op === 'firstVisible' || op === 'deleteExpired') params.push(this.now());
    const stmt = this.statement(`${op}|${spec.name}|${keys.join('\u0000')}`, () => {
      const terms = keys.map((k) => {
        const column = spec.columnByField.get(k);
        return column !== undefined ? `${quoteIdent(column)} IS ?` : 'json_extract(doc, ?) IS ?';
      });
      const t = quoteIdent(spec.table);
      switch (op) {
        case 'select':
          return `SELECT id, doc, created_at, expires_at FROM ${t}${where(terms)} ORDER BY id`;
        case 'first':
          return `SELECT id, doc, created_at, expires_at FROM ${t}${where(terms)} ORDER BY id LIMIT 1`;
        case 'firstVisible':
          return `SELECT id, doc, created_at, expires_at FROM ${t}${where([...terms, '(expires_at IS NULL OR expires_at > ?)'])} ORDER BY id LIMIT 1`;
        case 'delete':
          return `DELETE FROM ${t}${where(terms)}`;
        case 'deleteExpired':
          return `DELETE FROM ${t}${where([...terms, 'expires_at <= ?'])}`;
      }
    });
    return { stmt, params };
  }

  private deleteByIdStatement(spec: CollectionSpec): Stmt {
    return this.statement(`deleteId|${spec.name}`, () => `DELETE FROM ${quoteIdent(spec.table)} WHERE id = ?`);
  }

  private columnValues(spec: CollectionSpec, doc: LtijsDocument): Array<string | null> {
    return spec.columns.map((c) => castString(c.field, doc[c.field]));
  }

  /** mongoose `new Model(data)`: strict schema, casts, defaults; createdAt split off into its column. */
  private newDocument(spec: CollectionSpec, data: LtijsDocument): { doc: LtijsDocument; createdAt: number } {
    const doc: LtijsDocument = {};
    let createdAt: number | null = null;
    for (const [k, v] of Object.entries(data)) {
      const kind = spec.fields[k];
      if (kind === undefined || v === undefined) continue;
      if (kind === 'date') {
        createdAt = toEpochMs(v);
        continue;
      }
      doc[k] = castField(k, kind, v);
    }
    for (const [k, v] of Object.entries(spec.defaults)) {
      if (doc[k] === undefined) doc[k] = v;
    }
    return { doc, createdAt: createdAt ?? this.now() };
  }

  private insertRow(spec: CollectionSpec, doc: LtijsDocument, createdAt: number): void {
    const stmt = this.statement(`insert|${spec.name}`, () => {
      const cols = [...spec.columns.map((c) => quoteIdent(c.column)), 'doc', 'created_at', 'expires_at'];
      return `INSERT INTO ${quoteIdent(spec.table)} (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})`;
    });
    const params = [...this.columnValues(spec, doc), JSON.stringify(doc), createdAt, spec.ttlMs === null ? null : createdAt + spec.ttlMs];
    try {
      stmt.run(...params);
    } catch (err) {
      // An expired (invisible) row may still hold the unique key: remove it and try once more.
      if (isUniqueViolation(err) && spec.ttlMs !== null && this.deleteExpiredHolders(spec, doc) > 0) {
        stmt.run(...params);
        return;
      }
      if (isUniqueViolation(err) && spec.name === 'nonce') throw new Error('NONCE_ALREADY_RECEIVED');
      throw err;
    }
  }

  private deleteExpiredHolders(spec: CollectionSpec, doc: LtijsDocument): number {
    let removed = 0;
    for (const idx of spec.indexes) {
      if (!idx.unique) continue;
      const q: LtijsDocument = {};
      for (const c of spec.columns) if (idx.columns.includes(c.column)) q[c.field] = doc[c.field] ?? null;
      const { stmt, params } = this.whereStatement(spec, 'deleteExpired', q);
      removed += stmt.run(...params).changes;
    }
    return removed;
  }

  private replaceSync(spec: CollectionSpec, query: LtijsDocument, doc: LtijsDocument, createdAt: number): void {
    const { stmt, params } = this.whereStatement(spec, 'first', query);
    const existing = stmt.get(...params) as Row | undefined;
    if (!existing) {
      this.insertRow(spec, doc, createdAt);
      return;
    }
    this.statement(`replace|${spec.name}`, () => {
      const sets = [...spec.columns.map((c) => `${quoteIdent(c.column)} = ?`), 'doc = ?', 'created_at = ?', 'expires_at = ?'];
      return `UPDATE ${quoteIdent(spec.table)} SET ${sets.join(', ')} WHERE id = ?`;
    }).run(...this.columnValues(spec, doc), JSON.stringify(doc), createdAt, spec.ttlMs === null ? null : createdAt + spec.ttlMs, existing.id);
  }

  private modifySync(spec: CollectionSpec, query: LtijsDocument, modification: LtijsDocument, key: string | false): void {
    const { stmt, params } = this.whereStatement(spec, 'firstVisible', query);
    const row = stmt.get(...params) as Row | undefined;
    if (!row) return;
    const current = JSON.parse(row.doc) as LtijsDocument;
    let set: LtijsDocument = modification;
    if (key) {
      // ltijs: decrypt, apply ONLY the first property of the modification, re-encrypt.
      const payload = JSON.parse(this.decryptStored(current, key)) as LtijsDocument;
      const first = Object.keys(modification)[0];
      if (first !== undefined) payload[first] = modification[first];
      set = this.encryptSync(JSON.stringify(payload), key);
    }
    const next: LtijsDocument = { ...current };
    let changed = false;
    for (const [k, v] of Object.entries(set)) {
      const kind = spec.fields[k];
      if (kind === undefined || kind === 'date' || v === undefined) continue; // strict; undefined ignored
      next[k] = castField(k, kind, v);
      changed = true;
    }
    if (!changed) return;
    this.statement(`modify|${spec.name}`, () => {
      const sets = [...spec.columns.map((c) => `${quoteIdent(c.column)} = ?`), 'doc = ?'];
      return `UPDATE ${quoteIdent(spec.table)} SET ${sets.join(', ')} WHERE id = ?`;
    }).run(...this.columnValues(spec, next), JSON.stringify(next), row.id);
  }

  private materialise(spec: CollectionSpec, row: Row, key: string | false): LtijsDocument {
    const stored = JSON.parse(row.doc) as LtijsDocument;
    if (!key) {
      if (spec.ttlMs !== null) stored.createdAt = new Date(row.created_at);
      return stored;
    }
    const plain = JSON.parse(this.decryptStored(stored, key)) as LtijsDocument;
    // ltijs: result.createdAt = Date.parse(temp.createdAt) → epoch ms, whole seconds (via Date#toString).
    if (spec.ttlMs !== null) plain.createdAt = Math.floor(row.created_at / 1000) * 1000;
    return plain;
  }

  private decryptStored(stored: LtijsDocument, key: string): string {
    const { data, iv } = stored;
    if (typeof data !== 'string' || typeof iv !== 'string') throw new Error('DECRYPTION_FAILED: document has no iv/data');
    return this.decryptSync(data, iv, key);
  }

  private keyFor(secret: string): Buffer {
    if (this.cachedKey?.secret !== secret) {
      this.cachedKey = { secret, key: crypto.createHash('sha256').update(secret).digest().subarray(0, 32) };
    }
    return this.cachedKey.key;
  }

  private encryptSync(data: string, secret: string): { iv: string; data: string } {
    const iv = crypto.randomBytes(16);
    const cipher = crypto.createCipheriv('aes-256-cbc', this.keyFor(secret), iv);
    const encrypted = Buffer.concat([cipher.update(data), cipher.final()]);
    return { iv: iv.toString('hex'), data: encrypted.toString('hex') };
  }

  private decryptSync(data: string, iv: string, secret: string): string {
    const decipher = crypto.createDecipheriv('aes-256-cbc', this.keyFor(secret), Buffer.from(iv, 'hex'));
    return Buffer.concat([decipher.update(Buffer.from(data, 'hex')), decipher.final()]).toString();
  }
}

function where(terms: string[]): string {
  return terms.length === 0 ? '' : ` WHERE ${terms.join(' AND ')}`;
}
