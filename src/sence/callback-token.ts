/**
 * One-time tokens carried in UrlRetoma/UrlError. SENCE callbacks are not signed and arrive
 * without the LMS cookie (REFERENCE §3), so the token is what ties a callback to its attempt.
 * Only the SHA-256 of the token is stored.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const TOKEN_BYTES = 24; // 32 base64url characters: keeps the callback URL under 100 characters.

export function hashCallbackToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function newCallbackToken(): { token: string; hash: string } {
  const token = randomBytes(TOKEN_BYTES).toString('base64url');
  return { token, hash: hashCallbackToken(token) };
}

/** Constant-time comparison of the presented token's hash with the stored hash. */
export function tokenMatches(presented: string, storedHash: string): boolean {
  const presentedHash = Buffer.from(hashCallbackToken(presented), 'utf8');
  const stored = Buffer.from(storedHash.toLowerCase(), 'utf8');
  if (presentedHash.length !== stored.length) return false;
  return timingSafeEqual(presentedHash, stored);
}
