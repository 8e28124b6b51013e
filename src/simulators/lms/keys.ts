/**
 * Keys and JWTs: the simulator's RSA signing keys and JWKS, a raw JWS signer (so tests can put any
 * header on an id_token), and the tool's key set fetched from its JWKS URL to verify what the tool
 * signs (client assertions, deep-linking responses).
 */
import { createHash, createPublicKey, generateKeyPair, sign as rsaSign, type JsonWebKey, type KeyObject } from 'node:crypto';
import { promisify } from 'node:util';
import jwt from 'jsonwebtoken';
import { SimError } from './errors';

const generateKeyPairAsync = promisify(generateKeyPair);

export interface PublicJwk {
  kty: string;
  n: string;
  e: string;
  kid: string;
  alg: 'RS256';
  use: 'sig';
}

export interface SigningKey {
  kid: string;
  privateKey: KeyObject;
  publicJwk: PublicJwk;
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of an RSA public key: a stable kid. */
function thumbprint(n: string, e: string): string {
  return createHash('sha256').update(JSON.stringify({ e, kty: 'RSA', n })).digest('base64url');
}

export async function generateSigningKey(bits: number): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPairAsync('rsa', { modulusLength: bits });
  const jwk = publicKey.export({ format: 'jwk' });
  if (typeof jwk.n !== 'string' || typeof jwk.e !== 'string') throw new Error('RSA key export without n/e');
  const kid = thumbprint(jwk.n, jwk.e);
  return { kid, privateKey, publicJwk: { kty: 'RSA', n: jwk.n, e: jwk.e, kid, alg: 'RS256', use: 'sig' } };
}

/**
 * Compact JWS with an RS256 signature over exactly the header given. Unlike jsonwebtoken.sign, the
 * header is not normalised, so tests can send a lying `alg` or an unknown `kid`.
 */
export function signJws(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): string {
  const input = signingInput(header, payload);
  return `${input}.${rsaSign('sha256', Buffer.from(input), key).toString('base64url')}`;
}

/**
 * signJws with the RSA signature computed on libuv's thread pool (crypto.sign with a callback), so
 * the RSA-2048 private-key operation of every launch (0.3–0.4 ms on the 2-core box) does not hold
 * the event loop the simulator shares with the tool. Same bytes out as signJws.
 */
export function signJwsAsync(header: Record<string, unknown>, payload: Record<string, unknown>, key: KeyObject): Promise<string> {
  const input = signingInput(header, payload);
  return new Promise((resolve, reject) => {
    rsaSign('sha256', Buffer.from(input), key, (err, signature) => {
      if (err) reject(err);
      else resolve(`${input}.${signature.toString('base64url')}`);
    });
  });
}

function signingInput(header: Record<string, unknown>, payload: Record<string, unknown>): string {
  return `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}`;
}

/**
 * The tool's public keys, fetched from its JWKS URL, cached, and fetched again (once per lookup)
 * when a JWT names a kid the cache does not know: tools may rotate keys, ltijs adds one per platform.
 */
export class ToolKeySet {
  private keys = new Map<string, KeyObject>();
  private lastFetch: Promise<void> | null = null;

  constructor(
    private readonly jwksUrl: string,
    private readonly timeoutMs = 5000,
  ) {}

  async keyFor(kid: string): Promise<KeyObject> {
    const cached = this.keys.get(kid);
    if (cached) return cached;
    await this.refresh();
    const fresh = this.keys.get(kid);
    if (!fresh) throw new SimError(401, 'invalid_client', `La herramienta no publica una clave con kid "${kid}" en ${this.jwksUrl}.`);
    return fresh;
  }

  private refresh(): Promise<void> {
    // Concurrent lookups share one fetch.
    if (!this.lastFetch) {
      this.lastFetch = this.fetchKeys().finally(() => {
        this.lastFetch = null;
      });
    }
    return this.lastFetch;
  }

  private async fetchKeys(): Promise<void> {
    let body: unknown;
    try {
      const res = await fetch(this.jwksUrl, { headers: { Accept: 'application/json' }, signal: AbortSignal.timeout(this.timeoutMs) });
      if (!res.ok) throw new Error(`HTTP ${res.status}`);
      body = await res.json();
    } catch (err) {
      throw new SimError(502, 'jwks_unavailable', `No se pudo leer el JWKS de la herramienta (${this.jwksUrl}): ${(err as Error).message}`);
    }
    const keys = (body as { keys?: unknown }).keys;
    if (!Array.isArray(keys)) throw new SimError(502, 'jwks_unavailable', `El JWKS de la herramienta (${this.jwksUrl}) no tiene "keys".`);
    const next = new Map<string, KeyObject>();
    for (const k of keys as Array<Record<string, unknown>>) {
      if (k.kty !== 'RSA' || typeof k.kid !== 'string' || (k.use !== undefined && k.use !== 'sig')) continue;
      try {
        next.set(k.kid, createPublicKey({ key: k as JsonWebKey, format: 'jwk' }));
      } catch {
        // A malformed key is skipped; the JWT naming it then fails as "unknown kid".
      }
    }
    this.keys = next;
  }
}

/**
 * Verifies a JWT the tool signed: RS256 only, kid required and found in the tool's JWKS, exp/iat
 * checked (5 s clock tolerance). Returns the payload; throws SimError(401) otherwise.
 */
export async function verifyToolJwt(
  token: string,
  keySet: ToolKeySet,
  expect: { issuer?: string; audience?: string },
  errorCode = 'invalid_client',
): Promise<Record<string, unknown>> {
  const decoded = jwt.decode(token, { complete: true });
  if (!decoded || typeof decoded.payload === 'string') throw new SimError(401, errorCode, 'El JWT no se puede decodificar.');
  if (decoded.header.alg !== 'RS256') throw new SimError(401, errorCode, `El JWT usa alg "${String(decoded.header.alg)}"; se exige RS256.`);
  const kid = decoded.header.kid;
  if (typeof kid !== 'string' || kid === '') throw new SimError(401, errorCode, 'El JWT no trae "kid" en la cabecera.');
  const key = await keySet.keyFor(kid);
  try {
    const payload = jwt.verify(token, key, {
      algorithms: ['RS256'],
      clockTolerance: 5,
      ...(expect.issuer !== undefined ? { issuer: expect.issuer } : {}),
      ...(expect.audience !== undefined ? { audience: expect.audience } : {}),
    });
    if (typeof payload === 'string') throw new Error('payload is not a JSON object');
    if (typeof payload.exp !== 'number') throw new Error('exp claim is required');
    return payload as Record<string, unknown>;
  } catch (err) {
    throw new SimError(401, errorCode, `JWT de la herramienta rechazado: ${(err as Error).message}`);
  }
}
