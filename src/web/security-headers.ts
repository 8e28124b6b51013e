/**
 * Security headers set on purpose (STYLE habit 10): a real CSP whose `form-action` allows the
 * configured SENCE origins (the RCE form leaves our origin) and the registered LMS origins (deep
 * linking returns), and whose `frame-ancestors` allows only the registered LMS origins (no
 * clickjacking of staff pages, yet the panel lives in the LMS iframe). No inline scripts at all.
 */
import type { NextFunction, Request, Response } from 'express';

export interface AllowedOrigins {
  /** Origins allowed to frame the tool and to receive our form posts (registered LMS platforms). */
  platforms(): string[];
  /** SENCE RCE origins (test and production, or the emulator). */
  sence: string[];
  /** Extra frame ancestors from FRAME_ANCESTORS. */
  extraFrameAncestors: string[];
}

export function originOf(url: string): string | null {
  try {
    return new URL(url).origin;
  } catch {
    return null;
  }
}

/** An http(s) origin as the URL parser serialises it, and nothing a CSP header could read as more. */
const PLAIN_ORIGIN = /^https?:\/\/(\[[0-9a-f:.]+\]|[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?)(:\d{1,5})?$/;

/**
 * The origin of the page that sent this request, from `Origin` or else `Referer`, when it is a plain
 * http(s) origin (issue #19 §7); null otherwise. Never the header's text itself: only the parsed
 * origin, and only if it has nothing but scheme, host and port (a host may carry `;` or `,` for the
 * URL parser, which a CSP header would read as a new directive or source).
 */
export function requestingOrigin(req: Request): string | null {
  for (const header of ['origin', 'referer']) {
    const value = req.get(header);
    if (!value || value === 'null' || value.length > 2048) continue;
    try {
      const origin = new URL(value).origin;
      if (PLAIN_ORIGIN.test(origin)) return origin;
    } catch {
      /* not a URL */
    }
  }
  return null;
}

/** Adds origins to this response's `frame-ancestors`; returns the origins that were not already there. */
export function addFrameAncestors(res: Response, origins: Array<string | null>): string[] {
  const csp = res.getHeader('Content-Security-Policy');
  if (typeof csp !== 'string') return [];
  const current = /frame-ancestors ([^;]*)/.exec(csp)?.[1]?.split(' ') ?? [];
  const added = [...new Set(origins.filter((o): o is string => o !== null && PLAIN_ORIGIN.test(o) && !current.includes(o)))];
  if (added.length) res.setHeader('Content-Security-Policy', csp.replace(/frame-ancestors ([^;]*)/, `frame-ancestors ${[...current, ...added].join(' ')}`));
  return added;
}

export function securityHeaders(origins: AllowedOrigins) {
  // The policy changes only when the list of registered platforms does (a new array every refresh):
  // build it once per list, not on every request.
  let builtFor: string[] | null = null;
  let policy = '';
  return (_req: Request, res: Response, next: NextFunction): void => {
    const platforms = origins.platforms();
    if (platforms !== builtFor) {
      builtFor = platforms;
      policy = contentSecurityPolicy(platforms, origins);
    }
    res.setHeader('Content-Security-Policy', policy);
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  };
}

function contentSecurityPolicy(platforms: string[], origins: AllowedOrigins): string {
  const formAction = unique(["'self'", ...origins.sence, ...platforms]);
  const frameAncestors = unique(["'self'", ...platforms, ...origins.extraFrameAncestors]);
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    `form-action ${formAction.join(' ')}`,
    `frame-ancestors ${frameAncestors.join(' ')}`,
  ].join('; ');
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter(Boolean))];
}

/**
 * The headers ltijs's helmet puts on every /lti answer it passes through (helmet 6 defaults without
 * frameguard and CSP, which ours replace, and without COEP/COOP, which break the SENCE window from an
 * LMS frame). Requests the runtime resolved itself skip ltijs's app, so the host sets them.
 */
const LTI_HELMET_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['Cross-Origin-Resource-Policy', 'same-origin'],
  ['Origin-Agent-Cluster', '?1'],
  ['Strict-Transport-Security', 'max-age=15552000; includeSubDomains'],
  ['X-DNS-Prefetch-Control', 'off'],
  ['X-Download-Options', 'noopen'],
  ['X-Permitted-Cross-Domain-Policies', 'none'],
  ['X-XSS-Protection', '0'],
];

export function setLtiHelmetHeaders(res: Response): void {
  for (const [name, value] of LTI_HELMET_HEADERS) res.setHeader(name, value);
}
