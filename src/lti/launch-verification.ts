/**
 * What this tool checks on every LTI launch, as a named chain of small steps (IMS LTI 1.3 Core
 * §5.1.3 / OIDC Core §3.1.3.7, §5.3–5.4). The tool handles the launch itself (lti-runtime.ts): ltijs
 * never checked that the nonce is the one issued for that login (REFERENCE §1.5, ltijs #175), drew
 * its nonces from Math.random and fetched the platform JWKS on every launch. Replay is refused by the
 * login state, consumed once. Pure: no Express, no database; the login state is handed in already
 * consumed, the key resolver is a port.
 */
import jwt from 'jsonwebtoken';
import type { KeyObject } from 'node:crypto';
import type { ErrorCode } from '../errors';

export interface IssuedLogin {
  nonce: string;
  issuer: string;
  clientId: string | null;
}

export type PlatformKeyResolver = (issuer: string, clientId: string, kid: string | undefined) => Promise<KeyObject>;

export type LaunchCheck =
  | { ok: true; claims: Record<string, unknown>; key: KeyObject; clientId: string }
  | { ok: false; step: string; code: ErrorCode; reason: string };

export interface LaunchCheckInput {
  idToken: string | undefined;
  state: string | undefined;
  /** The login this tool issued for `state` (already consumed), or null if unknown/used/expired. */
  login: IssuedLogin | null;
  resolveKey: PlatformKeyResolver;
  maxAgeSeconds: number;
  nowSeconds: number;
  /** Tolerated clock difference with the platform, seconds. */
  skewSeconds?: number;
}

const fail = (step: string, code: ErrorCode, reason: string): LaunchCheck => ({ ok: false, step, code, reason });

export async function checkLaunch(input: LaunchCheckInput): Promise<LaunchCheck> {
  const skew = input.skewSeconds ?? 60;
  // OIDC Core §3.1.2.5 (form_post): the authentication response carries id_token and state.
  if (!input.state) return fail('state-present', 'lti-missing-state', 'launch without state');
  if (!input.idToken) return fail('id-token-present', 'lti-invalid-token', 'launch without id_token');

  // LTI 1.3 Core §5.1.3 step 1: the id_token is a signed JWT (JWS compact serialisation).
  const decoded = jwt.decode(input.idToken, { complete: true });
  if (!decoded || typeof decoded.payload !== 'object' || decoded.payload === null) {
    return fail('decode', 'lti-invalid-token', 'id_token is not a JWT');
  }
  // IMS Security Framework §5.1.3: RS256 only.
  if (decoded.header.alg !== 'RS256') return fail('algorithm', 'lti-bad-signature', `alg ${decoded.header.alg}`);
  const claims = decoded.payload as Record<string, unknown>;

  // OIDC third-party login: the state must be one this tool issued and not used yet (replay).
  if (!input.login) return fail('login-state', 'lti-replayed-launch', 'state unknown, expired or already used');
  // OIDC Core §3.1.3.7 (2): iss must be the issuer the login was started for.
  if (claims.iss !== input.login.issuer) return fail('issuer', 'lti-invalid-token', 'iss differs from the login issuer');

  // OIDC Core §3.1.3.7 (3)(4)(5): aud contains our client_id; azp when several audiences.
  const aud = claims.aud;
  const audiences = Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : typeof aud === 'string' ? [aud] : [];
  const clientId = input.login.clientId ?? audiences[0];
  if (!clientId || !audiences.includes(clientId)) return fail('audience', 'lti-wrong-audience', 'aud does not contain the client_id');
  if (audiences.length > 1 && claims.azp !== clientId) return fail('audience', 'lti-wrong-audience', 'azp does not match the client_id');

  // IMS Security Framework §5.1.3 (6): verify the signature with the platform key (cached JWKS).
  let key: KeyObject;
  try {
    key = await input.resolveKey(input.login.issuer, clientId, decoded.header.kid);
  } catch (err) {
    const code = (err as { code?: ErrorCode }).code ?? 'lti-bad-signature';
    return fail('platform-key', code, (err as Error).message);
  }
  try {
    jwt.verify(input.idToken, key, { algorithms: ['RS256'], ignoreExpiration: true, ignoreNotBefore: true });
  } catch {
    return fail('signature', 'lti-bad-signature', 'signature does not verify');
  }

  // OIDC Core §3.1.3.7 (9)(10): exp in the future, iat not in the future and not too old.
  const now = input.nowSeconds;
  if (typeof claims.exp !== 'number' || claims.exp + skew < now) return fail('expiry', 'lti-token-expired', 'token expired');
  if (typeof claims.iat !== 'number') return fail('issued-at', 'lti-invalid-token', 'iat missing');
  if (claims.iat - skew > now) return fail('issued-at', 'lti-token-not-yet-valid', 'iat in the future');
  if (typeof claims.nbf === 'number' && claims.nbf - skew > now) return fail('not-before', 'lti-token-not-yet-valid', 'nbf in the future');
  if (now - claims.iat > input.maxAgeSeconds) return fail('max-age', 'lti-token-expired', 'token older than the allowed age');

  // OIDC Core §3.1.3.7 (11): the nonce is the one this tool sent for this login (ltijs does not check it).
  if (typeof claims.nonce !== 'string' || claims.nonce !== input.login.nonce) {
    return fail('nonce', 'lti-nonce-mismatch', 'nonce differs from the one issued at login');
  }
  const missing = missingLaunchClaim(claims);
  if (missing) return fail('claims', 'lti-invalid-token', missing);
  return { ok: true, claims, key, clientId };
}

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';

/**
 * LTI 1.3 Core §5.3–5.4: the claims every launch message must carry (the same ones ltijs 5.9
 * required before it stored a launch), or null when they are all there.
 */
export function missingLaunchClaim(claims: Record<string, unknown>): string | null {
  const messageType = claims[`${LTI}message_type`];
  if (messageType !== 'LtiResourceLinkRequest' && messageType !== 'LtiDeepLinkingRequest') return 'message_type is not LtiResourceLinkRequest or LtiDeepLinkingRequest';
  if (messageType === 'LtiResourceLinkRequest') {
    if (!claims[`${LTI}target_link_uri`]) return 'target_link_uri missing';
    const link = claims[`${LTI}resource_link`] as { id?: unknown } | null | undefined;
    if (!link || typeof link !== 'object' || !link.id) return 'resource_link.id missing';
  }
  if (claims[`${LTI}version`] !== '1.3.0') return 'version is not 1.3.0';
  if (!claims[`${LTI}deployment_id`]) return 'deployment_id missing';
  if (!claims.sub) return 'sub missing';
  if (!claims[`${LTI}roles`]) return 'roles missing';
  return null;
}
