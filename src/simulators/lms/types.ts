/**
 * Public types of the LMS simulator: a small, real LTI 1.3 platform (think "a tiny Moodle 4.5")
 * that runs beside the tool in demo mode and in tests. Nothing here imports the tool or ltijs.
 */

export interface SimUser {
  id: string;
  name: string;
  givenName: string;
  familyName: string;
  email: string;
  role: 'learner' | 'instructor';
  /**
   * Value sent as custom parameter `rut` (may be '$User.username' to mimic an unconfigured LMS,
   * or null to omit it).
   */
  customRut: string | null;
  /** lis.person_sourcedid (Moodle idnumber), may be ''. */
  sourcedId: string;
  /**
   * The Moodle username, sent as `ext_user_username` (launch `…/claim/ext` and Names and Roles
   * members) where names are shared; default: the user's id.
   */
  username?: string;
}

export interface SimCourse {
  contextId: string;
  label: string;
  title: string;
  resourceLinkId: string;
}

export interface ToolUrls {
  /** OIDC third-party initiated login URL, e.g. http://localhost:3000/lti/login */
  loginUrl: string;
  /** Launch (redirect) URL, e.g. http://localhost:3000/lti */
  launchUrl: string;
  /** The tool's JWKS, e.g. http://localhost:3000/lti/keys */
  jwksUrl: string;
  /** Deep-linking (content selection) URL; defaults to launchUrl. */
  deepLinkUrl?: string;
}

export interface LmsSimulatorOptions {
  /** 0 = any free port. */
  port: number;
  /** Interface to listen on, default '127.0.0.1'. */
  host?: string;
  /** Host name used in the URLs it prints and issues, default 'localhost'. */
  publicHost?: string;
  /**
   * Public base URL (issuer) browsers use, e.g. http://127.0.0.1:3001 — another site than a tool on
   * http://localhost:3000, as a real LMS is. Default http://<publicHost>:<port>.
   */
  publicUrl?: string;
  tool: ToolUrls;
  /** Default 'asistencia-sence-demo'. */
  clientId?: string;
  /** Default '1' (Moodle uses the tool type id). */
  deploymentId?: string;
  /** Default: DEMO_USERS. */
  users?: SimUser[];
  /** Default: DEMO_COURSE. */
  course?: SimCourse;
  /** RSA modulus length of the simulator's keys, default 2048. */
  keyBits?: number;
}

export type LtiMessageType = 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest';

/**
 * LTI Platform Storage in a launch: 'off' (Moodle 4.5: no lti_storage_target), 'on' (Canvas: the
 * course page answers lti.put_data / lti.get_data), 'broken' (the parameter is sent but nothing
 * answers, as when a browser blocks the storage: the tool must offer a new window).
 */
export type PlatformStorageMode = 'off' | 'on' | 'broken';

/** Where the LMS opens the tool: in the course page's iframe, or in a new window (top-level). */
export type LaunchContainer = 'iframe' | 'window';

export interface RecordedScore {
  lineItemId: string;
  userId: string;
  scoreGiven?: number;
  scoreMaximum?: number;
  activityProgress?: string;
  gradingProgress?: string;
  timestamp?: string;
  comment?: string;
}

export interface RecordedDeepLinkResponse {
  items: unknown[];
  receivedAt: Date;
}

export interface IdTokenTamper {
  /** Rewrites the claims of the next id_token (receives a copy). */
  claims?: (c: Record<string, unknown>) => Record<string, unknown>;
  /** Signs the next id_token with a key that is not in the simulator's JWKS. */
  signWithForeignKey?: boolean;
  /** Merged into the JWS header as is (e.g. { kid: 'unknown' } or { alg: 'HS256' }); the signature stays RS256. */
  header?: Record<string, unknown>;
}

export interface RegisteredPlatform {
  url: string;
  name: string;
  clientId: string;
  authenticationEndpoint: string;
  accesstokenEndpoint: string;
  authConfig: { method: 'JWK_SET'; key: string };
}

/**
 * Test and demo knobs of the Names and Roles (NRPS) endpoint, changed at run time: an LMS whose
 * roster service fails, is slow, or pages its answer even when the tool asks for no limit.
 */
export interface NrpsBehaviour {
  /** Answer every membership request with this HTTP status (e.g. 401, 500); null = answer normally. */
  failWith: number | null;
  /** Wait this long before answering each membership page (ms). */
  delayMs: number;
  /** Largest page the LMS serves, whatever `limit` the tool asks (LMSs cap it); null = no cap. */
  pageSize: number | null;
  /** Membership requests received (each page counts). */
  requests: number;
  /**
   * Synthetic learners served after the course's users (issue #19: a huge roster), generated page by
   * page: `user_id` `sint-000001`…, name `Estudiante Sintético 000001`…; 0 (or absent) = none.
   */
  extraLearners?: number;
  /** Serve every member on one page whatever `limit` asks (an LMS that ignores it). */
  ignoreLimit?: boolean;
  /**
   * Moodle's "Share launcher's name with tool" for Names and Roles (default true): false leaves out
   * name, given_name, family_name and ext_user_username, as Moodle's memberships service does.
   */
  shareNames?: boolean;
}

export interface LmsSimulator {
  /** e.g. http://localhost:3001 */
  url: string;
  /** = url */
  issuer: string;
  clientId: string;
  deploymentId: string;
  /** What the tool needs to register this platform (ltijs registerPlatform shape). */
  platform: RegisteredPlatform;
  users: SimUser[];
  course: SimCourse;
  /** NRPS knobs (failures, slowness, paging) and a request counter. */
  nrps: NrpsBehaviour;
  /** Scores received through AGS, in order. */
  scores: RecordedScore[];
  /** Deep-linking responses received (decoded, verified content items). */
  deepLinkResponses: RecordedDeepLinkResponse[];
  /** Tool registrations received through dynamic registration (issue #7), in order. */
  toolRegistrations: Array<{ request: Record<string, unknown>; clientId: string; receivedAt: Date }>;
  /**
   * What Moodle does on "Añadir LTI Advantage" with the tool URL the admin pasted: issues a one-time
   * registration_token and returns the URL to open (the tool URL with openid_configuration and
   * registration_token appended to its own query).
   */
  startDynamicRegistration(toolUrl: string): string;
  /** Test knob: mutate the claims and/or key of the NEXT id_token the authorization endpoint issues. */
  tamperNextIdToken(t: IdTokenTamper): void;
  /** Signs arbitrary claims with the simulator's key (kid in header), for tests that forge launches. */
  signIdToken(claims: Record<string, unknown>, opts?: { foreignKey?: boolean; kid?: string }): string;
  /** Builds the id_token claims the authorization endpoint would issue for a user (nonce given). */
  launchClaims(userId: string, nonce: string, opts?: { messageType?: LtiMessageType }): Record<string, unknown>;
  /**
   * Extra (not in the original brief): the fields of the third-party initiated login the course page
   * posts to tool.loginUrl for this user (iss, login_hint, target_link_uri, client_id,
   * lti_message_hint, lti_deployment_id), for tests that drive the tool with supertest.
   */
  loginInitiation(userId: string, opts?: { messageType?: LtiMessageType; platformStorage?: PlatformStorageMode }): Record<string, string>;
  /**
   * Extra: GETs an authorization URL (the Location the tool's login answered with) over HTTP and
   * parses the auto-posting form. On success `action` is the redirect_uri and `fields` holds
   * id_token and state; on a 400, `html` names the problem and `action` is null.
   */
  authorize(authUrl: string): Promise<{ status: number; html: string; action: string | null; fields: Record<string, string> }>;
  close(): Promise<void>;
}
