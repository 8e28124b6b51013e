/**
 * ltijs signs the ltik of every launch and verifies it on every request under /lti with jsonwebtoken
 * (HS256), passing its encryption key as a string. jsonwebtoken 9, handed a string, first tries to
 * parse it as a PEM/DER key (createPrivateKey on sign, createPublicKey on verify), which throws, and
 * only then builds `createSecretKey(Buffer.from(key))`. That failed parse plus the exception cost
 * ~0.5 ms per call: about a quarter of a whole launch's CPU (profile in bench/README.md).
 *
 * useParsedLtikKey(key) builds that same secret KeyObject once and has jsonwebtoken's sign/verify
 * receive it whenever they are called with exactly that string. Nothing else changes: same bytes,
 * same HMAC, same algorithm defaults (a secret key allows HS256/384/512, as before) and the same
 * checks. A key string that does parse as a PEM/DER key is left alone (jsonwebtoken would use it
 * as an asymmetric key). The patched module is the jsonwebtoken instance ltijs itself loads.
 */
import { createPrivateKey, createPublicKey, createSecretKey, type KeyObject } from 'node:crypto';
import path from 'node:path';

type JwtFunction = (token: unknown, key: unknown, ...rest: unknown[]) => unknown;
interface JwtModule {
  sign: JwtFunction;
  verify: JwtFunction;
}

const parsed = new Map<string, KeyObject>();
let patched: JwtModule | null = null;

function parsesAsKey(secret: string): boolean {
  for (const parse of [createPrivateKey, createPublicKey]) {
    try {
      parse(secret);
      return true;
    } catch {
      /* not key material: jsonwebtoken falls back to a secret key */
    }
  }
  return false;
}

/** The jsonwebtoken module object ltijs requires (resolved from ltijs's own directory). */
function ltijsJsonwebtoken(): JwtModule {
  const ltijsDir = path.dirname(require.resolve('ltijs'));
  return require(require.resolve('jsonwebtoken', { paths: [ltijsDir] })) as JwtModule;
}

function swap(key: unknown): unknown {
  return typeof key === 'string' ? (parsed.get(key) ?? key) : key;
}

/**
 * The key to sign or verify ltiks with outside ltijs: the secret KeyObject useParsedLtikKey built for
 * `secret` (the very bytes ltijs uses), or the string itself when it was left alone.
 */
export function ltikKeyFor(secret: string): KeyObject | string {
  return parsed.get(secret) ?? secret;
}

export function useParsedLtikKey(secret: string): void {
  if (parsed.has(secret) || parsesAsKey(secret)) return;
  parsed.set(secret, createSecretKey(Buffer.from(secret)));
  if (patched) return;
  const jwt = ltijsJsonwebtoken();
  const { sign, verify } = jwt;
  jwt.sign = function signWithParsedKey(this: unknown, payload, key, ...rest) {
    return sign.call(this, payload, swap(key), ...rest);
  };
  jwt.verify = function verifyWithParsedKey(this: unknown, token, key, ...rest) {
    return verify.call(this, token, swap(key), ...rest);
  };
  patched = jwt;
}
