/**
 * The pure parts of the cookieless launch (src/lti/platform-storage.ts): which storage targets are
 * accepted, the relaunch query, the sealed pending launch and its check, the course reference and
 * the ltik's lifetime — each limit at exactly the limit and one past it.
 */
import {
  checkPendingLaunch,
  courseRef,
  ltikExpired,
  PENDING_LAUNCH_SECONDS,
  relaunchQuery,
  sealPendingLaunch,
  stateStorageKey,
  storageTargetOf,
} from '../../src/lti/platform-storage';

const KEY = Buffer.alloc(32, 7);
const OTHER_KEY = Buffer.alloc(32, 8);
const T0 = Date.UTC(2026, 10, 30, 12, 0, 0);

describe('storageTargetOf', () => {
  it('accepts _parent and a sibling frame name such as Canvas\'s post_message_forwarding', () => {
    expect(storageTargetOf({ lti_storage_target: '_parent' })).toBe('_parent');
    expect(storageTargetOf({ lti_storage_target: 'post_message_forwarding' })).toBe('post_message_forwarding');
  });

  it('treats a missing, repeated or odd value as "no platform storage"', () => {
    expect(storageTargetOf({})).toBeNull();
    expect(storageTargetOf({ lti_storage_target: '' })).toBeNull();
    expect(storageTargetOf({ lti_storage_target: ['_parent', '_parent'] })).toBeNull();
    expect(storageTargetOf({ lti_storage_target: '_top' })).toBeNull();
    expect(storageTargetOf({ lti_storage_target: '../frame' })).toBeNull();
    expect(storageTargetOf({ lti_storage_target: 'frame name' })).toBeNull();
  });

  it('a frame name of 64 characters is accepted, 65 is not', () => {
    expect(storageTargetOf({ lti_storage_target: 'f'.repeat(64) })).toBe('f'.repeat(64));
    expect(storageTargetOf({ lti_storage_target: 'f'.repeat(65) })).toBeNull();
  });
});

describe('relaunchQuery and the storage key', () => {
  it('keeps the login initiation parameters and drops lti_storage_target and anything else', () => {
    const q = relaunchQuery({
      iss: 'https://canvas.example', login_hint: 'u 1', target_link_uri: 'https://tool/lti', lti_message_hint: 'h&x',
      client_id: '10000', lti_deployment_id: 'd1', lti_storage_target: '_parent', evil: 'x', state: 's',
    });
    expect(Object.fromEntries(new URLSearchParams(q))).toEqual({
      iss: 'https://canvas.example', login_hint: 'u 1', target_link_uri: 'https://tool/lti', lti_message_hint: 'h&x', client_id: '10000', lti_deployment_id: 'd1',
    });
  });

  it('puts the value in the key (state_<state>)', () => {
    expect(stateStorageKey('abc')).toBe('state_abc');
  });
});

describe('pending launch', () => {
  const launch = { id: 'pending-1', ltik: 'the-ltik', state: 'st-1', relaunchQuery: 'iss=x' };

  it('hides the ltik: the sealed text does not contain it', () => {
    expect(sealPendingLaunch(launch, KEY, T0)).not.toContain('the-ltik');
  });

  it('opens when the browser read back the same state', () => {
    expect(checkPendingLaunch(sealPendingLaunch(launch, KEY, T0), 'st-1', KEY, T0)).toEqual({ ok: true, launch });
  });

  it('refuses another state, or nothing found in the storage, and keeps the relaunch query', () => {
    expect(checkPendingLaunch(sealPendingLaunch(launch, KEY, T0), 'st-2', KEY, T0)).toEqual({ ok: false, reason: 'state-mismatch', relaunchQuery: 'iss=x', id: 'pending-1' });
    expect(checkPendingLaunch(sealPendingLaunch(launch, KEY, T0), '', KEY, T0)).toMatchObject({ ok: false, reason: 'state-mismatch' });
  });

  it(`still opens exactly ${PENDING_LAUNCH_SECONDS} s later, and not one second after`, () => {
    const sealed = sealPendingLaunch(launch, KEY, T0);
    expect(checkPendingLaunch(sealed, 'st-1', KEY, T0 + PENDING_LAUNCH_SECONDS * 1000).ok).toBe(true);
    expect(checkPendingLaunch(sealed, 'st-1', KEY, T0 + (PENDING_LAUNCH_SECONDS + 1) * 1000)).toEqual({ ok: false, reason: 'expired', relaunchQuery: 'iss=x' });
  });

  it('a tampered or foreign seal is unreadable', () => {
    const sealed = sealPendingLaunch(launch, KEY, T0);
    expect(checkPendingLaunch(sealed, 'st-1', OTHER_KEY, T0)).toEqual({ ok: false, reason: 'unreadable', relaunchQuery: null });
    expect(checkPendingLaunch(`${sealed.slice(0, -2)}AA`, 'st-1', KEY, T0).ok).toBe(false);
    expect(checkPendingLaunch('garbage', 'st-1', KEY, T0)).toEqual({ ok: false, reason: 'unreadable', relaunchQuery: null });
  });
});

describe('courseRef', () => {
  const course = { issuer: 'https://moodle.example', clientId: 'c1', contextId: '42' };
  it('is stable and differs for another course, client or platform', () => {
    expect(courseRef(course)).toBe(courseRef({ ...course }));
    expect(courseRef(course)).toHaveLength(22);
    expect(courseRef({ ...course, contextId: '43' })).not.toBe(courseRef(course));
    expect(courseRef({ ...course, clientId: 'c2' })).not.toBe(courseRef(course));
    expect(courseRef({ ...course, issuer: 'https://otro.example' })).not.toBe(courseRef(course));
    // The separator keeps fields apart: ('a','bc') and ('ab','c') are different courses.
    expect(courseRef({ issuer: 'a', clientId: 'bc', contextId: 'd' })).not.toBe(courseRef({ issuer: 'ab', clientId: 'c', contextId: 'd' }));
  });
});

describe('ltikExpired', () => {
  const now = 1_800_000_000;
  it('works at exactly the limit and stops one second past it', () => {
    expect(ltikExpired(now - 360 * 60, now, 360)).toBe(false);
    expect(ltikExpired(now - 360 * 60 - 1, now, 360)).toBe(true);
  });
  it('an ltik without a numeric iat never works', () => {
    expect(ltikExpired(undefined, now, 360)).toBe(true);
    expect(ltikExpired('1800000000', now, 360)).toBe(true);
    expect(ltikExpired(Number.NaN, now, 360)).toBe(true);
  });
  it('a fresh ltik works', () => {
    expect(ltikExpired(now, now, 360)).toBe(false);
  });
});
