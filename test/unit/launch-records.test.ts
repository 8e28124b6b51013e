/**
 * The tool writes ltijs's launch records itself (src/lti/launch-records.ts); ltijs still reads them
 * (a later ltik, Names and Roles, Deep Linking). The golden values below are what ltijs 5.9.9's own
 * sessionValidator computes for these claims (its expressions run verbatim on 2026-11-30).
 */
import { ltijsLaunchRecords } from '../../src/lti/launch-records';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';
const claims = (): Record<string, unknown> => ({
  iss: 'https://moodle.example.cl',
  sub: '42',
  aud: 'client-1',
  given_name: 'Ana',
  family_name: 'Pérez',
  name: 'Ana Pérez',
  email: 'ana@example.cl',
  [`${LTI}deployment_id`]: '1',
  [`${LTI}context`]: { id: 'c-7', title: 'Excel' },
  [`${LTI}resource_link`]: { id: 'r-3' },
  [`${LTI}roles`]: ['http://purl.imsglobal.org/vocab/lis/v2/membership#Learner'],
  [`${LTI}target_link_uri`]: 'https://tool.example.cl/lti',
  [`${LTI}custom`]: { rut: '12345678-5' },
  [`${LTI}message_type`]: 'LtiResourceLinkRequest',
  [`${LTI}version`]: '1.3.0',
  [`${LTI}tool_platform`]: { name: 'Moodle' },
  [`${LTI}lis`]: { person_sourcedid: '12345678-5' },
  'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice': { context_memberships_url: 'https://moodle.example.cl/nrps' },
});
const LTIJS_CONTEXT_ID = 'https%3A%2F%2Fmoodle.example.clclient-11c-7_r-3_f286e3b8bae06e30f4795f52343950d2cc8ddef31b53cbab1a346a95f2b6f617';
const LTIJS_PLATFORM_CODE = 'ltiaHR0cHM6Ly9tb29kbGUuZXhhbXBsZS5jbGNsaWVudC0xMQ%3D%3D';

describe('ltijsLaunchRecords (what ltijs 5.9.9 stores for a launch)', () => {
  const records = () => ltijsLaunchRecords({ claims: claims(), clientId: 'client-1', platformKid: 'kid-9', path: '/', state: 'estado-1' });

  it('gives the context id and platform code ltijs computes, and keys the records as ltijs does', () => {
    const r = records();
    expect(r.contextTokenQuery).toEqual({ contextId: LTIJS_CONTEXT_ID, user: '42' });
    expect(r.idTokenQuery).toEqual({ iss: 'https://moodle.example.cl', clientId: 'client-1', deploymentId: '1', user: '42' });
    expect(r.ltikClaims).toEqual({
      platformUrl: 'https://moodle.example.cl',
      clientId: 'client-1',
      deploymentId: '1',
      platformCode: LTIJS_PLATFORM_CODE,
      contextId: LTIJS_CONTEXT_ID,
      user: '42',
      s: 'estado-1',
    });
  });

  it('stores who the learner is and the launch context (roles, custom RUN, NRPS endpoint) for later requests', () => {
    const r = records();
    expect(r.idToken).toEqual({
      iss: 'https://moodle.example.cl',
      user: '42',
      userInfo: { given_name: 'Ana', family_name: 'Pérez', name: 'Ana Pérez', email: 'ana@example.cl' },
      platformInfo: { name: 'Moodle' },
      clientId: 'client-1',
      platformId: 'kid-9',
      deploymentId: '1',
    });
    expect(r.contextToken).toEqual({
      contextId: LTIJS_CONTEXT_ID,
      user: '42',
      context: { id: 'c-7', title: 'Excel' },
      resource: { id: 'r-3' },
      messageType: 'LtiResourceLinkRequest',
      version: '1.3.0',
      deepLinkingSettings: undefined,
      lis: { person_sourcedid: '12345678-5' },
      path: '/',
      roles: claims()[`${LTI}roles`],
      targetLinkUri: 'https://tool.example.cl/lti',
      custom: { rut: '12345678-5' },
      launchPresentation: undefined,
      endpoint: undefined,
      namesRoles: { context_memberships_url: 'https://moodle.example.cl/nrps' },
    });
  });

  it('another link, path or set of roles of the same course is another context record (ltijs issue 181)', () => {
    const base = records().contextTokenQuery.contextId;
    const withClaims = (patch: Record<string, unknown>, path = '/') =>
      ltijsLaunchRecords({ claims: { ...claims(), ...patch }, clientId: 'client-1', platformKid: 'kid-9', path, state: 'estado-1' }).contextTokenQuery.contextId;
    expect(withClaims({ [`${LTI}resource_link`]: { id: 'r-4' } })).not.toBe(base);
    expect(withClaims({ [`${LTI}roles`]: ['Instructor'] })).not.toBe(base);
    expect(withClaims({}, '/otra')).not.toBe(base);
    expect(withClaims({ [`${LTI}context`]: { id: 'c-7', title: 'Otro título' } })).toBe(base);
  });

  it('keeps the launch presentation, the grade service endpoint and the deep-linking settings', () => {
    const extra = {
      [`${LTI}launch_presentation`]: { document_target: 'iframe', return_url: 'https://moodle.example.cl/volver' },
      'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint': { lineitems: 'https://moodle.example.cl/ags' },
      'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings': { deep_link_return_url: 'https://moodle.example.cl/dl' },
    };
    const r = ltijsLaunchRecords({ claims: { ...claims(), ...extra }, clientId: 'client-1', platformKid: 'kid-9', path: '/', state: 's' });
    expect(r.contextToken).toMatchObject({
      launchPresentation: { document_target: 'iframe', return_url: 'https://moodle.example.cl/volver' },
      endpoint: { lineitems: 'https://moodle.example.cl/ags' },
      deepLinkingSettings: { deep_link_return_url: 'https://moodle.example.cl/dl' },
    });
  });

  it('a course or link claim without an id gives "undefined" in the context id, as in ltijs', () => {
    const r = ltijsLaunchRecords({ claims: { ...claims(), [`${LTI}context`]: { title: 'sin id' } }, clientId: 'client-1', platformKid: 'kid-9', path: '/', state: 's' });
    expect(decodeURIComponent(r.contextTokenQuery.contextId)).toMatch(/^https:\/\/moodle\.example\.clclient-11undefined_r-3_[0-9a-f]{64}$/);
  });

  it('a launch without course or link (a deep-linking request) uses "NF" as ltijs does', () => {
    const c = claims();
    delete c[`${LTI}context`];
    delete c[`${LTI}resource_link`];
    const r = ltijsLaunchRecords({ claims: c, clientId: 'client-1', platformKid: 'kid-9', path: '/', state: 's' });
    expect(decodeURIComponent(r.contextTokenQuery.contextId)).toMatch(/^https:\/\/moodle\.example\.clclient-11NF_NF_[0-9a-f]{64}$/);
  });
});
