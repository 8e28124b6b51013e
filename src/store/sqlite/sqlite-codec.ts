/** Small conversions shared by the SQLite adapters: dates as epoch ms, nested values as JSON text. */

export function toMs(date: Date): number {
  return date.getTime();
}

export function toMsOrNull(date: Date | null): number | null {
  return date === null ? null : date.getTime();
}

export function fromMs(ms: number): Date {
  return new Date(ms);
}

export function fromMsOrNull(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

export function json(value: unknown): string {
  return JSON.stringify(value);
}

export function parseJson<T>(text: string): T {
  return JSON.parse(text) as T;
}

/** better-sqlite3 throws SqliteError with an extended result `code` such as SQLITE_CONSTRAINT_UNIQUE. */
export function isSqliteConstraint(error: unknown, code: 'SQLITE_CONSTRAINT_UNIQUE' | 'SQLITE_CONSTRAINT_PRIMARYKEY'): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}
