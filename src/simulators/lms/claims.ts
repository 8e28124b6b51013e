/**
 * The id_token claims of a launch, shaped like a Moodle 4.5 launch (REFERENCE §4.1, §4.4).
 * @see https://www.imsglobal.org/spec/lti/v1p3#required-message-claims
 */
import type { LtiMessageType, SimCourse, SimUser, ToolUrls } from './types';

export const LTI = 'https://purl.imsglobal.org/spec/lti/claim/';
export const CLAIM = {
  messageType: `${LTI}message_type`,
  version: `${LTI}version`,
  deploymentId: `${LTI}deployment_id`,
  targetLinkUri: `${LTI}target_link_uri`,
  resourceLink: `${LTI}resource_link`,
  roles: `${LTI}roles`,
  context: `${LTI}context`,
  lis: `${LTI}lis`,
  custom: `${LTI}custom`,
  toolPlatform: `${LTI}tool_platform`,
  launchPresentation: `${LTI}launch_presentation`,
  ext: `${LTI}ext`,
  ags: 'https://purl.imsglobal.org/spec/lti-ags/claim/endpoint',
  nrps: 'https://purl.imsglobal.org/spec/lti-nrps/claim/namesroleservice',
  deepLinkingSettings: 'https://purl.imsglobal.org/spec/lti-dl/claim/deep_linking_settings',
} as const;

export const DL_CLAIM = {
  contentItems: 'https://purl.imsglobal.org/spec/lti-dl/claim/content_items',
  data: 'https://purl.imsglobal.org/spec/lti-dl/claim/data',
  msg: 'https://purl.imsglobal.org/spec/lti-dl/claim/msg',
} as const;

export const ROLE = {
  learner: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Learner',
  instructor: 'http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor',
  institutionInstructor: 'http://purl.imsglobal.org/vocab/lis/v2/institution/person#Instructor',
} as const;

export const SCOPE = {
  lineItem: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  lineItemReadOnly: 'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  score: 'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  resultReadOnly: 'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  membershipReadOnly: 'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
} as const;

export const SIMULATOR_VERSION = '1.0.0';
export const ID_TOKEN_TTL_SECONDS = 300;

export function rolesOf(user: SimUser): string[] {
  return user.role === 'instructor' ? [ROLE.instructor, ROLE.institutionInstructor] : [ROLE.learner];
}

export interface ClaimsInput {
  issuer: string;
  clientId: string;
  deploymentId: string;
  publicHost: string;
  tool: ToolUrls;
  course: SimCourse;
  user: SimUser;
  nonce: string;
  messageType: LtiMessageType;
  /** Opaque deep-linking `data` to be echoed by the tool (deep linking only). */
  deepLinkData?: string;
  now?: number;
}

export function serviceUrls(issuer: string, course: SimCourse): { lineItems: string; lineItem1: string; memberships: string } {
  const base = `${issuer}/api/courses/${encodeURIComponent(course.contextId)}`;
  return { lineItems: `${base}/lineitems`, lineItem1: `${base}/lineitems/1`, memberships: `${base}/memberships` };
}

export function buildLaunchClaims(i: ClaimsInput): Record<string, unknown> {
  const now = Math.floor((i.now ?? Date.now()) / 1000);
  const urls = serviceUrls(i.issuer, i.course);
  const deepLinking = i.messageType === 'LtiDeepLinkingRequest';
  const custom: Record<string, string> = {};
  if (i.user.customRut !== null) custom.rut = i.user.customRut;

  const claims: Record<string, unknown> = {
    iss: i.issuer,
    aud: i.clientId,
    azp: i.clientId,
    sub: i.user.id,
    iat: now,
    exp: now + ID_TOKEN_TTL_SECONDS,
    nonce: i.nonce,
    name: i.user.name,
    given_name: i.user.givenName,
    family_name: i.user.familyName,
    email: i.user.email,
    [CLAIM.messageType]: i.messageType,
    [CLAIM.version]: '1.3.0',
    [CLAIM.deploymentId]: i.deploymentId,
    [CLAIM.targetLinkUri]: deepLinking ? (i.tool.deepLinkUrl ?? i.tool.launchUrl) : i.tool.launchUrl,
    [CLAIM.roles]: rolesOf(i.user),
    [CLAIM.context]: {
      id: i.course.contextId,
      label: i.course.label,
      title: i.course.title,
      type: ['http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering'],
    },
    // Moodle always sends the user's idnumber (may be '') and the course idnumber (here: the label).
    [CLAIM.lis]: { person_sourcedid: i.user.sourcedId, course_section_sourcedid: i.course.label },
    [CLAIM.custom]: custom,
    [CLAIM.toolPlatform]: {
      guid: i.publicHost,
      name: 'Simulador LMS',
      product_family_code: 'asistencia-sence-simulator',
      version: SIMULATOR_VERSION,
    },
    [CLAIM.launchPresentation]: {
      document_target: 'iframe',
      return_url: `${i.issuer}/course?user=${encodeURIComponent(i.user.id)}`,
      locale: 'es',
    },
    [CLAIM.ext]: { user_username: i.user.username ?? i.user.id, lms: 'moodle-2' },
    [CLAIM.ags]: {
      scope: [SCOPE.lineItem, SCOPE.lineItemReadOnly, SCOPE.score, SCOPE.resultReadOnly],
      lineitems: urls.lineItems,
      // A content-selection launch has no activity yet, hence no line item of its own.
      ...(deepLinking ? {} : { lineitem: urls.lineItem1 }),
    },
    [CLAIM.nrps]: { context_memberships_url: urls.memberships, service_versions: ['2.0'] },
  };
  if (deepLinking) {
    claims[CLAIM.deepLinkingSettings] = {
      deep_link_return_url: `${i.issuer}/deep-linking/return`,
      accept_types: ['ltiResourceLink'],
      accept_presentation_document_targets: ['iframe', 'window'],
      accept_multiple: false,
      auto_create: true,
      data: i.deepLinkData ?? '',
    };
  } else {
    claims[CLAIM.resourceLink] = { id: i.course.resourceLinkId, title: 'Asistencia SENCE' };
  }
  return claims;
}
