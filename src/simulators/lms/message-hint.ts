/**
 * lti_message_hint: the platform's own opaque value, sent with the login initiation and echoed by
 * the tool to the authorization endpoint, telling it which user and message type the launch is for.
 * Here it is an HS256 JWT under a random per-run secret: `{ sub: <user id>, msg: <message type>,
 * ctx: <context id>, iat, exp: iat + 3600 }`. Tools must treat it as opaque.
 */
import { createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { SimError } from './errors';
import type { LtiMessageType } from './types';

const HINT_TTL_SECONDS = 3600;

export interface MessageHint {
  userId: string;
  messageType: LtiMessageType;
  contextId: string;
  /** The launch offers LTI Platform Storage: /auth echoes lti_storage_target in its form_post. */
  platformStorage?: boolean;
}

export class MessageHints {
  /**
   * A KeyObject, not a Buffer: given raw bytes, jsonwebtoken first tries (and fails) to parse them
   * as a PEM/DER key on every sign and verify: ~9 % of a launch's CPU before this (bench/README.md).
   */
  private readonly secret: KeyObject = createSecretKey(randomBytes(32));

  issue(h: MessageHint): string {
    return jwt.sign({ sub: h.userId, msg: h.messageType, ctx: h.contextId, ...(h.platformStorage ? { st: 1 } : {}) }, this.secret, {
      algorithm: 'HS256',
      expiresIn: HINT_TTL_SECONDS,
    });
  }

  verify(hint: string): MessageHint {
    let p: unknown;
    try {
      p = jwt.verify(hint, this.secret, { algorithms: ['HS256'] });
    } catch (err) {
      if ((err as Error).name === 'TokenExpiredError') {
        throw new SimError(400, 'invalid_request', 'lti_message_hint venció: vuelva a abrir el curso en el simulador para lanzar de nuevo.');
      }
      throw new SimError(400, 'invalid_request', `lti_message_hint no es válido (${(err as Error).message}).`);
    }
    const c = p as { sub?: unknown; msg?: unknown; ctx?: unknown; st?: unknown };
    if (typeof c.sub !== 'string' || typeof c.ctx !== 'string' || (c.msg !== 'LtiResourceLinkRequest' && c.msg !== 'LtiDeepLinkingRequest')) {
      throw new SimError(400, 'invalid_request', 'lti_message_hint no tiene el formato esperado.');
    }
    return { userId: c.sub, messageType: c.msg, contextId: c.ctx, platformStorage: c.st === 1 };
  }
}
