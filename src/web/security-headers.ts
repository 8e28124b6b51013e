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

export function securityHeaders(origins: AllowedOrigins) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    const platforms = origins.platforms();
    const formAction = unique(["'self'", ...origins.sence, ...platforms]);
    const frameAncestors = unique(["'self'", ...platforms, ...origins.extraFrameAncestors]);
    res.setHeader(
      'Content-Security-Policy',
      [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        `form-action ${formAction.join(' ')}`,
        `frame-ancestors ${frameAncestors.join(' ')}`,
      ].join('; '),
    );
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('Referrer-Policy', 'no-referrer');
    next();
  };
}

function unique(values: string[]): string[] {
  return [...new Set(values.filter(Boolean))];
}
