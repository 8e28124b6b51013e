/**
 * Platform key sets, cached. ltijs 5.9 fetches a platform's JWKS on every launch (REFERENCE §1.5,
 * §1.10): one HTTP round trip per launch and a fresh RSA key parse each time. This cache keeps the
 * parsed keys per JWKS URL, refreshes them after `ttlMs`, and refetches once when a token names a
 * `kid` it does not know (key rotation, e.g. Canvas), but not more than once per `minRefetchMs`
 * (a forged kid must not turn the tool into a fetch amplifier).
 */
import { fetchJson as safeFetchJson } from './safe-fetch';
import { createPublicKey, type KeyObject } from 'node:crypto';
import { AppError } from '../errors';

export type FetchJson = (url: string) => Promise<unknown>;

interface Entry {
  keys: Map<string, KeyObject>;
  fetchedAt: number;
  inflight: Promise<void> | null;
}

export interface KeySetCacheOptions {
  fetchJson?: FetchJson;
  ttlMs?: number;
  minRefetchMs?: number;
  now?: () => number;
}

/** 5 s timeout and a 256 kB cap (issue #7: outbound requests are bounded); redirects are followed. */
export const defaultFetchJson: FetchJson = async (url) =>
  safeFetchJson(url, { headers: { 'user-agent': 'asistencia-sence' }, timeoutMs: 5000, maxBytes: 256 * 1024, followRedirects: true });

export class KeySetCache {
  private readonly entries = new Map<string, Entry>();
  private readonly fetchJson: FetchJson;
  private readonly ttlMs: number;
  private readonly minRefetchMs: number;
  private readonly now: () => number;
  /** Number of HTTP fetches made (observable in tests and the benchmark). */
  fetches = 0;

  constructor(options: KeySetCacheOptions = {}) {
    this.fetchJson = options.fetchJson ?? defaultFetchJson;
    this.ttlMs = options.ttlMs ?? 10 * 60_000;
    this.minRefetchMs = options.minRefetchMs ?? 10_000;
    this.now = options.now ?? Date.now;
  }

  /** The public key `kid` of the JWKS at `url`, fetching or refreshing as needed. */
  async getKey(url: string, kid: string): Promise<KeyObject> {
    let entry = this.entries.get(url);
    const age = entry ? this.now() - entry.fetchedAt : Infinity;
    if (!entry || age > this.ttlMs || (!entry.keys.has(kid) && age > this.minRefetchMs)) {
      entry = await this.refresh(url);
    }
    const key = entry.keys.get(kid);
    if (!key) {
      throw new AppError('lti-bad-signature', 401, 'La firma del lanzamiento no corresponde a ninguna llave de la plataforma.', {
        staffHint: `La plataforma firmó con la llave "${kid}", que no está en su JWKS (${url}).`,
        details: { kid },
      });
    }
    return key;
  }

  /** Forget a URL (after a registration changes). */
  invalidate(url: string): void {
    this.entries.delete(url);
  }

  private async refresh(url: string): Promise<Entry> {
    const existing = this.entries.get(url);
    if (existing?.inflight) {
      await existing.inflight;
      return this.entries.get(url) ?? existing;
    }
    const entry: Entry = existing ?? { keys: new Map(), fetchedAt: 0, inflight: null };
    this.entries.set(url, entry);
    entry.inflight = (async () => {
      try {
        this.fetches += 1;
        const body = (await this.fetchJson(url)) as { keys?: unknown };
        if (!body || !Array.isArray(body.keys)) throw new Error('JWKS without a keys array');
        const keys = new Map<string, KeyObject>();
        for (const jwk of body.keys as Array<Record<string, unknown>>) {
          if (typeof jwk.kid !== 'string' || jwk.kty !== 'RSA') continue;
          if (jwk.use !== undefined && jwk.use !== 'sig') continue;
          try {
            keys.set(jwk.kid, createPublicKey({ key: jwk as never, format: 'jwk' }));
          } catch {
            // A malformed key in the set is skipped; the others stay usable.
          }
        }
        entry.keys = keys;
        entry.fetchedAt = this.now();
      } catch (cause) {
        entry.fetchedAt = this.now();
        throw new AppError('lti-keyset-unavailable', 502, 'No pudimos verificar el lanzamiento con la plataforma del curso. Intenta nuevamente en unos minutos.', {
          staffHint: `No se pudo leer el JWKS de la plataforma (${url}).`,
          cause,
        });
      } finally {
        entry.inflight = null;
      }
    })();
    await entry.inflight;
    return entry;
  }
}
