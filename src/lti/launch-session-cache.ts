/**
 * The launch records an ltik stands for (ltijs's id token and context token), kept in memory for a
 * short while: the panel polls every 4 s, and re-reading and re-parsing both records on every poll
 * was a tenth of a panel request's cost (issue #8). Entries are frozen (shared between requests) and
 * live `ttlMs` at most, so a new launch's changes (roles, course title) reach an older ltik within
 * that time on every instance; the ltik's own checks (signature, age, active platform) still run on
 * every request, before this cache is asked. Bounded: the oldest entries go first.
 */
export class LaunchSessionCache<V extends object> {
  private readonly entries = new Map<string, { value: V; expiresAt: number }>();

  constructor(
    private readonly maxEntries: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.entries.delete(key);
      return undefined;
    }
    return entry.value;
  }

  /** Stores a deep-frozen `value` and returns it. */
  set(key: string, value: V): V {
    const frozen = deepFreeze(value);
    this.entries.delete(key);
    this.entries.set(key, { value: frozen, expiresAt: this.now() + this.ttlMs });
    while (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value as string;
      this.entries.delete(oldest);
    }
    return frozen;
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}

/** Freezes `value` and everything it holds (shared, read-only records). */
export function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value as Record<string, unknown>)) deepFreeze(v);
  }
  return value;
}
