/**
 * The launch's own checks (src/lti/launch-verification.ts). Since the tool stores launches itself,
 * the LTI claims ltijs used to require are checked here: a launch without them is refused before
 * anything is written.
 */
import { generateKeyPairSync } from 'node:crypto';
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
  const run = (claims: Record<string, unknown>) =>
    checkLaunch({
      idToken: jwt.sign(claims, privateKey, { algorithm: 'RS256', keyid: 'k1' }),
      state: 'estado-1',
      login,
      resolveKey: async () => publicKey,
      maxAgeSeconds: 10,
      nowSeconds: NOW,
    });

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
});
