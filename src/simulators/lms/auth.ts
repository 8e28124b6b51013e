/**
 * OIDC authorization endpoint (GET and POST /auth), response_mode form_post.
 * Validates the authentication request the tool sends after the login initiation, then answers
 * with a page that posts a signed id_token and the state back to the tool's redirect_uri.
 * @see https://www.imsglobal.org/spec/security/v1p0/#step-2-authentication-request
 * @see https://www.imsglobal.org/spec/security/v1p0/#step-3-authentication-response
 */
import { randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { buildLaunchClaims } from './claims';
import { findUser, PLATFORM_STORAGE_TARGET, registeredRedirectUris, type SimContext } from './context';
import { SimError } from './errors';
import { html, postForm, sendErrorPage, sendPage } from './html';
import { signJws, signJwsAsync } from './keys';
import type { IdTokenTamper, LtiMessageType, SimUser } from './types';

type Params = Record<string, unknown>;

/** A single-valued parameter; a repeated one is an error (OIDC: parameters must not be repeated). */
function param(p: Params, name: string): string | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new SimError(400, 'invalid_request', `El parámetro ${name} viene repetido o mal formado.`);
  return v;
}

function required(p: Params, name: string): string {
  const v = param(p, name);
  if (v === undefined || v === '') throw new SimError(400, 'invalid_request', `Falta el parámetro ${name}.`);
  return v;
}

export interface ValidAuthRequest {
  platformStorage: boolean;
  user: SimUser;
  messageType: LtiMessageType;
  redirectUri: string;
  nonce: string;
  state: string;
}

/** The checks, in order; each failure names the parameter. */
export function validateAuthRequest(ctx: SimContext, p: Params): ValidAuthRequest {
  const scope = required(p, 'scope');
  if (!scope.split(' ').includes('openid')) throw new SimError(400, 'invalid_scope', `scope debe ser "openid" (llegó "${scope}").`);
  const responseType = required(p, 'response_type');
  if (responseType !== 'id_token') throw new SimError(400, 'unsupported_response_type', `response_type debe ser "id_token" (llegó "${responseType}").`);
  const responseMode = required(p, 'response_mode');
  if (responseMode !== 'form_post') throw new SimError(400, 'invalid_request', `response_mode debe ser "form_post" (llegó "${responseMode}").`);
  const prompt = required(p, 'prompt');
  if (prompt !== 'none') throw new SimError(400, 'invalid_request', `prompt debe ser "none" (llegó "${prompt}").`);
  const clientId = required(p, 'client_id');
  if (clientId !== ctx.clientId) throw new SimError(400, 'unauthorized_client', `client_id "${clientId}" no corresponde a ninguna herramienta registrada.`);
  const redirectUri = required(p, 'redirect_uri');
  if (/[?#]/.test(redirectUri)) throw new SimError(400, 'invalid_request', `redirect_uri no debe llevar query ni fragmento (llegó "${redirectUri}").`);
  if (!registeredRedirectUris(ctx).includes(redirectUri)) {
    throw new SimError(400, 'invalid_request', `redirect_uri "${redirectUri}" no está registrada (se aceptan: ${registeredRedirectUris(ctx).join(', ')}).`);
  }
  const loginHint = required(p, 'login_hint');
  const user = findUser(ctx, loginHint);
  if (!user) throw new SimError(400, 'login_required', `login_hint "${loginHint}" no es un usuario de este LMS.`);
  const hint = ctx.hints.verify(required(p, 'lti_message_hint'));
  if (hint.userId !== user.id) throw new SimError(400, 'invalid_request', 'lti_message_hint fue emitido para otro usuario que login_hint.');
  if (hint.contextId !== ctx.course.contextId) throw new SimError(400, 'invalid_request', 'lti_message_hint es de otro curso.');
  if (hint.messageType === 'LtiDeepLinkingRequest' && user.role !== 'instructor') {
    throw new SimError(400, 'access_denied', 'Solo un docente puede usar el selector de contenido.');
  }
  const nonce = required(p, 'nonce');
  const state = required(p, 'state');
  const deploymentId = param(p, 'lti_deployment_id');
  if (deploymentId !== undefined && deploymentId !== ctx.deploymentId) {
    throw new SimError(400, 'invalid_request', `lti_deployment_id "${deploymentId}" no es el de esta instalación ("${ctx.deploymentId}").`);
  }
  return { user, messageType: hint.messageType, redirectUri, nonce, state, platformStorage: hint.platformStorage === true };
}

export function issueDeepLinkData(ctx: SimContext, userId: string): string {
  const data = `dl-${randomBytes(12).toString('hex')}`;
  ctx.deepLinkData.set(data, { userId });
  return data;
}

export function claimsFor(ctx: SimContext, user: SimUser, nonce: string, messageType: LtiMessageType): Record<string, unknown> {
  return buildLaunchClaims({
    issuer: ctx.url,
    clientId: ctx.clientId,
    deploymentId: ctx.deploymentId,
    publicHost: ctx.publicHost,
    tool: ctx.tool,
    course: ctx.course,
    user,
    nonce,
    messageType,
    ...(messageType === 'LtiDeepLinkingRequest' ? { deepLinkData: issueDeepLinkData(ctx, user.id) } : {}),
  });
}

/** Signs an id_token: RS256, kid of the simulator's key, with an optional one-shot tamper applied. */
export function signIdToken(ctx: SimContext, claims: Record<string, unknown>, tamper: IdTokenTamper | null): string {
  const { header, payload, key } = idTokenParts(ctx, claims, tamper);
  return signJws(header, payload, key);
}

/** signIdToken, with the RSA signature computed off the event loop (what the /auth endpoint uses). */
export function signIdTokenAsync(ctx: SimContext, claims: Record<string, unknown>, tamper: IdTokenTamper | null): Promise<string> {
  const { header, payload, key } = idTokenParts(ctx, claims, tamper);
  return signJwsAsync(header, payload, key);
}

function idTokenParts(ctx: SimContext, claims: Record<string, unknown>, tamper: IdTokenTamper | null) {
  const payload = tamper?.claims ? tamper.claims(structuredClone(claims)) : claims;
  const key = tamper?.signWithForeignKey ? ctx.foreignKey : ctx.key;
  const header = { alg: 'RS256', typ: 'JWT', kid: ctx.key.kid, ...(tamper?.header ?? {}) };
  return { header, payload, key: key.privateKey };
}

export function authorizationEndpoint(ctx: SimContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const params: Params = req.method === 'POST' ? ((req.body as Params | undefined) ?? {}) : (req.query as Params);
    let valid: ValidAuthRequest;
    try {
      valid = validateAuthRequest(ctx, params);
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      sendErrorPage(
        res,
        400,
        'Solicitud de autenticación LTI inválida',
        err.message,
        `Código OIDC: ${err.code}. Revise cómo la herramienta arma la redirección a ${ctx.url}/auth.`,
      );
      return;
    }
    const tamper = ctx.pendingTamper;
    ctx.pendingTamper = null;
    const idToken = await signIdTokenAsync(ctx, claimsFor(ctx, valid.user, valid.nonce, valid.messageType), tamper);
    const form = postForm({
      id: 'lti-form-post',
      action: valid.redirectUri,
      // Canvas sends lti_storage_target in the launch too; the tool must not rely on it (its login record decides).
      fields: { id_token: idToken, state: valid.state, ...(valid.platformStorage ? { lti_storage_target: PLATFORM_STORAGE_TARGET } : {}) },
      buttonLabel: 'Continuar a Asistencia SENCE',
      autoSubmit: true,
      button: 'noscript',
    });
    sendPage(res, 200, {
      title: 'Entrando a la herramienta',
      formTargets: [new URL(valid.redirectUri).origin],
      script: form.script,
      body: html`<main><p>Entrando a Asistencia SENCE como ${valid.user.name}…</p>${form.form}</main>`,
    });
  };
}
