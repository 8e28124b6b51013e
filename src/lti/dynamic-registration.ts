/**
 * LTI Dynamic Registration ("Añadir LTI Advantage" in Moodle), behind a one-time invitation
 * (issue #7, finding 5). Without a valid invitation the request is refused (403, audited) before
 * any outbound request. With one, the tool fetches the platform's OpenID configuration and posts
 * its registration (timeout, size cap, no redirects: safe-fetch.ts), stores the platform ACTIVE at
 * once, and answers a page that stays open, says what the administrator does next with the real
 * issuer and client_id, and may be framed by the new platform (its CSP is recomputed after the
 * registration). Moodle's "Update" of a registered tool comes back with the same (used) invitation:
 * it updates the platform it registered (same issuer) instead of a dead-end 409.
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
import { fetchJson } from './safe-fetch';
import { originOf } from '../web/security-headers';
import { viewsDir } from '../paths';

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

const INVITE_HINT = 'El operador de Asistencia SENCE crea una invitación de un solo uso con «npm run cli -- platform invite --name "Moodle de mi OTEC"» y le entrega la dirección que imprime (…/lti/register?invite=…): péguela completa en «URL de la herramienta» y pulse «Añadir LTI Advantage».';

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
    throw new Error('la configuración OpenID de la plataforma no trae issuer, authorization_endpoint, token_endpoint, jwks_uri y registration_endpoint válidos (https)');
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

export function dynamicRegistrationHandler(deps: DynamicRegistrationDeps) {
  const { config, provider } = deps;
  const production = config.nodeEnv === 'production';
  const now = deps.now ?? (() => new Date());
  const urls = toolUrls(config.publicUrl);

  const audit = async (req: Request, event: 'registration-refused' | 'registration-completed', accepted: boolean, reason: string, details: Record<string, unknown>) => {
    await deps.stores?.audit
      .record({ id: cryptoId(), at: now(), event, accepted, reason, sourceIp: req.ip ?? null, learner: null, course: null, sessionId: null, details })
      .catch(() => undefined);
  };

  return async (req: Request, res: Response): Promise<void> => {
    const query = req.query as Record<string, unknown>;
    const code = text(query.invite);
    const openid = text(query.openid_configuration);
    const registrationToken = text(query.registration_token);
    const refuse = async (reason: string, error: AppError) => {
      await audit(req, 'registration-refused', false, reason, { openidConfiguration: openid?.slice(0, 200) ?? null });
      deps.renderError(req, res, error);
    };

    // 1. The invitation, before anything leaves the server.
    if (!deps.stores || !code || !INVITE_CODE_PATTERN.test(code)) {
      await refuse(code ? 'malformed invitation' : 'no invitation', new AppError('registration-invite-required', 403, 'Para registrar Asistencia SENCE en tu plataforma necesitas una invitación del operador de Asistencia SENCE. Esta dirección no trae una invitación válida.', { staffHint: INVITE_HINT }));
      return;
    }
    if (!httpUrl(openid, production)) {
      await refuse('no openid_configuration', new AppError('lti-registration-failed', 400, 'Falta la configuración OpenID de la plataforma: abre esta dirección desde el botón «Añadir LTI Advantage» (Moodle) o el registro dinámico de tu plataforma.', { staffHint: INVITE_HINT }));
      return;
    }
    const codeHash = hashInviteCode(code);
    let invite: RegistrationInvite | null = await deps.stores.invites.consume(codeHash, now());
    let updating = false;
    if (!invite) {
      const existing = await deps.stores.invites.get(codeHash);
      if (existing?.usedAt && existing.platform) {
        invite = existing; // Moodle's "Update": the invitation that registered this platform
        updating = true;
      } else {
        const why = !existing ? 'La invitación no es válida.' : existing.usedAt ? 'La invitación ya se está usando.' : 'La invitación venció.';
        await refuse(!existing ? 'unknown invitation' : existing.usedAt ? 'invitation in use' : 'expired invitation', new AppError('registration-invite-required', 403, `${why} Pide una nueva al operador de Asistencia SENCE.`, { staffHint: INVITE_HINT }));
        return;
      }
    }

    try {
      // 2. The platform's OpenID configuration and our registration (bounded outbound requests).
      const conf = readConfiguration(await fetchJson(openid as string), production);
      if (updating && conf.issuer !== invite.platform?.issuer) {
        throw new AppError('registration-invite-required', 403, 'Esta invitación ya se usó para registrar otra plataforma. Pide una nueva al operador de Asistencia SENCE.', { staffHint: INVITE_HINT });
      }
      const messages = [{ type: 'LtiResourceLinkRequest' }, { type: 'LtiDeepLinkingRequest' }];
      const response = await fetchJson(conf.registrationEndpoint, {
        method: 'POST',
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
      });
      const clientId = text(response.client_id);
      if (!clientId || clientId.length > 256) throw new Error('la plataforma no devolvió un client_id');

      // 3. Store (or update) the platform, active at once: the invitation is the operator's consent.
      const before = await provider.getPlatform(conf.issuer, clientId);
      const existed = Boolean(before) && !Array.isArray(before);
      const platform = await provider.registerPlatform({
        url: conf.issuer,
        clientId,
        name: invite.name ?? `${conf.product ?? 'Plataforma'} (${new URL(conf.issuer).host})`,
        authenticationEndpoint: conf.authorizationEndpoint,
        accesstokenEndpoint: conf.tokenEndpoint,
        ...(conf.authorizationServer ? { authorizationServer: conf.authorizationServer } : {}),
        authConfig: { method: 'JWK_SET', key: conf.jwksUri },
      } as Parameters<Provider['registerPlatform']>[0]);
      await platform.platformActive(true);
      await deps.stores.invites.setPlatform(codeHash, { issuer: conf.issuer, clientId });
      await deps.refreshPlatformOrigins();
      await audit(req, 'registration-completed', true, `${existed ? 'updated' : 'registered'} ${conf.issuer} client_id ${clientId}`, { issuer: conf.issuer, clientId, invite: invite.name });

      // 4. The page is framed by the platform that did not exist when this request's CSP was set.
      allowFraming(res, [originOf(conf.issuer), originOf(conf.authorizationEndpoint)]);
      const html = await ejs.renderFile(path.join(viewsDir, 'dynreg-done.ejs'), {
        title: existed ? 'Registro actualizado' : 'Registro completado',
        issuer: conf.issuer,
        clientId,
        updated: existed,
        setupUrl: `${config.publicUrl}/setup`,
      }, { root: viewsDir });
      res.type('html').set('Cache-Control', 'no-store').send(html);
    } catch (err) {
      if (!updating) await deps.stores.invites.release(codeHash);
      const error = err instanceof AppError
        ? err
        // 424 (the platform's answer failed), not 5xx: the administrator must read why.
        : new AppError('lti-registration-failed', 424, 'No se pudo completar el registro dinámico con la plataforma. Inténtalo de nuevo (la invitación sigue sirviendo) o usa la configuración manual (página /setup).', {
          staffHint: `Detalle: ${String((err as Error).message ?? '').slice(0, 200)}`,
          cause: err,
        });
      await refuse(`registration failed: ${String((err as Error).message ?? '').slice(0, 120)}`, error);
    }
  };
}

function allowFraming(res: Response, origins: Array<string | null>): void {
  const extra = origins.filter((o): o is string => o !== null);
  const csp = res.getHeader('Content-Security-Policy');
  if (typeof csp !== 'string' || !extra.length) return;
  res.setHeader('Content-Security-Policy', csp.replace(/frame-ancestors ([^;]*)/, (_m, list: string) => `frame-ancestors ${[...new Set([...list.split(' '), ...extra])].join(' ')}`));
}

function cryptoId(): string {
  return globalThis.crypto.randomUUID();
}
