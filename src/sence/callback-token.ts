/**
 * One-time tokens carried in UrlRetoma/UrlError, and the key of the SENCE window's buttons. SENCE
 * callbacks are not signed and arrive without the LMS cookie (REFERENCE §3), so the token is what
 * ties a callback to its attempt. Tokens are derived, HMAC(secret, attempt id), so a reused attempt
 * (double click) renders the same form; only their SHA-256 is stored, and the secret never is.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** 22 base64url characters (128 bits): keeps the callback URL within SENCE's 100 characters. */
const TOKEN_LENGTH = 22;

function derive(secret: Buffer, purpose: string, id: string): string {
  return createHmac('sha256', secret).update(`${purpose}:${id}`).digest('base64url').slice(0, TOKEN_LENGTH);
}

/** The callback token of one attempt (start or close). */
export function deriveCallbackToken(secret: Buffer, attemptId: string): string {
  return derive(secret, 'callback', attemptId);
}

/** The key the SENCE window's "Cerrar Sesión Sence" / "Volver a intentar" buttons post for a session. */
export function deriveWindowKey(secret: Buffer, sessionId: string): string {
  return derive(secret, 'window', sessionId);
}

export function hashCallbackToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

/** Constant-time comparison of the presented token's hash with the stored hash. */
export function tokenMatches(presented: string, storedHash: string): boolean {
  const presentedHash = Buffer.from(hashCallbackToken(presented), 'utf8');
  const stored = Buffer.from(storedHash.toLowerCase(), 'utf8');
  if (presentedHash.length !== stored.length) return false;
  return timingSafeEqual(presentedHash, stored);
}
