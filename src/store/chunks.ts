/**
 * Splits a list for queries that take many keys at once (`$in`): each query stays small whatever
 * the size of the course, so one never becomes a multi-megabyte command or a long scan.
 */
export const KEYS_PER_QUERY = 500;

export function chunksOf<T>(items: readonly T[], size = KEYS_PER_QUERY): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new Error(`chunk size must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
