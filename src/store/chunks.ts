/**
 * Splits a list for queries that take many keys at once (`$in`): each query stays small whatever
 * the size of the course, so one never becomes a multi-megabyte command or a long scan.
 */
export const KEYS_PER_QUERY = 500;

export function chunksOf<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += KEYS_PER_QUERY) out.push(items.slice(i, i + KEYS_PER_QUERY));
  return out;
}
