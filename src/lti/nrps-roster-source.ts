/**
 * RosterSource adapter: LTI Names and Role Provisioning Services 2.0 over HTTP. The access token
 * comes from ltijs (client_credentials with our key, cached by ltijs per platform and scope); the
 * membership pages are fetched here so that each has a timeout and `Link: rel="next"` is followed
 * only on the LMS's own origin (the bearer token never leaves it). Issue #19: at most NRPS_MAX_MEMBERS
 * members and NRPS_MAX_BYTES bytes are read (each body streamed against the byte budget); past the
 * member cap, or the byte cap after the first page, the roster is cut and marked `truncated`.
 * @see https://www.imsglobal.org/spec/lti-nrps/v2p0#limit-query-parameter
 */
import type { Provider } from 'ltijs';
import { memberFromNrps, type RosterMember } from '../domain/roster';
import { RosterUnavailableError, type RosterFetch, type RosterSource, type RosterTarget } from '../application/roster-service';

export const NRPS_SCOPE = 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly';
const MEDIA_TYPE = 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json';

/** Members read at most (issue #19): past it the roster is cut and staff are told. */
export const NRPS_MAX_MEMBERS = 5_000;
/** Bytes read at most over every page of one roster (issue #19), streamed: never more in memory. */
export const NRPS_MAX_BYTES = 8 * 1024 * 1024;

export interface NrpsOptions {
  /** Whole fetch (token and every page) must finish within this. */
  timeoutMs: number;
  /** `limit` asked per page. */
  pageSize?: number;
  /** Stops (as an error) after this many pages: a paging loop in the LMS must not hang the report. */
  maxPages?: number;
  /** Members kept at most (NRPS_MAX_MEMBERS); past it the roster is cut (`truncated`). */
  maxMembers?: number;
  /** Bytes read at most over every page (NRPS_MAX_BYTES). */
  maxBytes?: number;
}

/**
 * The body of `res` as text, read chunk by chunk; null (and the rest of the body cancelled) as
 * soon as it passes `budget` bytes, so an answer of any size never costs more than the budget.
 */
async function readCapped(res: Response, budget: number): Promise<{ text: string; bytes: number } | null> {
  if (!res.body) return { text: '', bytes: 0 };
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    bytes += value.byteLength;
    if (bytes > budget) {
      await reader.cancel().catch(() => undefined);
      return null;
    }
    chunks.push(value);
  }
  return { text: Buffer.concat(chunks).toString('utf8'), bytes };
}

/** The URL of `rel="next"` in a Link header, if any (RFC 8288). */
export function nextLink(header: string | null): string | null {
  if (!header) return null;
  for (const part of header.split(/,(?=\s*<)/)) {
    const m = /^\s*<([^>]*)>\s*;(.*)$/.exec(part);
    if (m && /(^|;)\s*rel\s*=\s*"?([^";]*\s)?next(\s[^";]*)?"?\s*(;|$)/i.test(m[2] ?? '')) return m[1] ?? null;
  }
  return null;
}

type ProviderLike = Pick<typeof Provider, 'getPlatform'>;

export function nrpsRosterSource(provider: ProviderLike, options: NrpsOptions): RosterSource {
  const pageSize = options.pageSize ?? 100;
  const maxPages = options.maxPages ?? 200;
  const maxMembers = options.maxMembers ?? NRPS_MAX_MEMBERS;
  const maxBytes = options.maxBytes ?? NRPS_MAX_BYTES;
  return {
    async fetchMembers(target: RosterTarget): Promise<RosterFetch> {
      if (!target.membershipsUrl) throw new RosterUnavailableError('no-service', null, 'no NRPS claim');
      const deadline = Date.now() + options.timeoutMs;
      const remaining = (): number => Math.max(1, deadline - Date.now());
      const timeout = <T>(p: Promise<T>): Promise<T> =>
        new Promise<T>((resolve, reject) => {
          const t = setTimeout(() => reject(new RosterUnavailableError('timeout', null, 'access token request timed out')), remaining());
          p.then((v) => { clearTimeout(t); resolve(v); }, (e: unknown) => { clearTimeout(t); reject(e); });
        });

      const platform = await provider.getPlatform(target.issuer, target.clientId);
      if (!platform) throw new RosterUnavailableError('no-service', null, 'platform not registered');
      let token: { token_type: string; access_token: string };
      try {
        token = await timeout(platform.platformAccessToken(NRPS_SCOPE));
      } catch (error) {
        if (error instanceof RosterUnavailableError) throw error;
        const status = (error as { response?: { statusCode?: number } }).response?.statusCode ?? null;
        throw new RosterUnavailableError(status === 400 || status === 401 || status === 403 ? 'unauthorized' : 'refused', status, `access token: ${(error as Error).message}`);
      }

      const origin = new URL(target.membershipsUrl).origin;
      const first = new URL(target.membershipsUrl);
      if (!first.searchParams.has('limit')) first.searchParams.set('limit', String(pageSize));
      let url: string | null = first.toString();
      // A member listed on two pages (the roster changed while paging) counts once.
      const members = new Map<string, RosterMember>();
      let bytesRead = 0;
      let truncated = false;
      for (let page = 1; url; page += 1) {
        // The cap reached and the LMS says there is more: cut here, without asking for the next page.
        if (members.size >= maxMembers) {
          truncated = true;
          break;
        }
        if (page > maxPages) throw new RosterUnavailableError('invalid', null, `more than ${maxPages} pages`);
        let res: Response;
        try {
          res = await fetch(url, {
            headers: { Authorization: `${token.token_type} ${token.access_token}`, Accept: MEDIA_TYPE },
            redirect: 'error',
            signal: AbortSignal.timeout(remaining()),
          });
        } catch (error) {
          const name = (error as Error).name;
          if (name === 'TimeoutError' || name === 'AbortError') throw new RosterUnavailableError('timeout', null, `page ${page} timed out`);
          throw new RosterUnavailableError('unreachable', null, `page ${page}: ${(error as Error).message}`);
        }
        if (res.status === 401 || res.status === 403) throw new RosterUnavailableError('unauthorized', res.status, `page ${page}: HTTP ${res.status}`);
        if (!res.ok) throw new RosterUnavailableError('refused', res.status, `page ${page}: HTTP ${res.status}`);
        let body: unknown;
        try {
          const read = await readCapped(res, maxBytes - bytesRead);
          if (read === null) {
            // Past the byte cap: a later page cuts the roster; a first page alone that large is refused.
            if (members.size > 0) {
              truncated = true;
              break;
            }
            throw new RosterUnavailableError('too-large', res.status, `page ${page}: more than ${maxBytes} bytes`);
          }
          bytesRead += read.bytes;
          body = JSON.parse(read.text);
        } catch (error) {
          if (error instanceof RosterUnavailableError) throw error;
          const name = (error as Error).name;
          if (name === 'TimeoutError' || name === 'AbortError') throw new RosterUnavailableError('timeout', null, `page ${page} timed out`);
          throw new RosterUnavailableError('invalid', res.status, `page ${page}: not JSON`);
        }
        const list = (body as { members?: unknown } | null)?.members;
        if (!Array.isArray(list)) throw new RosterUnavailableError('invalid', res.status, `page ${page}: no members array`);
        for (const raw of list) {
          const m = memberFromNrps(raw);
          if (!m || members.has(m.userId)) continue;
          if (members.size >= maxMembers) {
            truncated = true;
            break;
          }
          members.set(m.userId, m);
        }
        if (truncated) break;
        const next = nextLink(res.headers.get('link'));
        if (next && new URL(next, url).origin !== origin) throw new RosterUnavailableError('invalid', null, 'next page on another origin');
        url = next ? new URL(next, url).toString() : null;
      }
      return { members: [...members.values()], truncated };
    },
  };
}
