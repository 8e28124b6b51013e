/**
 * POST /deep-linking/return: the tool's LtiDeepLinkingResponse (form field JWT), verified against
 * the tool's JWKS and recorded.
 * @see https://www.imsglobal.org/spec/lti-dl/v2p0#deep-linking-response-message
 */
import type { Request, Response } from 'express';
import { CLAIM, DL_CLAIM } from './claims';
import { findUser, type SimContext } from './context';
import { SimError } from './errors';
import { html, sendErrorPage, sendPage } from './html';
import { verifyToolJwt } from './keys';
import { titlesOf } from './pages';

const ACCEPT_TYPES = ['ltiResourceLink'];

export interface VerifiedDeepLinkResponse {
  items: unknown[];
  userId: string;
  message: string | undefined;
}

export async function verifyDeepLinkResponse(ctx: SimContext, token: string): Promise<VerifiedDeepLinkResponse> {
  // iss = the tool's client id, aud = this platform's issuer.
  const claims = await verifyToolJwt(token, ctx.toolKeys, { issuer: ctx.clientId, audience: ctx.url }, 'invalid_request');
  if (claims[CLAIM.messageType] !== 'LtiDeepLinkingResponse') {
    throw new SimError(400, 'invalid_request', `message_type debe ser LtiDeepLinkingResponse (llegó ${JSON.stringify(claims[CLAIM.messageType])}).`);
  }
  if (claims[CLAIM.version] !== '1.3.0') throw new SimError(400, 'invalid_request', 'version debe ser 1.3.0.');
  if (claims[CLAIM.deploymentId] !== ctx.deploymentId) {
    throw new SimError(400, 'invalid_request', `deployment_id debe ser "${ctx.deploymentId}" (llegó ${JSON.stringify(claims[CLAIM.deploymentId])}).`);
  }
  const data = claims[DL_CLAIM.data];
  const issued = typeof data === 'string' ? ctx.deepLinkData.get(data) : undefined;
  if (!issued) throw new SimError(400, 'invalid_request', 'El claim data no es el que envió el LMS en deep_linking_settings (o ya se usó).');
  const rawItems = claims[DL_CLAIM.contentItems] ?? [];
  if (!Array.isArray(rawItems)) throw new SimError(400, 'invalid_request', 'content_items debe ser una lista.');
  if (rawItems.length > 1) throw new SimError(400, 'invalid_request', 'Este LMS acepta un solo elemento (accept_multiple = false).');
  for (const item of rawItems) {
    const type = item && typeof item === 'object' ? (item as { type?: unknown }).type : undefined;
    if (typeof type !== 'string' || !ACCEPT_TYPES.includes(type)) {
      throw new SimError(400, 'invalid_request', `Tipo de contenido no aceptado: ${JSON.stringify(type)} (se acepta ${ACCEPT_TYPES.join(', ')}).`);
    }
  }
  ctx.deepLinkData.delete(data as string);
  const message = claims[DL_CLAIM.msg];
  return { items: rawItems, userId: issued.userId, message: typeof message === 'string' ? message : undefined };
}

export function deepLinkingReturn(ctx: SimContext) {
  return async (req: Request, res: Response): Promise<void> => {
    const token = (req.body as Record<string, unknown> | undefined)?.JWT;
    if (typeof token !== 'string' || token === '') {
      sendErrorPage(res, 400, 'Respuesta de selector de contenido inválida', 'Falta el campo JWT.');
      return;
    }
    let verified: VerifiedDeepLinkResponse;
    try {
      verified = await verifyDeepLinkResponse(ctx, token);
    } catch (err) {
      if (!(err instanceof SimError)) throw err;
      sendErrorPage(res, err.status >= 500 ? err.status : 400, 'Respuesta de selector de contenido inválida', err.message);
      return;
    }
    ctx.deepLinkResponses.push({ items: verified.items, receivedAt: new Date() });
    const titles = titlesOf(verified.items);
    const user = findUser(ctx, verified.userId);
    sendPage(res, 200, {
      title: 'Actividad agregada',
      body: html`<main><section class="card" aria-labelledby="dl-result">
${
  verified.items.length === 0
    ? html`<h1 id="dl-result">No se agregó ninguna actividad</h1>`
    : html`<h1 id="dl-result">Actividad agregada: ${titles.length > 0 ? titles.join(', ') : '(sin título)'}</h1>`
}
${verified.message ? html`<p>${verified.message}</p>` : ''}
${user ? html`<p><a href="/course?user=${encodeURIComponent(user.id)}" target="_top">Volver al curso</a></p>` : ''}
</section></main>`,
    });
  };
}
