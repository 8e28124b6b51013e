/**
 * The launch's own checks (src/lti/launch-verification.ts). Since the tool stores launches itself,
 * the LTI claims ltijs used to require are checked here: a launch without them is refused before
 * anything is written.
 */
import { generateKeyPairSync, sign as cryptoSign } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { checkLaunch, missingLaunchClaim } from '../../src/lti/launch-verification';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';
const NOW = 1_800_000_000;
const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });

const launchClaims = (): Record<string, unknown> => ({
  iss: 'https://moodle.example.cl',
  aud: 'client-1',
  sub: '42',
  nonce: 'nonce-1',
  iat: NOW - 5,
  exp: NOW + 60,
  [`${LTI}message_type`]: 'LtiResourceLinkRequest',
  [`${LTI}version`]: '1.3.0',
  [`${LTI}deployment_id`]: '1',
  [`${LTI}target_link_uri`]: 'https://tool.example.cl/lti',
  [`${LTI}resource_link`]: { id: 'r-1' },
  [`${LTI}roles`]: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'],
});
const without = (name: string) => {
  const c = launchClaims();
  delete c[name];
  return c;
};

describe('missingLaunchClaim (LTI 1.3 Core §5.3–5.4)', () => {
  it('a complete resource-link launch, and a deep-linking request without a link, pass', () => {
    expect(missingLaunchClaim(launchClaims())).toBeNull();
    const deepLinking: Record<string, unknown> = { ...without(`${LTI}resource_link`), [`${LTI}message_type`]: 'LtiDeepLinkingRequest' };
    delete deepLinking[`${LTI}target_link_uri`];
    expect(missingLaunchClaim(deepLinking)).toBeNull();
    // An empty list of roles is a list (anonymous launches); ltijs accepted it too.
    expect(missingLaunchClaim({ ...launchClaims(), [`${LTI}roles`]: [] })).toBeNull();
  });

  it.each([
    ['message_type missing', without(`${LTI}message_type`), 'message_type is not LtiResourceLinkRequest or LtiDeepLinkingRequest'],
    ['another message type', { ...launchClaims(), [`${LTI}message_type`]: 'LtiSubmissionReviewRequest' }, 'message_type is not LtiResourceLinkRequest or LtiDeepLinkingRequest'],
    ['target_link_uri missing', without(`${LTI}target_link_uri`), 'target_link_uri missing'],
    ['resource_link missing', without(`${LTI}resource_link`), 'resource_link.id missing'],
    ['resource_link without id', { ...launchClaims(), [`${LTI}resource_link`]: { title: 'x' } }, 'resource_link.id missing'],
    ['resource_link not an object', { ...launchClaims(), [`${LTI}resource_link`]: 'r-1' }, 'resource_link.id missing'],
    ['resource_link null', { ...launchClaims(), [`${LTI}resource_link`]: null }, 'resource_link.id missing'],
    ['version missing', without(`${LTI}version`), 'version is not 1.3.0'],
    ['version 1.1', { ...launchClaims(), [`${LTI}version`]: '1.1' }, 'version is not 1.3.0'],
    ['deployment_id missing', without(`${LTI}deployment_id`), 'deployment_id missing'],
    ['deployment_id empty', { ...launchClaims(), [`${LTI}deployment_id`]: '' }, 'deployment_id missing'],
    ['sub missing', without('sub'), 'sub missing'],
    ['sub empty', { ...launchClaims(), sub: '' }, 'sub missing'],
    ['roles missing', without(`${LTI}roles`), 'roles missing'],
  ])('%s is refused', (_name, claims, reason) => {
    expect(missingLaunchClaim(claims)).toBe(reason);
  });
});

describe('checkLaunch', () => {
  const login = { nonce: 'nonce-1', issuer: 'https://moodle.example.cl', clientId: 'client-1' };
  // Signed as is (jsonwebtoken.sign would add an iat of its own).
  const sign = (claims: Record<string, unknown>) => {
    const part = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const input = `${part({ alg: 'RS256', typ: 'JWT', kid: 'k1' })}.${part(claims)}`;
    return `${input}.${cryptoSign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
  };
  const run = (claims: Record<string, unknown>, over: Partial<Parameters<typeof checkLaunch>[0]> = {}) =>
    checkLaunch({
      idToken: sign(claims),
      state: 'estado-1',
      login,
      resolveKey: async () => publicKey,
      maxAgeSeconds: 10,
      nowSeconds: NOW,
      ...over,
    });
  const failure = async (claims: Record<string, unknown>, over: Partial<Parameters<typeof checkLaunch>[0]> = {}) => {
    const result = await run(claims, over);
    return result.ok ? null : { step: result.step, code: result.code };
  };

  it('a good launch passes with its claims, key and client id', async () => {
    const result = await run(launchClaims());
    expect(result).toMatchObject({ ok: true, clientId: 'client-1', key: publicKey });
    expect(result.ok && result.claims.sub).toBe('42');
  });

  it('a signed launch without roles is refused as an invalid token, after the signature and the nonce', async () => {
    expect(await run(without(`${LTI}roles`))).toEqual({ ok: false, step: 'claims', code: 'lti-invalid-token', reason: 'roles missing' });
    // The nonce is checked first: a launch for another login is a nonce mismatch whatever it carries.
    expect(await run({ ...without(`${LTI}roles`), nonce: 'otro' })).toMatchObject({ ok: false, step: 'nonce', code: 'lti-nonce-mismatch' });
  });

  it('no state, no id_token, or something that is not a JWT', async () => {
    expect(await failure(launchClaims(), { state: undefined })).toEqual({ step: 'state-present', code: 'lti-missing-state' });
    expect(await failure(launchClaims(), { state: '' })).toEqual({ step: 'state-present', code: 'lti-missing-state' });
    expect(await failure(launchClaims(), { idToken: undefined })).toEqual({ step: 'id-token-present', code: 'lti-invalid-token' });
    expect(await failure(launchClaims(), { idToken: 'no-es-un-jwt' })).toEqual({ step: 'decode', code: 'lti-invalid-token' });
    const stringPayload = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('"texto"').toString('base64url')}.firma`;
    expect(await failure(launchClaims(), { idToken: stringPayload })).toEqual({ step: 'decode', code: 'lti-invalid-token' });
  });

  it('only RS256 (an HS256 token signed with anything is refused before any key is looked up)', async () => {
    const resolveKey = jest.fn(async () => publicKey);
    const hs = jwt.sign(launchClaims(), 'secreto', { algorithm: 'HS256' });
    expect(await failure(launchClaims(), { idToken: hs, resolveKey })).toEqual({ step: 'algorithm', code: 'lti-bad-signature' });
    expect(resolveKey).not.toHaveBeenCalled();
  });

  it('a state this tool did not issue (or already used): replayed; another issuer than the login\'s: invalid', async () => {
    expect(await failure(launchClaims(), { login: null })).toEqual({ step: 'login-state', code: 'lti-replayed-launch' });
    expect(await failure({ ...launchClaims(), iss: 'https://otro.example.cl' })).toEqual({ step: 'issuer', code: 'lti-invalid-token' });
  });

  it('audience: must contain the client id; with several audiences azp must name it', async () => {
    expect(await failure({ ...launchClaims(), aud: 'otra-herramienta' })).toEqual({ step: 'audience', code: 'lti-wrong-audience' });
    expect(await failure({ ...launchClaims(), aud: 42 })).toEqual({ step: 'audience', code: 'lti-wrong-audience' });
    expect(await failure({ ...launchClaims(), aud: ['otra', 'client-1'] })).toEqual({ step: 'audience', code: 'lti-wrong-audience' });
    expect(await failure({ ...launchClaims(), aud: ['otra', 'client-1'], azp: 'otra' })).toEqual({ step: 'audience', code: 'lti-wrong-audience' });
    expect(await run({ ...launchClaims(), aud: ['otra', 'client-1'], azp: 'client-1' })).toMatchObject({ ok: true, clientId: 'client-1' });
    expect(await run({ ...launchClaims(), aud: ['client-1'] })).toMatchObject({ ok: true });
  });

  it('a login without client id takes the first audience as the client id', async () => {
    const resolveKey = jest.fn(async () => publicKey);
    const result = await run({ ...launchClaims(), aud: ['client-9', 7] }, { login: { ...login, clientId: null }, resolveKey });
    expect(result).toMatchObject({ ok: true, clientId: 'client-9' });
    expect(resolveKey).toHaveBeenCalledWith('https://moodle.example.cl', 'client-9', 'k1');
  });

  it('the platform key: its error code is kept (unregistered, keyset down), a bad signature is lti-bad-signature', async () => {
    const down = Object.assign(new Error('keyset down'), { code: 'lti-keyset-unavailable' });
    expect(await failure(launchClaims(), { resolveKey: async () => { throw down; } })).toEqual({ step: 'platform-key', code: 'lti-keyset-unavailable' });
    expect(await failure(launchClaims(), { resolveKey: async () => { throw new Error('sin código'); } })).toEqual({ step: 'platform-key', code: 'lti-bad-signature' });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    expect(await failure(launchClaims(), { resolveKey: async () => other })).toEqual({ step: 'signature', code: 'lti-bad-signature' });
  });

  // Limits (60 s of clock skew, maxAgeSeconds 10): each at exactly the limit and one second past it.
  it('exp: accepted until 60 s after it, refused one second later; missing is refused', async () => {
    expect(await run({ ...launchClaims(), iat: NOW - 5, exp: NOW - 60 })).toMatchObject({ ok: true });
    expect(await failure({ ...launchClaims(), iat: NOW - 5, exp: NOW - 61 })).toEqual({ step: 'expiry', code: 'lti-token-expired' });
    expect(await failure(without('exp'))).toEqual({ step: 'expiry', code: 'lti-token-expired' });
  });

  it('iat: up to 60 s in the future accepted, 61 s refused as not yet valid; missing is invalid', async () => {
    expect(await run({ ...launchClaims(), iat: NOW + 60 })).toMatchObject({ ok: true });
    expect(await failure({ ...launchClaims(), iat: NOW + 61 })).toEqual({ step: 'issued-at', code: 'lti-token-not-yet-valid' });
    expect(await failure(without('iat'))).toEqual({ step: 'issued-at', code: 'lti-invalid-token' });
  });

  it('nbf: up to 60 s in the future accepted, 61 s refused', async () => {
    expect(await run({ ...launchClaims(), nbf: NOW + 60 })).toMatchObject({ ok: true });
    expect(await failure({ ...launchClaims(), nbf: NOW + 61 })).toEqual({ step: 'not-before', code: 'lti-token-not-yet-valid' });
  });

  it('age: a token exactly maxAgeSeconds old is accepted, one second older is refused', async () => {
    expect(await run({ ...launchClaims(), iat: NOW - 10 })).toMatchObject({ ok: true });
    expect(await failure({ ...launchClaims(), iat: NOW - 11 })).toEqual({ step: 'max-age', code: 'lti-token-expired' });
  });

  it('a skew given by the caller replaces the 60 s', async () => {
    expect(await failure({ ...launchClaims(), iat: NOW + 5 }, { skewSeconds: 4 })).toEqual({ step: 'issued-at', code: 'lti-token-not-yet-valid' });
    expect(await run({ ...launchClaims(), iat: NOW + 4 }, { skewSeconds: 4 })).toMatchObject({ ok: true });
  });

  it('within the skew, an expired or not-yet-valid token is ours to judge (the signature check ignores exp and nbf)', async () => {
    const now = Math.floor(Date.now() / 1000);
    const claims = { ...launchClaims(), iat: now - 5, exp: now - 30, nbf: now + 30 };
    expect(await run(claims, { nowSeconds: now })).toMatchObject({ ok: true });
  });

  it('a login without client id and an audience that is not a string or list: wrong audience', async () => {
    expect(await failure({ ...launchClaims(), aud: 42 }, { login: { ...login, clientId: null } })).toEqual({ step: 'audience', code: 'lti-wrong-audience' });
  });

  it('the nonce must be the one issued at login (a missing one too)', async () => {
    expect(await failure({ ...launchClaims(), nonce: 'otro' })).toEqual({ step: 'nonce', code: 'lti-nonce-mismatch' });
    expect(await failure(without('nonce'))).toEqual({ step: 'nonce', code: 'lti-nonce-mismatch' });
  });
});
