/**
 * Where a SENCE callback came from, as far as the browser says (issue #7 finding 7, issue #20 §5).
 * SENCE's callbacks are unsigned and the learner's browser holds every field SENCE echoes, so a
 * forged one cannot be told apart; the headers are only a clue, and only one kind is evidence:
 * - 'sence': the Origin or the Referer names SENCE's origin, and neither names another site;
 * - 'foreign': the Origin or the Referer names a site that is not SENCE's (or is not a URL at all:
 *   a browser never sends that) — the answer was not posted from SENCE's page: marked;
 * - 'missing': neither is there (`Origin: null` is what a browser sends under a no-referrer policy
 *   or after a cross-site redirect) — no evidence either way: recorded quietly, never marked.
 * Pure.
 */
export type CallbackOrigin = 'sence' | 'missing' | 'foreign';

function originOf(value: string): string | null {
  try {
    const url = new URL(value);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.origin : null;
  } catch {
    return null;
  }
}

export function judgeCallbackOrigin(headers: { origin: string | null; referer: string | null }, senceOrigins: readonly (string | null)[]): CallbackOrigin {
  const named = [headers.origin, headers.referer]
    .map((v) => (v ?? '').trim())
    .filter((v) => v !== '' && v !== 'null');
  if (named.length === 0) return 'missing';
  return named.every((v) => {
    const origin = originOf(v);
    return origin !== null && senceOrigins.includes(origin);
  })
    ? 'sence'
    : 'foreign';
}
