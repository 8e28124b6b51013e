/**
 * The platform side of LTI Dynamic Registration, as Moodle 4.5 does it ("Añadir LTI Advantage"):
 * the administrator pastes the tool's URL; the platform opens it with `openid_configuration` and a
 * one-time `registration_token` APPENDED to the URL's own query (Moodle keeps `?invite=…`). The tool
 * fetches the OpenID configuration and POSTs its registration with the token as Bearer; the platform
 * answers with the client_id (the simulator's own, so launches work right after). Moodle's "Update"
 * repeats the same flow and gets the same client_id back.
 *
 * Routes: GET /mod/lti/openid-configuration.php · POST /mod/lti/openid-registration.php
 */
import { randomBytes } from 'node:crypto';
import express, { Router, type Request, type Response } from 'express';
import type { SimContext } from './context';

export interface ToolRegistrationRecord {
  /** The registration request the tool posted (JSON, as received). */
  request: Record<string, unknown>;
  clientId: string;
  receivedAt: Date;
}

export interface DynamicRegistrationState {
  /** registration_token values issued and not used yet. */
  tokens: Set<string>;
  registrations: ToolRegistrationRecord[];
}

export function newDynamicRegistrationState(): DynamicRegistrationState {
  return { tokens: new Set(), registrations: [] };
}

export const OPENID_CONFIGURATION_PATH = '/mod/lti/openid-configuration.php';
export const REGISTRATION_PATH = '/mod/lti/openid-registration.php';

/** What Moodle does when the admin presses "Añadir LTI Advantage" with `toolUrl`: the URL it opens. */
export function startRegistration(ctx: SimContext, state: DynamicRegistrationState, toolUrl: string): string {
  const token = randomBytes(16).toString('hex');
  state.tokens.add(token);
  const url = new URL(toolUrl);
  url.searchParams.append('openid_configuration', `${ctx.url}${OPENID_CONFIGURATION_PATH}`);
  url.searchParams.append('registration_token', token);
  return url.toString();
}

export function dynamicRegistrationRouter(ctx: SimContext, state: DynamicRegistrationState): Router {
  const router = Router();
  router.get(OPENID_CONFIGURATION_PATH, (_req: Request, res: Response) => {
    res.json({
      issuer: ctx.url,
      token_endpoint: `${ctx.url}/token`,
      token_endpoint_auth_methods_supported: ['private_key_jwt'],
      token_endpoint_auth_signing_alg_values_supported: ['RS256'],
      jwks_uri: `${ctx.url}/jwks`,
      authorization_endpoint: `${ctx.url}/auth`,
      registration_endpoint: `${ctx.url}${REGISTRATION_PATH}`,
      scopes_supported: ['openid'],
      response_types_supported: ['id_token'],
      subject_types_supported: ['public', 'pairwise'],
      id_token_signing_alg_values_supported: ['RS256'],
      claims_supported: ['sub', 'iss', 'name', 'given_name', 'family_name', 'email'],
      'https://purl.imsglobal.org/spec/lti-platform-configuration': {
        product_family_code: 'moodle',
        version: '4.5.6 (Build: 20250804) (simulador)',
        messages_supported: [{ type: 'LtiResourceLinkRequest' }, { type: 'LtiDeepLinkingRequest' }],
        variables: ['User.username', 'Person.sourcedId'],
      },
    });
  });
  router.post(REGISTRATION_PATH, express.json({ limit: '64kb' }), (req: Request, res: Response) => {
    const auth = String(req.headers.authorization ?? '');
    const token = auth.startsWith('Bearer ') ? auth.slice(7) : '';
    if (!state.tokens.has(token)) {
      res.status(401).json({ error: 'invalid_token', error_description: 'registration_token desconocido o ya usado' });
      return;
    }
    const body = (req.body ?? {}) as Record<string, unknown>;
    const toolConf = body['https://purl.imsglobal.org/spec/lti-tool-configuration'] as Record<string, unknown> | undefined;
    if (typeof body.initiate_login_uri !== 'string' || typeof body.jwks_uri !== 'string' || !Array.isArray(body.redirect_uris) || !toolConf) {
      res.status(400).json({ error: 'invalid_client_metadata', error_description: 'faltan initiate_login_uri, jwks_uri, redirect_uris o la configuración LTI' });
      return;
    }
    state.tokens.delete(token);
    state.registrations.push({ request: body, clientId: ctx.clientId, receivedAt: new Date() });
    res.json({ ...body, client_id: ctx.clientId, 'https://purl.imsglobal.org/spec/lti-tool-configuration': { ...toolConf, deployment_id: ctx.deploymentId } });
  });
  return router;
}
