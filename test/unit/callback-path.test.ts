/**
 * Issue #19 §6: the one canonical form of a SENCE callback path, what Express 5 itself routes to the
 * callback (case-insensitive fixed segments, a decoded `:token`, a trailing slash), plus escaped
 * unreserved characters and repeated slashes; anything else is left alone.
 */
import { canonicalCallbackPath } from '../../src/web/callback-path';
import { redact } from '../../src/web/logger';

const T = 'AtTeMpT_0123.SeCrEtToKeN-0123456789';

describe('canonicalCallbackPath', () => {
  it.each([
    [`/cb/ok/${T}`, `/cb/ok/${T}`],
    [`/CB/OK/${T}`, `/cb/ok/${T}`],
    [`/cB/Er/${T}`, `/cb/er/${T}`],
    [`/cb/ok/AtTeMpT_0123%2ESeCrEtToKeN-0123456789`, `/cb/ok/${T}`],
    [`/cb/ok/AtTeMpT_0123%2eSeCrEtToKeN-0123456789`, `/cb/ok/${T}`],
    [`/cb/ok/%41tTeMpT_0123.SeCrEtToKeN-0123456789`, `/cb/ok/${T}`],
    [`/%63%62/o%6b/${T}`, `/cb/ok/${T}`],
    [`//cb///ok//${T}`, `/cb/ok/${T}`],
    [`/cb/ok/${T}/`, `/cb/ok/${T}`],
  ])('%s → %s', (raw, canonical) => {
    expect(canonicalCallbackPath(raw)).toBe(canonical);
  });

  it.each([
    '/lti/staff',
    '/cbx/ok/x.y',
    '/cb/ok/',
    '/cb/ok/a/b',
    '/cb/nope/x.y',
    '/sence/window/1/close',
    '/',
  ])('leaves %s alone (null)', (raw) => {
    expect(canonicalCallbackPath(raw)).toBeNull();
  });

  it('keeps escapes of reserved characters as they are (the route refuses them)', () => {
    expect(canonicalCallbackPath('/cb/ok/a%2Fb.c')).toBe('/cb/ok/a%2Fb.c');
  });
});

describe('the log redaction of callback tokens', () => {
  it.each([`/cb/ok/${T}`, `/CB/Ok/${T}`, `/cb//ok/${T}`, '/cb/ok/AtTeMpT_0123%2ESeCrEtToKeN-0123456789'])('redacts the token in %s', (path) => {
    const out = String(redact(`POST ${path} 403`));
    expect(out).not.toContain('SeCrEtToKeN');
    expect(out).toContain('AtTeMpT_0123.[redactado]');
  });
});
