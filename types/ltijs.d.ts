/**
 * Project-local declarations for what this tool uses of ltijs 5.9.9 (@types/ltijs 4.0.12 describes
 * the v4 API and is stale: REFERENCE §1.1). Every member was checked against the published code in
 * node_modules/ltijs/dist (Provider/Provider.js, Utils/Platform.js, Utils/Database.js,
 * Provider/Services/*.js). `lti.app` is ltijs's own Express 4 app; it is typed with the host's
 * Express 5 types because that is how it is mounted (`app.use('/lti', lti.app)`).
 */
declare module 'ltijs' {
  import type { Application, NextFunction, Request, Response } from 'express';

  // ------------------------------------------------------------------ launch data (res.locals)

  /** `idtoken.userInfo`: only these four OIDC claims are kept (each may be absent). */
  export interface UserInfo {
    given_name?: string;
    family_name?: string;
    name?: string;
    email?: string;
  }

  /** The `…/claim/tool_platform` claim, as sent by the platform. */
  export interface PlatformInfo {
    guid?: string;
    name?: string;
    contact_email?: string;
    description?: string;
    url?: string;
    product_family_code?: string;
    version?: string;
    [claim: string]: unknown;
  }

  export interface DeepLinkingSettings {
    deep_link_return_url: string;
    accept_types: string[];
    accept_presentation_document_targets?: string[];
    accept_media_types?: string;
    accept_multiple?: boolean | 'true' | 'false';
    accept_lineitem?: boolean;
    auto_create?: boolean;
    title?: string;
    text?: string;
    data?: string;
    [setting: string]: unknown;
  }

  /**
   * The `contexttoken` record (res.locals.context, and res.locals.token.platformContext), keyed by
   * (contextId, user). Claims the platform did not send are absent.
   */
  export interface ContextToken {
    /** encodeURIComponent(iss + clientId + deploymentId + contextId + '_' + resourceLinkId + '_' + sha256(extra props)). */
    contextId: string;
    user: string;
    context?: { id: string; label?: string; title?: string; type?: string[] };
    resource?: { id: string; title?: string; description?: string };
    messageType: 'LtiResourceLinkRequest' | 'LtiDeepLinkingRequest';
    version: string;
    deepLinkingSettings?: DeepLinkingSettings;
    lis?: { person_sourcedid?: string; course_section_sourcedid?: string; course_offering_sourcedid?: string; [k: string]: unknown };
    /** req.path of the launch (or of the last `redirect(…, { newResource: true })`). */
    path: string;
    roles: string[];
    /** Required for resource links; deep-linking requests may omit it. */
    targetLinkUri?: string;
    custom?: Record<string, string>;
    launchPresentation?: { document_target?: string; height?: number; width?: number; return_url?: string; locale?: string; [k: string]: unknown };
    /** The AGS claim. */
    endpoint?: { scope?: string[]; lineitems?: string; lineitem?: string };
    /** The NRPS claim. */
    namesRoles?: { context_memberships_url: string; service_versions?: string[] };
    /** ISO date string (JSON round trip of the stored record); absent in ltiaas mode at launch. */
    createdAt?: string;
  }

  /**
   * res.locals.token: the `idtoken` record, keyed by (iss, clientId, deploymentId, user), plus the
   * context record in `platformContext`.
   */
  export interface IdToken {
    iss: string;
    /** The `sub` claim. */
    user: string;
    userInfo: UserInfo;
    platformInfo?: PlatformInfo;
    clientId: string;
    /** The platform's kid (ltijs's platform id). */
    platformId: string;
    deploymentId: string;
    /** ISO date string (JSON round trip of the stored record); absent in ltiaas mode at launch. */
    createdAt?: string;
    platformContext: ContextToken;
  }

  // ------------------------------------------------------------------ platforms

  export type AuthConfigMethod = 'JWK_SET' | 'JWK_KEY' | 'RSA_KEY';

  export interface AuthConfig {
    method: AuthConfigMethod;
    /** JWKS URL (JWK_SET), a JWK as JSON text (JWK_KEY) or a PEM public key (RSA_KEY). */
    key: string;
  }

  export interface PlatformRegistration {
    url: string;
    name: string;
    clientId: string;
    authenticationEndpoint: string;
    accesstokenEndpoint: string;
    /** `aud` of the client assertion; defaults to accesstokenEndpoint. */
    authorizationServer?: string;
    authConfig: AuthConfig;
  }

  export interface AccessToken {
    access_token: string;
    token_type: string;
    expires_in: number;
    scope?: string;
    [k: string]: unknown;
  }

  export interface PlatformJSON {
    id: string;
    url: string;
    clientId: string;
    name: string;
    authenticationEndpoint: string;
    accesstokenEndpoint: string;
    authorizationServer: string;
    authConfig: AuthConfig;
    publicKey: string;
    active: boolean;
  }

  /** Utils/Platform.js. Getters resolve the cached value; passing a value updates it in the store. */
  export interface Platform {
    platformUrl(): Promise<string>;
    platformClientId(): Promise<string>;
    platformName(name?: string): Promise<string>;
    /** Same as platformKid(). */
    platformId(): Promise<string>;
    platformKid(): Promise<string>;
    /** A platform without a platformStatus record counts as active. */
    platformActive(active?: boolean): Promise<boolean>;
    platformPublicKey(): Promise<string>;
    platformPrivateKey(): Promise<string>;
    platformAuthConfig(method?: AuthConfigMethod, key?: string): Promise<AuthConfig>;
    platformAuthenticationEndpoint(authenticationEndpoint?: string): Promise<string>;
    /** @deprecated alias of platformAuthenticationEndpoint(). */
    platformAuthEndpoint(authenticationEndpoint?: string): Promise<string>;
    platformAccessTokenEndpoint(accesstokenEndpoint?: string): Promise<string>;
    platformAuthorizationServer(authorizationServer?: string): Promise<string>;
    /** Cached per (platform, clientId, scopes) until `expires_in` elapses, else requested anew. */
    platformAccessToken(scopes: string): Promise<AccessToken>;
    platformJSON(): Promise<PlatformJSON>;
    delete(): Promise<true>;
    /** @deprecated use delete(). */
    remove(): Promise<true>;
  }

  // ------------------------------------------------------------------ services

  export interface LineItem {
    id?: string;
    scoreMaximum: number;
    label: string;
    resourceId?: string;
    resourceLinkId?: string;
    tag?: string;
    startDateTime?: string;
    endDateTime?: string;
    gradesReleased?: boolean;
    [k: string]: unknown;
  }

  export interface Score {
    userId?: string;
    scoreGiven?: number;
    scoreMaximum?: number;
    comment?: string;
    activityProgress: 'Initialized' | 'Started' | 'InProgress' | 'Submitted' | 'Completed';
    gradingProgress: 'FullyGraded' | 'Pending' | 'PendingManual' | 'Failed' | 'NotReady';
    /** Set by ltijs to now. */
    timestamp?: string;
    [k: string]: unknown;
  }

  export interface GradeResult {
    id?: string;
    scoreOf?: string;
    userId: string;
    resultScore?: number;
    resultMaximum?: number;
    comment?: string;
    [k: string]: unknown;
  }

  export interface PageLinks {
    next?: string;
    prev?: string;
    first?: string;
    last?: string;
  }

  export interface LineItemFilter {
    resourceLinkId?: boolean;
    resourceId?: string;
    tag?: string;
    limit?: number;
    id?: string;
    label?: string;
    /** Fetch this page URL instead (a `next` link of a previous call). */
    url?: string;
  }

  export interface GradeService {
    getLineItems(idtoken: IdToken, options?: LineItemFilter, accessToken?: AccessToken): Promise<PageLinks & { lineItems: LineItem[] }>;
    createLineItem(idtoken: IdToken, lineItem: LineItem, options?: { resourceLinkId?: boolean }, accessToken?: AccessToken): Promise<LineItem>;
    getLineItemById(idtoken: IdToken, lineItemId: string, accessToken?: AccessToken): Promise<LineItem>;
    updateLineItemById(idtoken: IdToken, lineItemId: string, lineItem: Partial<LineItem>): Promise<LineItem>;
    deleteLineItemById(idtoken: IdToken, lineItemId: string): Promise<true>;
    /** POSTs to `<lineItemId>/scores`; userId defaults to idtoken.user; returns the score sent. */
    submitScore(idtoken: IdToken, lineItemId: string, score: Score): Promise<Score>;
    getScores(idtoken: IdToken, lineItemId: string, options?: { userId?: string; limit?: number; url?: string }): Promise<PageLinks & { scores: GradeResult[] }>;
  }

  export interface Member {
    user_id: string;
    status?: 'Active' | 'Inactive' | 'Deleted';
    roles: string[];
    name?: string;
    given_name?: string;
    family_name?: string;
    email?: string;
    lis_person_sourcedid?: string;
    [k: string]: unknown;
  }

  export interface MembershipContainer {
    id: string;
    context: { id: string; label?: string; title?: string };
    members: Member[];
    /** Present when `pages` stopped the walk before the last page. */
    next?: string;
    differences?: string;
  }

  export interface NamesAndRolesService {
    getMembers(
      idtoken: IdToken,
      options?: { role?: string; limit?: number; pages?: number | false; url?: string; resourceLinkId?: boolean },
    ): Promise<MembershipContainer>;
  }

  export interface ContentItem {
    type: string;
    title?: string;
    text?: string;
    url?: string;
    custom?: Record<string, string>;
    [k: string]: unknown;
  }

  export interface DeepLinkingOptions {
    message?: string;
    errMessage?: string;
    log?: string;
    errLog?: string;
  }

  export interface DeepLinkingService {
    /** An auto-submitting HTML form that posts the signed response to deep_link_return_url. */
    createDeepLinkingForm(idtoken: IdToken, contentItems: ContentItem | ContentItem[], options?: DeepLinkingOptions): Promise<string>;
    /** The signed LtiDeepLinkingResponse JWT. */
    createDeepLinkingMessage(idtoken: IdToken, contentItems: ContentItem | ContentItem[], options?: DeepLinkingOptions): Promise<string>;
  }

  export interface DynamicRegistrationService {
    /** Returns the HTML that closes the registration window (postMessage org.imsglobal.lti.close). */
    register(openidConfiguration: string, registrationToken?: string, options?: Record<string, unknown>): Promise<string>;
  }

  // ------------------------------------------------------------------ storage

  /** What ltijs calls on its store (built-in mongoose store, or `database.plugin`). */
  export interface DatabasePlugin {
    setup(): Promise<unknown>;
    Close(): Promise<unknown>;
    Get(ENCRYPTIONKEY: string | false, collection: string, query?: object): Promise<Array<Record<string, unknown>> | false>;
    Insert(ENCRYPTIONKEY: string | false, collection: string, item: object, index?: object): Promise<unknown>;
    Replace(ENCRYPTIONKEY: string | false, collection: string, query: object, item: object, index?: object): Promise<unknown>;
    Modify(ENCRYPTIONKEY: string | false, collection: string, query: object, modification: object): Promise<unknown>;
    Delete(collection: string, query: object): Promise<unknown>;
    Encrypt?(data: string, secret: string): Promise<{ iv: string; data: string }>;
    Decrypt?(data: string, iv: string, secret: string): Promise<string>;
  }

  export interface DatabaseConfig {
    /** MongoDB URL for the built-in store. */
    url?: string;
    /** Extra mongoose connection options (user, pass, …). */
    connection?: Record<string, unknown>;
    /** A store plugin; replaces the built-in store. */
    plugin?: DatabasePlugin;
    /** mongoose debug mode. */
    debug?: boolean;
  }

  // ------------------------------------------------------------------ provider

  export interface DynRegOptions {
    url: string;
    name: string;
    logo?: string;
    description?: string;
    redirectUris?: string[];
    customParameters?: Record<string, string>;
    /** Default false: dynamically registered platforms start inactive. */
    autoActivate?: boolean;
    /** Default true. */
    useDeepLinking?: boolean;
  }

  export interface ProviderOptions {
    /** Default '/'. */
    appRoute?: string;
    /** Default '/login'. */
    loginRoute?: string;
    /** Default '/keys'. */
    keysetRoute?: string;
    /** Default '/register'. */
    dynRegRoute?: string;
    /** @deprecated use appRoute. */
    appUrl?: string;
    /** @deprecated use loginRoute. */
    loginUrl?: string;
    /** @deprecated use keysetRoute. */
    keysetUrl?: string;
    /** Standalone mode only. */
    https?: boolean;
    ssl?: { key: string; cert: string };
    staticPath?: string;
    /** Default true: reflects any Origin with credentials. */
    cors?: boolean;
    /** Runs with ltijs's internal Express app, before the session validator. */
    serverAddon?: (app: Application) => void;
    /** Base cookie options are { secure: false, httpOnly: true, signed: true }; sameSite only if given. */
    cookies?: { secure?: boolean; sameSite?: string; domain?: string };
    /** Missing state/session cookies are tolerated. Never in production. */
    devMode?: boolean;
    /** No session cookie; the launch POST reaches the app handler directly. */
    ltiaas?: boolean;
    /** Maximum id_token age in seconds from `iat` (default 10); false disables the check. */
    tokenMaxAge?: number | false;
    dynReg?: DynRegOptions;
  }

  export type LaunchCallback = (token: IdToken, req: Request, res: Response, next: NextFunction) => unknown;
  export type LtiErrorCallback = (req: Request, res: Response, next: NextFunction) => unknown;
  export type LoginErrorCallback = (req: Request, res: Response) => unknown;

  export type WhitelistEntry = string | RegExp | { route: string | RegExp; method: string };

  export interface LtiProvider {
    /** Throws PROVIDER_ALREADY_SETUP on a second call (the provider is a per-module singleton). */
    setup(encryptionKey: string, database: DatabaseConfig, options?: ProviderOptions): LtiProvider;
    /** Connects the store; with `serverless` starts no listener. On a store error it calls process.exit(). */
    deploy(options?: { serverless?: boolean; silent?: boolean; port?: number }): Promise<true>;
    close(options?: { silent?: boolean }): Promise<true>;

    /** ltijs's Express app; exists only after setup(). */
    app: Application;
    /** The store in use (the plugin passed to setup, or the built-in mongoose store). */
    Database: DatabasePlugin;
    Grade: GradeService;
    DeepLinking: DeepLinkingService;
    NamesAndRoles: NamesAndRolesService;
    /** Only when setup() received `dynReg`. */
    DynamicRegistration?: DynamicRegistrationService;

    onConnect(callback: LaunchCallback, options?: { sameSite?: string; secure?: boolean; sessionTimeout?: LtiErrorCallback; invalidToken?: LtiErrorCallback }): true;
    onDeepLinking(callback: LaunchCallback): true;
    onDynamicRegistration(callback: LtiErrorCallback): true;
    /** Valid ltik but missing/mismatched session cookie. Details in res.locals.err. */
    onSessionTimeout(callback: LtiErrorCallback): true;
    /** Invalid ltik or id_token. Details in res.locals.err ({ status, error, details: { message } }). */
    onInvalidToken(callback: LtiErrorCallback): true;
    onUnregisteredPlatform(callback: LoginErrorCallback): true;
    onInactivePlatform(callback: LoginErrorCallback): true;

    appRoute(): string;
    loginRoute(): string;
    keysetRoute(): string;
    dynRegRoute(): string;
    /** Paths reachable without a valid ltik (then without res.locals.token). */
    whitelist(...routes: WhitelistEntry[]): Array<{ route: string | RegExp; method: string }>;

    /** Creates the platform (and its 4096-bit tool key pair), or updates an existing one. */
    registerPlatform(platform: PlatformRegistration): Promise<Platform>;
    getPlatform(url: string, clientId: string): Promise<Platform | false>;
    getPlatform(url: string): Promise<Platform[] | false>;
    getPlatformById(platformId: string): Promise<Platform | false>;
    updatePlatformById(platformId: string, platformInfo: Partial<PlatformRegistration>): Promise<Platform | false>;
    deletePlatform(url: string, clientId: string): Promise<true>;
    deletePlatformById(platformId: string): Promise<true>;
    getAllPlatforms(): Promise<Platform[]>;

    /** Redirects keeping the ltik; `newResource` rewrites the context token's path. */
    redirect(res: Response, path: string, options?: { newResource?: boolean; isNewResource?: boolean; query?: Record<string, string> }): Promise<void>;
  }

  /** `require('ltijs').Provider`: the singleton. */
  export const Provider: LtiProvider;
}
