/** Everything the simulator's routes share. Built once in startLmsSimulator. */
import type { SigningKey, ToolKeySet } from './keys';
import type { MessageHints } from './message-hint';
import type { IdTokenTamper, RecordedDeepLinkResponse, RecordedScore, SimCourse, SimUser, ToolUrls } from './types';

export interface SimContext {
  /** Base URL and issuer, e.g. http://localhost:3001 (no trailing slash). */
  url: string;
  publicHost: string;
  clientId: string;
  deploymentId: string;
  tool: ToolUrls;
  users: SimUser[];
  course: SimCourse;
  key: SigningKey;
  foreignKey: SigningKey;
  toolKeys: ToolKeySet;
  hints: MessageHints;
  scores: RecordedScore[];
  deepLinkResponses: RecordedDeepLinkResponse[];
  /** One-shot tamper for the next id_token issued by /auth. */
  pendingTamper: IdTokenTamper | null;
  /** Deep-linking `data` values issued, with the user they were issued for; each is accepted once. */
  deepLinkData: Map<string, { userId: string }>;
}

/** The simulator answers platform storage messages in the course page itself (the tool's parent). */
export const PLATFORM_STORAGE_TARGET = '_parent';

export function findUser(ctx: SimContext, id: string): SimUser | undefined {
  return ctx.users.find((u) => u.id === id);
}

/** Distinct origins of the tool's URLs (for CSP form-action / frame-src). */
export function toolOrigins(ctx: SimContext): string[] {
  const urls = [ctx.tool.loginUrl, ctx.tool.launchUrl, ctx.tool.deepLinkUrl].filter((u): u is string => typeof u === 'string');
  return [...new Set(urls.map((u) => new URL(u).origin))];
}

/** The redirect URIs registered for the tool: launch and deep-linking URLs, without query or fragment. */
export function registeredRedirectUris(ctx: SimContext): string[] {
  const strip = (u: string): string => u.split(/[?#]/)[0] ?? u;
  const uris = [ctx.tool.launchUrl, ctx.tool.deepLinkUrl].filter((u): u is string => typeof u === 'string').map(strip);
  return [...new Set(uris)];
}
