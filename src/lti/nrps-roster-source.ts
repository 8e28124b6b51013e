/**
 * RosterSource adapter: LTI Names and Role Provisioning Services 2.0 over HTTP. The access token
 * comes from ltijs (client_credentials with our key, cached by ltijs per platform and scope); the
 * membership pages are fetched here so that each has a timeout and `Link: rel="next"` is followed
 * only on the LMS's own origin (the bearer token never leaves it).
 * @see https://www.imsglobal.org/spec/lti-nrps/v2p0#limit-query-parameter
 */
import type { Provider } from 'ltijs';
import { memberFromNrps, type RosterMember } from '../domain/roster';
import { RosterUnavailableError, type RosterSource, type RosterTarget } from '../application/roster-service';

export const NRPS_SCOPE = 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly';
const MEDIA_TYPE = 'application/vnd.ims.lti-nrps.v2.membershipcontainer+json';

export interface NrpsOptions {
  /** Whole fetch (token and every page) must finish within this. */
  timeoutMs: number;
  /** `limit` asked per page. */
  pageSize?: number;
  /** Stops (as an error) after this many pages: a paging loop in the LMS must not hang the report. */
  maxPages?: number;
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
  return {
    async fetchMembers(target: RosterTarget): Promise<RosterMember[]> {
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
      const members: RosterMember[] = [];
      for (let page = 1; url; page += 1) {
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
          body = await res.json();
        } catch (error) {
          const name = (error as Error).name;
          if (name === 'TimeoutError' || name === 'AbortError') throw new RosterUnavailableError('timeout', null, `page ${page} timed out`);
          throw new RosterUnavailableError('invalid', res.status, `page ${page}: not JSON`);
        }
        const list = (body as { members?: unknown } | null)?.members;
        if (!Array.isArray(list)) throw new RosterUnavailableError('invalid', res.status, `page ${page}: no members array`);
        for (const raw of list) {
          const m = memberFromNrps(raw);
          if (m) members.push(m);
        }
        const next = nextLink(res.headers.get('link'));
        if (next && new URL(next, url).origin !== origin) throw new RosterUnavailableError('invalid', null, 'next page on another origin');
        url = next ? new URL(next, url).toString() : null;
      }
      // A member listed on two pages (the roster changed while paging) counts once.
      const unique = new Map(members.map((m) => [m.userId, m]));
      return [...unique.values()];
    },
  };
}
