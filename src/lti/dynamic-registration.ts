/**
 * LTI Dynamic Registration ("Añadir LTI Advantage" in Moodle), behind a one-time invitation
 * (issue #7 finding 5, issue #19 §2 and §3).
 *
 * An invitation registers ONE new platform and is then spent for every purpose but Moodle's "Update"
 * of the platform it created:
 * - refused before any outbound request: no/unknown/malformed invitation, an expired one (its
 *   `expiresAt` bounds the update too), one spent by 3 failed attempts, one in use, a used one whose
 *   configuration URL is not on its platform's origin, or whose platform the operator deactivated or
 *   removed;
 * - the configuration must be served by its issuer (OpenID Connect Discovery): the issuer's origin is
 *   the origin it was fetched from and the configuration URL lies under the issuer's path (a Moodle
 *   in a subdirectory has wwwroot https://host/moodle, its configuration at
 *   https://host/moodle/mod/lti/openid-configuration.php); the registration is POSTed only to a
 *   registration_endpoint on that same origin;
 * - a fresh invitation only creates: an issuer + client_id already registered is refused; an update
 *   changes only the platform the invitation created (same issuer, same client_id), never
 *   re-activating it;
 * - outbound requests go through safe-fetch.ts (timeout, size cap, no redirects, no private address
 *   in production unless REGISTRATION_ALLOW_PRIVATE=true); what the remote side said is never shown,
 *   only a status; every use is charged an attempt, given back on success (3 failed attempts spend
 *   the invitation); a failed attempt is answered no sooner than the outbound timeout after it began,
 *   so a closed port, a silent one and a refused address look and take alike.
 *
 * On success the platform is stored (a new one ACTIVE at once: the invitation is the operator's
 * consent) and the page says what the administrator does next with the real issuer and client_id; it
 * may be framed by the new platform (its CSP is recomputed after the registration).
 */
import path from 'node:path';
import ejs from 'ejs';
import type { Request, Response } from 'express';
import type { Provider as LtiProvider } from 'ltijs';
type Provider = typeof LtiProvider;
import type { Config } from '../config';
import { AppError } from '../errors';
import type { AuditLog, RegistrationInviteStore } from '../store/ports';
import type { RegistrationInvite } from '../domain/types';
import { hashInviteCode, INVITE_CODE_PATTERN } from '../application/registration-invites';
import { toolUrls } from './tool-urls';
import { fetchJson, OUTBOUND_TIMEOUT_MS, OutboundError } from './safe-fetch';
import { addFrameAncestors, originOf } from '../web/security-headers';
import { viewsDir } from '../paths';

/** Failed attempts that spend an invitation (issue #19 §3). */
export const MAX_FAILED_ATTEMPTS = 3;

export interface RegistrationStores {
  invites: RegistrationInviteStore;
  audit: AuditLog;
  /** The clock of invitation expiry (tests move it). */
  now?: () => Date;
  /** Outbound timeout in ms (default OUTBOUND_TIMEOUT_MS); a failed attempt is answered no sooner. */
  outboundTimeoutMs?: number;
}

export interface DynamicRegistrationDeps {
  config: Readonly<Config>;
  provider: Provider;
  /** Null in the CLI: registration over HTTP is then refused. */
  stores: RegistrationStores | null;
  renderError(req: Request, res: Response, error: unknown): void;
  refreshPlatformOrigins(): Promise<void>;
  now?: () => Date;
}

/** The staff hint for an activity that still carries an LTI 1.1 consumer key (Moodle sends it as `aud`/client_id). */
export const LEGACY_CONSUMER_KEY_HINT =
  'Esta actividad de Moodle tiene una «clave de consumidor» LTI 1.1 (resourcekey) y Moodle la envía como client_id (aud) en lugar del client_id de la herramienta. En Moodle 4.5 ese campo está oculto, así que no se puede borrar: elimine la actividad y vuelva a crearla (Agregar actividad → Asistencia SENCE).';

const SCOPES = [
  'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem.readonly',
  'https://purl.imsglobal.org/spec/lti-ags/scope/lineitem',
  'https://purl.imsglobal.org/spec/lti-ags/scope/score',
  'https://purl.imsglobal.org/spec/lti-ags/scope/result.readonly',
  'https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly',
].join(' ');

const INVITE_HINT = 'El operador de Asistencia SENCE crea una invitación de un solo uso con «npm run cli -- platform invite --name "Moodle de mi OTEC"» y le entrega la dirección que imprime (…/lti/register?invite=…): péguela completa en «URL de la herramienta» y pulse «Añadir LTI Advantage». Una invitación registra una sola plataforma y después sirve solo para «Actualizar» esa plataforma mientras no venza.';

function text(value: unknown): string | null {
  return typeof value === 'string' && value !== '' ? value : null;
}

function httpUrl(value: unknown, production: boolean): string | null {
  const s = text(value);
  if (!s || s.length > 2048) return null;
  try {
    const u = new URL(s);
    if (u.protocol === 'https:' || (!production && u.protocol === 'http:')) return s;
  } catch {
    /* not a URL */
  }
  return null;
}

/** A registration that went wrong after the invitation was charged: status and Spanish sentence. */
class RegistrationFailure extends Error {
  constructor(
    readonly status: 409 | 424,
    readonly sentence: string,
    readonly logDetail: string | null = null,
  ) {
    super(sentence);
    this.name = 'RegistrationFailure';
  }
}

interface PlatformConfiguration {
  issuer: string;
  authorizationEndpoint: string;
  tokenEndpoint: string;
  jwksUri: string;
  registrationEndpoint: string;
  authorizationServer: string | null;
  claims: string[];
  product: string | null;
}

function readConfiguration(c: Record<string, unknown>, production: boolean): PlatformConfiguration {
  const issuer = httpUrl(c.issuer, production);
  const authorizationEndpoint = httpUrl(c.authorization_endpoint, production);
  const tokenEndpoint = httpUrl(c.token_endpoint, production);
  const jwksUri = httpUrl(c.jwks_uri, production);
  const registrationEndpoint = httpUrl(c.registration_endpoint, production);
  if (!issuer || !authorizationEndpoint || !tokenEndpoint || !jwksUri || !registrationEndpoint) {
    throw new RegistrationFailure(424, `La configuración OpenID no trae issuer, authorization_endpoint, token_endpoint, jwks_uri y registration_endpoint válidos (${production ? 'https' : 'http o https'}).`);
  }
  const platformConf = c['https://purl.imsglobal.org/spec/lti-platform-configuration'] as { product_family_code?: unknown } | undefined;
  return {
    issuer: issuer.replace(/\/+$/, ''),
    authorizationEndpoint,
    tokenEndpoint,
    jwksUri,
    registrationEndpoint,
    authorizationServer: httpUrl(c.authorization_server, production),
    claims: Array.isArray(c.claims_supported) ? c.claims_supported.filter((x): x is string => typeof x === 'string').slice(0, 50) : [],
    product: text(platformConf?.product_family_code)?.slice(0, 40) ?? null,
  };
}

const STEP_NAMES = {
  configuration: 'la configuración OpenID (openid_configuration)',
  registration: 'el registration_endpoint',
} as const;

function capitalised(sentence: string): string {
  return sentence.charAt(0).toUpperCase() + sentence.slice(1);
}

/** What an outbound failure tells the caller: the step and a kind or a status, never the remote body. */
function outboundSentence(step: keyof typeof STEP_NAMES, err: OutboundError, timeoutMs: number): string {
  const name = STEP_NAMES[step];
  switch (err.kind) {
    case 'unreachable':
      return `No se pudo conectar con ${name} o no respondió a tiempo (espera máxima: ${timeoutMs / 1000} s).`;
    case 'status':
      return capitalised(`${name} respondió ${err.status}.`);
    case 'redirect':
      return capitalised(`${name} respondió con una redirección (${err.status}), que no se sigue.`);
    default:
      return capitalised(`${name} ${err.message}.`);
  }
}

async function outbound<T>(step: keyof typeof STEP_NAMES, timeoutMs: number, run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof OutboundError) throw new RegistrationFailure(424, outboundSentence(step, err, timeoutMs), `${step}: ${err.kind} ${err.status ?? ''} ${err.logDetail ?? ''}`.trim());
    throw err;
  }
}

/**
 * OpenID Connect Discovery: the configuration is its issuer's. The issuer is an http(s) URL with no
 * query or fragment, on the origin the configuration was fetched from, and the configuration URL lies
 * under the issuer's path (Moodle: `<wwwroot>/mod/lti/openid-configuration.php`).
 */
function servedByIssuer(configurationUrl: string, issuer: string): boolean {
  try {
    const conf = new URL(configurationUrl);
    const iss = new URL(issuer);
    if (iss.origin !== conf.origin || iss.search || iss.hash || iss.username || iss.password) return false;
    const base = iss.pathname.endsWith('/') ? iss.pathname : `${iss.pathname}/`;
    return conf.pathname.startsWith(base);
  } catch {
    return false;
  }
}

function remainingSentence(invite: RegistrationInvite): string {
  const left = MAX_FAILED_ATTEMPTS - invite.failedAttempts;
  if (left <= 0) return `La invitación se agotó (${MAX_FAILED_ATTEMPTS} intentos fallidos): pida una nueva al operador de Asistencia SENCE.`;
  return left === 1 ? 'Le queda 1 intento con esta invitación.' : `Le quedan ${left} intentos con esta invitación.`;
}

export function dynamicRegistrationHandler(deps: DynamicRegistrationDeps) {
  const { config, provider } = deps;
  const production = config.nodeEnv === 'production';
  const now = deps.stores?.now ?? deps.now ?? (() => new Date());
  const timeoutMs = deps.stores?.outboundTimeoutMs ?? OUTBOUND_TIMEOUT_MS;
  const allowPrivate = config.registrationAllowPrivate;
  const urls = toolUrls(config.publicUrl);

  const audit = async (req: Request, event: 'registration-refused' | 'registration-completed', accepted: boolean, reason: string, details: Record<string, unknown>) => {
    await deps.stores?.audit
      .record({ id: cryptoId(), at: now(), event, accepted, reason, sourceIp: req.ip ?? null, learner: null, course: null, sessionId: null, details })
      .catch(() => undefined);
  };
  const refusedInvite = (sentence: string) =>
    new AppError('registration-invite-required', 403, sentence, { staffHint: INVITE_HINT });

  return async (req: Request, res: Response): Promise<void> => {
    const query = req.query as Record<string, unknown>;
    const code = text(query.invite);
    const openid = text(query.openid_configuration);
    const registrationToken = text(query.registration_token);
    const refuse = async (reason: string, error: AppError) => {
      await audit(req, 'registration-refused', false, reason, { openidConfiguration: openid?.slice(0, 200) ?? null });
      deps.renderError(req, res, error);
    };

    // 1. The invitation and what it may do, before anything leaves the server.
    if (!deps.stores || !code || !INVITE_CODE_PATTERN.test(code)) {
      await refuse(code ? 'malformed invitation' : 'no invitation', refusedInvite('Para registrar Asistencia SENCE en su plataforma necesita una invitación del operador de Asistencia SENCE. Esta dirección no trae una invitación válida.'));
      return;
    }
    const configurationUrl = httpUrl(openid, production);
    if (!configurationUrl) {
      await refuse('no openid_configuration', new AppError('lti-registration-failed', 400, 'Falta la configuración OpenID de la plataforma: abra esta dirección desde el botón «Añadir LTI Advantage» (Moodle) o el registro dinámico de su plataforma.', { staffHint: INVITE_HINT }));
      return;
    }
    const { invites } = deps.stores;
    const codeHash = hashInviteCode(code);
    const at = now();
    const existing = await invites.get(codeHash);
    if (!existing) return refuse('unknown invitation', refusedInvite('La invitación no es válida. Pida una nueva al operador de Asistencia SENCE.'));
    if (existing.expiresAt.getTime() <= at.getTime()) return refuse('expired invitation', refusedInvite('La invitación venció. Pida una nueva al operador de Asistencia SENCE.'));
    if (existing.failedAttempts >= MAX_FAILED_ATTEMPTS) {
      return refuse('invitation spent by failed attempts', refusedInvite(`La invitación se agotó después de ${MAX_FAILED_ATTEMPTS} intentos fallidos. Pida una nueva al operador de Asistencia SENCE.`));
    }
    const updating = existing.platform;
    let invite: RegistrationInvite | null;
    if (updating) {
      // Moodle's "Update" of the platform this invitation created: from that platform, still there, still active.
      if (!servedByIssuer(configurationUrl, updating.issuer)) {
        return refuse('used invitation, another platform', refusedInvite('Esta invitación ya se usó para registrar otra plataforma. Pida una nueva al operador de Asistencia SENCE.'));
      }
      const platform = await provider.getPlatform(updating.issuer, updating.clientId);
      if (!platform || Array.isArray(platform)) {
        return refuse('used invitation, platform removed', refusedInvite(`La plataforma que registró esta invitación (${updating.issuer}, client_id ${updating.clientId}) fue eliminada por el operador de Asistencia SENCE: esta invitación ya no sirve. Pida una nueva al operador.`));
      }
      if (!(await platform.platformActive())) {
        return refuse('used invitation, platform deactivated', refusedInvite(`La plataforma que registró esta invitación (${updating.issuer}, client_id ${updating.clientId}) fue desactivada por el operador de Asistencia SENCE: no se puede actualizar por el registro dinámico. Pida al operador que la reactive o que le entregue una invitación nueva.`));
      }
      invite = await invites.claimUpdate(codeHash, at, MAX_FAILED_ATTEMPTS);
    } else {
      invite = await invites.consume(codeHash, at, MAX_FAILED_ATTEMPTS);
    }
    if (!invite) return refuse('invitation in use', refusedInvite('La invitación ya se está usando. Pida una nueva al operador de Asistencia SENCE.'));

    const started = Date.now();
    try {
      // 2. One bounded GET of the configuration, served by its issuer.
      const conf = readConfiguration(await outbound('configuration', timeoutMs, () => fetchJson(configurationUrl, { timeoutMs, allowPrivate })), production);
      if (!servedByIssuer(configurationUrl, conf.issuer)) {
        throw new RegistrationFailure(424, `El issuer de la configuración OpenID (${conf.issuer}) no corresponde a la dirección desde la que se leyó (${new URL(configurationUrl).origin}): ábrala desde «Añadir LTI Advantage» de la misma plataforma.`);
      }
      if (originOf(conf.registrationEndpoint) !== new URL(configurationUrl).origin) {
        throw new RegistrationFailure(424, `El registration_endpoint (${conf.registrationEndpoint}) no está en la misma dirección que la configuración OpenID (${new URL(configurationUrl).origin}).`);
      }
      if (updating && conf.issuer !== updating.issuer) {
        throw new RegistrationFailure(409, `Esta invitación registró la plataforma ${updating.issuer}, no ${conf.issuer}: solo sirve para actualizar esa plataforma.`);
      }

      // 3. One POST of our registration to that endpoint.
      const messages = [{ type: 'LtiResourceLinkRequest' }, { type: 'LtiDeepLinkingRequest' }];
      const response = await outbound('registration', timeoutMs, () => fetchJson(conf.registrationEndpoint, {
        method: 'POST',
        timeoutMs,
        allowPrivate,
        headers: registrationToken ? { authorization: `Bearer ${registrationToken}` } : {},
        body: {
          application_type: 'web',
          response_types: ['id_token'],
          grant_types: ['implicit', 'client_credentials'],
          initiate_login_uri: urls.login,
          redirect_uris: [urls.launch],
          client_name: 'Asistencia SENCE',
          jwks_uri: urls.keys,
          token_endpoint_auth_method: 'private_key_jwt',
          scope: SCOPES,
          'https://purl.imsglobal.org/spec/lti-tool-configuration': {
            domain: new URL(config.publicUrl).host,
            description: 'Registro de asistencia SENCE (RCE) para cursos e-learning',
            target_link_uri: urls.launch,
            custom_parameters: { rut: '$User.username' },
            claims: conf.claims,
            messages,
          },
        },
      }));
      const clientId = text(response.client_id);
      if (!clientId || clientId.length > 256) throw new RegistrationFailure(424, 'El registration_endpoint no devolvió un client_id.');

      // 4. Create a new platform, or update the one this invitation created — nothing else.
      if (updating && clientId !== updating.clientId) {
        throw new RegistrationFailure(409, `Esta invitación ya registró la plataforma ${updating.issuer} (client_id ${updating.clientId}) y no sirve para registrar otra herramienta («Registrar como nueva herramienta externa» dio el client_id ${clientId}). Elimine en Moodle la herramienta recién creada; para registrar otra, pida una invitación nueva al operador de Asistencia SENCE.`);
      }
      if (!updating) {
        const before = await provider.getPlatform(conf.issuer, clientId);
        if (before && !Array.isArray(before)) {
          throw new RegistrationFailure(409, `Esta plataforma ya está registrada en Asistencia SENCE (${conf.issuer}, client_id ${clientId}): una invitación nueva solo registra una plataforma nueva. Para actualizarla use «Actualizar» en Moodle, que vuelve con la invitación con que se registró; si la registró de nuevo por error, elimine en Moodle la herramienta recién creada.`);
        }
      }
      const platform = await provider.registerPlatform({
        url: conf.issuer,
        clientId,
        name: invite.name ?? `${conf.product ?? 'Plataforma'} (${new URL(conf.issuer).host})`,
        authenticationEndpoint: conf.authorizationEndpoint,
        accesstokenEndpoint: conf.tokenEndpoint,
        ...(conf.authorizationServer ? { authorizationServer: conf.authorizationServer } : {}),
        authConfig: { method: 'JWK_SET', key: conf.jwksUri },
      } as Parameters<Provider['registerPlatform']>[0]);
      // A new platform is active at once (the invitation is the consent); an update leaves its state alone.
      if (!updating) await platform.platformActive(true);
      await invites.setPlatform(codeHash, { issuer: conf.issuer, clientId });
      await deps.refreshPlatformOrigins();
      await audit(req, 'registration-completed', true, `${updating ? 'updated' : 'registered'} ${conf.issuer} client_id ${clientId}`, { issuer: conf.issuer, clientId, invite: invite.name });

      // 5. The page is framed by the platform that did not exist when this request's CSP was set.
      addFrameAncestors(res, [originOf(conf.issuer), originOf(conf.authorizationEndpoint)]);
      const html = await ejs.renderFile(path.join(viewsDir, 'dynreg-done.ejs'), {
        title: updating ? 'Registro actualizado' : 'Registro completado',
        issuer: conf.issuer,
        clientId,
        updated: Boolean(updating),
        setupUrl: `${config.publicUrl}/setup`,
      }, { root: viewsDir });
      res.type('html').set('Cache-Control', 'no-store').send(html);
    } catch (err) {
      // The attempt stays charged; a first registration's invitation is free again unless spent.
      if (!updating) await invites.release(codeHash, MAX_FAILED_ATTEMPTS).catch(() => undefined);
      // Answered no sooner than the outbound timeout after the attempt began: a closed port, a silent
      // one, an unknown name and a refused address take as long as each other (docs/security.md).
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, started + timeoutMs - Date.now())));
      const failure = err instanceof RegistrationFailure ? err : null;
      const sentence = failure ? failure.sentence : 'Ocurrió un error inesperado al guardar el registro.';
      const message = `${failure?.status === 409 ? '' : 'No se pudo completar el registro dinámico con la plataforma. '}${sentence} ${remainingSentence(invite)}`;
      const error = new AppError('lti-registration-failed', failure?.status ?? 424, message, {
        staffHint: 'Si el registro dinámico no funciona con su plataforma, use la configuración manual (página /setup de Asistencia SENCE) y pida al operador que la registre con «npm run cli -- platform add».',
        details: { registration: failure?.logDetail ?? (failure ? null : String((err as Error)?.message ?? err).slice(0, 200)) },
        cause: err,
      });
      await refuse(`registration failed: ${sentence.slice(0, 160)}${failure?.logDetail ? ` (${failure.logDetail.slice(0, 120)})` : ''}`, error);
    }
  };
}

function cryptoId(): string {
  return globalThis.crypto.randomUUID();
}
