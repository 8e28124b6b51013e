/**
 * One canonical form of a SENCE callback path (issue #19): `/cb/ok/<token>` or `/cb/er/<token>`.
 * Express 5 routes without regard to case (`case sensitive routing` is off), accepts a trailing
 * slash (`strict routing` is off) and percent-decodes the `:token` parameter, so `/CB/Ok/…`,
 * `/cb/ok/<attempt>%2E<token>` or `/cb/ok/%41…` reached the callback route while the per-attempt
 * limit and the log redaction, matching the raw path, missed them. The host rewrites such a path
 * to its canonical form before anything else reads it (its first middleware after the security
 * headers): the router, the limits and the request log then see one and the same path.
 *
 * Canonical: percent-escapes of unreserved characters (RFC 3986 §2.3: letters, digits, `-._~`)
 * decoded, runs of slashes made one, the fixed segments in lower case, no trailing slash. Other
 * escapes stay as they are (the route's token pattern refuses them).
 */
import type { NextFunction, Request, Response } from 'express';

/** Cheap first test: only paths starting with (slashes and) `c`, `C` or an escaped `c` go further. */
const MAYBE_CALLBACK = /^\/+(?:c|%43|%63)/i;
const ESCAPE = /%([0-9A-Fa-f]{2})/g;
const UNRESERVED = /^[A-Za-z0-9._~-]$/;
const CALLBACK = /^\/cb\/(ok|er)\/([^/]+)\/?$/i;

/** The canonical form of `path` (no query) when it is a callback path, else null. */
export function canonicalCallbackPath(path: string): string | null {
  if (!MAYBE_CALLBACK.test(path)) return null;
  const decoded = path
    .replace(ESCAPE, (escape: string, hex: string) => {
      const ch = String.fromCharCode(parseInt(hex, 16));
      return UNRESERVED.test(ch) ? ch : escape;
    })
    .replace(/\/{2,}/g, '/');
  const m = CALLBACK.exec(decoded);
  return m ? `/cb/${m[1]!.toLowerCase()}/${m[2]!}` : null;
}

/** Middleware: rewrites req.url of a callback path to its canonical form (query kept). */
export function canonicalCallbackUrl(req: Request, _res: Response, next: NextFunction): void {
  const url = req.url;
  if (MAYBE_CALLBACK.test(url)) {
    const q = url.indexOf('?');
    const path = q === -1 ? url : url.slice(0, q);
    const canonical = canonicalCallbackPath(path);
    if (canonical !== null && canonical !== path) req.url = q === -1 ? canonical : canonical + url.slice(q);
  }
  next();
}
