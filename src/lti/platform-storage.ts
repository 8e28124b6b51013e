/**
 * LTI Platform Storage (1EdTech "Client Side postMessages" + "postMessage Storage", the cookieless
 * OIDC login Canvas implements): what the tool puts in the platform's storage at login, how it
 * proves at launch that the same browser holds it, and the one-time "pending launch" that carries
 * the launch from the check to the panel. Pure: no Express, no database.
 *
 * The flow (docs/architecture.md, "Launch and session without cookies"):
 *   login initiation with lti_storage_target → our page puts `state_<state>` = state in the
 *   platform's storage (postMessage to the target frame, targetOrigin = the platform's OIDC
 *   origin) → platform auth → form_post → our checks + ltijs → the launch answers a check page that
 *   gets `state_<state>` back from the same browser's platform storage and posts it with the sealed
 *   pending launch; only a match reaches the panel. An id_token+state posted into another browser
 *   (login CSRF) finds nothing in that browser's platform storage and stops there.
 */
import { createHash } from 'node:crypto';
import { openSecret, sealSecret } from '../domain/token-crypto';

/** `_parent`, or the name of a sibling frame (Canvas: `post_message_forwarding`). */
const STORAGE_TARGET = /^(?:_parent|[A-Za-z0-9][A-Za-z0-9_-]{0,63})$/;

/** Login initiation parameters a relaunch in a new window carries (never `lti_storage_target`). */
const RELAUNCH_PARAMETERS = ['iss', 'login_hint', 'target_link_uri', 'lti_message_hint', 'client_id', 'lti_deployment_id'] as const;

/** How long the check page may take between the launch and its answer. */
export const PENDING_LAUNCH_SECONDS = 120;

export function storageTargetOf(params: Record<string, unknown>): string | null {
  const raw = params.lti_storage_target;
  return typeof raw === 'string' && STORAGE_TARGET.test(raw) ? raw : null;
}

/** The key the state is stored under (Canvas's advice: the value is in the key). */
export function stateStorageKey(state: string): string {
  return `state_${state}`;
}

/** The login initiation again, minus `lti_storage_target`: the tool relaunched top-level, through the LMS. */
export function relaunchQuery(params: Record<string, unknown>): string {
  const query = new URLSearchParams();
  for (const name of RELAUNCH_PARAMETERS) {
    const value = params[name];
    if (typeof value === 'string' && value !== '') query.set(name, value);
  }
  return query.toString();
}

export interface PendingLaunch {
  /** Random id of its server-side record (PendingLaunchStore): the check spends it once. */
  id: string;
  ltik: string;
  state: string;
  relaunchQuery: string | null;
}

/**
 * Sealed (AES-256-GCM) so the page holds no usable ltik until the storage check passed; its `id`
 * names a server-side record that the check spends once, so a copy of the page cannot be answered
 * again within the seal's lifetime.
 */
export function sealPendingLaunch(p: PendingLaunch, key: Buffer, nowMs: number): string {
  return sealSecret(JSON.stringify({ ...p, exp: Math.floor(nowMs / 1000) + PENDING_LAUNCH_SECONDS }), key);
}

export type PendingLaunchCheck =
  | { ok: true; launch: PendingLaunch }
  | { ok: false; reason: 'unreadable' | 'expired'; relaunchQuery: string | null }
  /** Readable and in time, but not this browser's state: `id` is spent all the same (one answer per launch). */
  | { ok: false; reason: 'state-mismatch'; relaunchQuery: string | null; id: string };

/** Opens a pending launch and checks the value the browser read back from the platform's storage. */
export function checkPendingLaunch(sealed: string, storedValue: string, key: Buffer, nowMs: number): PendingLaunchCheck {
  let parsed: { id?: unknown; ltik?: unknown; state?: unknown; relaunchQuery?: unknown; exp?: unknown };
  try {
    parsed = JSON.parse(openSecret(sealed, key)) as typeof parsed;
  } catch {
    return { ok: false, reason: 'unreadable', relaunchQuery: null };
  }
  const relaunch = typeof parsed.relaunchQuery === 'string' ? parsed.relaunchQuery : null;
  if (typeof parsed.id !== 'string' || typeof parsed.ltik !== 'string' || typeof parsed.state !== 'string' || typeof parsed.exp !== 'number') {
    return { ok: false, reason: 'unreadable', relaunchQuery: null };
  }
  if (parsed.exp < Math.floor(nowMs / 1000)) return { ok: false, reason: 'expired', relaunchQuery: relaunch };
  if (storedValue !== parsed.state) return { ok: false, reason: 'state-mismatch', relaunchQuery: relaunch, id: parsed.id };
  return { ok: true, launch: { id: parsed.id, ltik: parsed.ltik, state: parsed.state, relaunchQuery: relaunch } };
}

/**
 * A short, stable reference to a course (issuer, client id, context id) that pages send back with
 * every request, so an ltik is refused when a request names another course than its own.
 */
export function courseRef(course: { issuer: string; clientId: string; contextId: string }): string {
  return createHash('sha256').update(`${course.issuer}\u0000${course.clientId}\u0000${course.contextId}`).digest('base64url').slice(0, 22);
}

/**
 * How long an ltik authenticates: `iat` (seconds, set by ltijs when it signs the ltik) plus the
 * configured minutes. At exactly the limit it still works; one second past it does not. An ltik
 * without a numeric `iat` never works.
 */
export function ltikExpired(iat: unknown, nowSeconds: number, maxAgeMinutes: number): boolean {
  if (typeof iat !== 'number' || !Number.isFinite(iat)) return true;
  return nowSeconds - iat > maxAgeMinutes * 60;
}
