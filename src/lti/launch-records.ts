/**
 * What a validated launch leaves behind, in ltijs 5.9.9's own shapes (Provider.js, sessionValidator):
 * the id token record (who, which platform), the context token record (which course, link, roles)
 * and the claims of the ltik that points at both. The tool handles the launch itself (lti-runtime.ts)
 * but keeps ltijs's records byte for byte, so everything that still reads them through ltijs (a later
 * request's ltik, Names and Roles, Deep Linking) finds what ltijs would have written.
 *
 * Pure apart from hashing: no Express, no database.
 */
import { createHash } from 'node:crypto';

const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';

export interface ValidatedLaunch {
  /** The id_token's verified claims. */
  claims: Record<string, unknown>;
  /** The platform registration's client id (ltijs adds it to the validated token). */
  clientId: string;
  /** The key id ltijs stores with the platform registration (its `platformId`). */
  platformKid: string;
  /** The request path under /lti the launch was posted to ('/' for the tool's launch URL). */
  path: string;
  /** The OIDC state of this launch (ltijs puts it in the ltik to make every ltik unique). */
  state: string;
}

export interface LtijsLaunchRecords {
  idTokenQuery: { iss: unknown; clientId: string; deploymentId: unknown; user: unknown };
  idToken: Record<string, unknown>;
  contextTokenQuery: { contextId: string; user: unknown };
  contextToken: Record<string, unknown>;
  ltikClaims: Record<string, unknown>;
}

/** `claim ? claim.id : 'NF'`, as ltijs computes the course and link ids (a claim that is not an object has no id). */
function idOf(claims: Record<string, unknown>, name: string): unknown {
  const value = claims[`${LTI}${name}`] as { id?: unknown } | null | undefined;
  return value ? value.id : 'NF';
}

export function ltijsLaunchRecords(launch: ValidatedLaunch): LtijsLaunchRecords {
  const { claims, clientId } = launch;
  const courseId = idOf(claims, 'context');
  const resourceId = idOf(claims, 'resource_link');
  const deploymentId = claims[`${LTI}deployment_id`];
  // Same keys, same order as ltijs: the context id hashes their JSON.
  const additionalContextProperties = {
    path: launch.path,
    roles: claims[`${LTI}roles`],
    targetLinkUri: claims[`${LTI}target_link_uri`],
    custom: claims[`${LTI}custom`],
    launchPresentation: claims[`${LTI}launch_presentation`],
    endpoint: claims['https://purl.imsglobal.org/spec/lti-ags/claim/endpoint'],
    namesRoles: claims['https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice'],
  };
  const hash = createHash('sha256').update(JSON.stringify(additionalContextProperties)).digest('hex');
  const iss = claims.iss;
  const sub = claims.sub;
  const contextId = encodeURIComponent(`${String(iss)}${clientId}${String(deploymentId)}${String(courseId)}_${String(resourceId)}_${hash}`);
  const platformCode = encodeURIComponent(`lti${Buffer.from(`${String(iss)}${clientId}${String(deploymentId)}`).toString('base64')}`);

  const idToken = {
    iss,
    user: sub,
    userInfo: { given_name: claims.given_name, family_name: claims.family_name, name: claims.name, email: claims.email },
    platformInfo: claims[`${LTI}tool_platform`],
    clientId,
    platformId: launch.platformKid,
    deploymentId,
  };
  const contextToken = {
    contextId,
    user: sub,
    context: claims[`${LTI}context`],
    resource: claims[`${LTI}resource_link`],
    messageType: claims[`${LTI}message_type`],
    version: claims[`${LTI}version`],
    deepLinkingSettings: claims['https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings'],
    lis: claims[`${LTI}lis`],
    ...additionalContextProperties,
  };
  return {
    idTokenQuery: { iss, clientId, deploymentId, user: sub },
    idToken,
    contextTokenQuery: { contextId, user: sub },
    contextToken,
    ltikClaims: { platformUrl: iss, clientId, deploymentId, platformCode, contextId, user: sub, s: launch.state },
  };
}
