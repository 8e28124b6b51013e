import { createHmac } from 'node:crypto';
import { deriveCallbackToken, deriveWindowKey, hashCallbackToken, tokenMatches } from '../../src/sence/callback-token';

const secret = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');

describe('callback tokens and window keys', () => {
  it('are HMAC-SHA256 of "<purpose>:<id>", base64url, cut to 22 characters (a callback URL must fit SENCE\'s 100)', () => {
    const expected = (purpose: string, id: string) => createHmac('sha256', secret).update(`${purpose}:${id}`).digest('base64url').slice(0, 22);
    expect(deriveCallbackToken(secret, 'attempt-1')).toBe(expected('callback', 'attempt-1'));
    expect(deriveWindowKey(secret, 'attempt-1')).toBe(expected('window', 'attempt-1'));
    // Fixed vectors: a change here changes every callback URL already handed to SENCE.
    expect(deriveCallbackToken(secret, 'attempt-1')).toBe('rJyYo3pLtodaLDV6aSeWGY');
    expect(deriveWindowKey(secret, 'attempt-1')).toBe('4nCr8gifgBS5sVrm00v9za');
  });

  it('a window key never works as a callback token for the same id, nor across ids or secrets', () => {
    expect(deriveWindowKey(secret, 'x')).not.toBe(deriveCallbackToken(secret, 'x'));
    expect(deriveCallbackToken(secret, 'x')).not.toBe(deriveCallbackToken(secret, 'y'));
    expect(deriveCallbackToken(Buffer.alloc(32, 1), 'x')).not.toBe(deriveCallbackToken(secret, 'x'));
    expect(deriveCallbackToken(secret, 'x')).toMatch(/^[A-Za-z0-9_-]{22}$/);
  });

  it('stores only the SHA-256 of a token, and compares in constant time, case-insensitively on the stored hex', () => {
    expect(hashCallbackToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const token = deriveCallbackToken(secret, 'attempt-1');
    const stored = hashCallbackToken(token);
    expect(tokenMatches(token, stored)).toBe(true);
    expect(tokenMatches(token, stored.toUpperCase())).toBe(true);
    expect(tokenMatches(`${token}x`, stored)).toBe(false);
    expect(tokenMatches(token, stored.slice(1))).toBe(false);
    expect(tokenMatches('', stored)).toBe(false);
  });
});
