/**
 * Checks a SENCE callback (the browser POST to UrlRetoma/UrlError) before it may change a session.
 * SENCE does not sign callbacks (REFERENCE §3), so the body is parsed strictly and then checked by a
 * named chain of small steps; the first failing step is reported by name for the audit log.
 */
import type { ErrorCode } from '../errors';
import { parseGlosaError } from '../domain/sence-error-catalogue';
import type { AttendanceSession, CallbackAttempt, SessionState } from '../domain/types';

/** RCE M6 §3: the fields SENCE posts back and their maximum lengths. */
export const CALLBACK_FIELDS: Readonly<Record<string, number>> = Object.freeze({
  CodSence: 10,
  CodigoCurso: 50,
  IdSesionAlumno: 149,
  IdSesionSence: 149,
  RunAlumno: 10,
  FechaHora: 19,
  ZonaHoraria: 100,
  LineaCapacitacion: 2,
  GlosaError: 200,
});

/**
 * Unknown fields: SENCE may add fields without notice (REFERENCE §4 notes), so an unknown name does
 * not reject the callback. It is kept in `raw` for the audit trail only, its value cut to 200
 * characters, and at most 20 of them are accepted: more than that is not SENCE, it is someone
 * stuffing the request, and the callback is rejected. Field names longer than 64 characters are
 * rejected too, so audit reasons and stored payloads stay small.
 */
export const UNKNOWN_FIELD_MAX_LENGTH = 200;
export const UNKNOWN_FIELDS_MAX = 20;
/** No SENCE field name is longer than 17 characters; longer names are not SENCE's form. */
export const FIELD_NAME_MAX_LENGTH = 64;

export type ParsedCallbackBody =
  | { ok: true; fields: Record<string, string>; raw: Record<string, string> }
  | { ok: false; code: 'sence-callback-invalid'; step: string; reason: string; field?: string };

function isKnownField(name: string): boolean {
  return Object.prototype.hasOwnProperty.call(CALLBACK_FIELDS, name);
}

/**
 * `reason` is one of a fixed set (it is part of the audit fingerprint, issue #19); the name of the
 * offending field, chosen by whoever posted, goes apart in `field` (the audit details, cut).
 */
function bodyError(step: string, reason: string, field?: string): ParsedCallbackBody {
  return field === undefined ? { ok: false, code: 'sence-callback-invalid', step, reason } : { ok: false, code: 'sence-callback-invalid', step, reason, field };
}

export function parseCallbackBody(body: unknown): ParsedCallbackBody {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) {
    return bodyError('body-shape', 'body is not a form object');
  }
  const fields: [string, string][] = [];
  const raw: [string, string][] = [];
  const seen = new Set<string>();
  let unknownCount = 0;
  for (const [rawName, value] of Object.entries(body as Record<string, unknown>)) {
    // RCE M6 §3 errata: the manual shows "LineaCapacitacion " with a trailing space; names are trimmed.
    const name = rawName.trim();
    if (name.length > FIELD_NAME_MAX_LENGTH) return bodyError('field-name', `field name longer than ${FIELD_NAME_MAX_LENGTH} characters`);
    // REFERENCE §3: each field is posted once; a repeated field is not SENCE's form.
    if (Array.isArray(value)) return bodyError('duplicate-field', 'field sent more than once', name);
    if (seen.has(name)) return bodyError('duplicate-field', 'field sent more than once', name);
    seen.add(name);
    // RCE M6 §3: every callback field is a plain form text value.
    if (typeof value !== 'string') return bodyError('field-type', 'field is not plain text', name);
    if (isKnownField(name)) {
      // RCE M6 §3: each callback field has a maximum length.
      const max = CALLBACK_FIELDS[name] ?? 0;
      if (value.length > max) return bodyError('field-length', `field longer than its maximum`, name);
      fields.push([name, value]);
      raw.push([name, value]);
    } else {
      unknownCount += 1;
      if (unknownCount > UNKNOWN_FIELDS_MAX) return bodyError('too-many-fields', `more than ${UNKNOWN_FIELDS_MAX} unknown fields`);
      raw.push([name, value.slice(0, UNKNOWN_FIELD_MAX_LENGTH)]);
    }
  }
  // Object.fromEntries defines own properties, so a field named "__proto__" cannot touch prototypes.
  return { ok: true, fields: Object.fromEntries(fields), raw: Object.fromEntries(raw) };
}

export interface VerifyCallbackArgs {
  /** Which URL was hit: UrlRetoma ('retoma') or UrlError ('error'). */
  kind: 'retoma' | 'error';
  attempt: CallbackAttempt;
  session: AttendanceSession;
  fields: Record<string, string>;
  now: Date;
}

export type VerifyCallbackResult =
  | { ok: true; outcome: 'success' | 'error'; codes: string[] }
  | { ok: false; code: ErrorCode; step: string; reason: string };

type Failure = { code: ErrorCode; reason: string };
type Check = { step: string; run: (args: VerifyCallbackArgs) => Failure | null };

function field(args: VerifyCallbackArgs, name: string): string {
  return (args.fields[name] ?? '').trim();
}

const EXPECTED_STATE: Record<CallbackAttempt['phase'], SessionState> = { start: 'starting', close: 'closing' };

/** The checks, in order. Each returns null when it passes. */
const CHECKS: readonly Check[] = [
  {
    // REFERENCE §3/§7.4: callbacks are unsigned; the one-time attempt token must belong to this session.
    step: 'attempt-session',
    run: ({ attempt, session }) =>
      attempt.sessionId === session.id ? null : { code: 'sence-callback-mismatch', reason: 'attempt belongs to another session' },
  },
  {
    // REFERENCE §3: one-time token, deleted (here: marked used) on first use.
    step: 'attempt-unused',
    run: ({ attempt }) =>
      attempt.usedAt === null ? null : { code: 'sence-callback-replayed', reason: 'attempt token already used' },
  },
  {
    // REFERENCE §3/§7.3: pending attempts expire locally (no callback when ClaveÚnica is abandoned).
    step: 'attempt-not-expired',
    run: ({ attempt, now }) =>
      attempt.expiresAt.getTime() > now.getTime() ? null : { code: 'sence-attempt-expired', reason: 'attempt token expired' },
  },
  {
    // RCE M6 §3: start callbacks answer an IniciarSesion, close callbacks a CerrarSesion.
    step: 'session-state',
    run: ({ attempt, session }) =>
      session.state === EXPECTED_STATE[attempt.phase]
        ? null
        : { code: 'sence-callback-replayed', reason: `${attempt.phase} callback for a session in state ${session.state}` },
  },
  {
    // RCE M6 §3: IdSesionAlumno is echoed back in every callback.
    step: 'id-sesion-alumno',
    run: (args) =>
      field(args, 'IdSesionAlumno') === args.session.idSesionAlumno
        ? null
        : { code: 'sence-callback-mismatch', reason: 'IdSesionAlumno differs from the one sent' },
  },
  {
    // RCE M6 §3: RunAlumno echoed back; the case of a K check digit is not specified, so K/k match.
    step: 'run-alumno',
    run: (args) =>
      field(args, 'RunAlumno').toUpperCase() === args.session.sent.RunAlumno.trim().toUpperCase()
        ? null
        : { code: 'sence-callback-mismatch', reason: 'RunAlumno differs from the one sent' },
  },
  {
    // RCE M6 §3: CodSence echoed back (blank for line 1; may arrive as spaces).
    step: 'cod-sence',
    run: (args) =>
      field(args, 'CodSence') === args.session.sent.CodSence.trim()
        ? null
        : { code: 'sence-callback-mismatch', reason: 'CodSence differs from the one sent' },
  },
  {
    // RCE M6 §3: CodigoCurso echoed back.
    step: 'codigo-curso',
    run: (args) =>
      field(args, 'CodigoCurso') === args.session.sent.CodigoCurso.trim()
        ? null
        : { code: 'sence-callback-mismatch', reason: 'CodigoCurso differs from the one sent' },
  },
];

/** RCE M6 §3: GlosaError present → error; a successful start must carry IdSesionSence. */
function decideOutcome(args: VerifyCallbackArgs): VerifyCallbackResult {
  const codes = parseGlosaError(args.fields.GlosaError);
  if (codes.length > 0) return { ok: true, outcome: 'error', codes };
  if (args.kind === 'error') {
    return { ok: false, code: 'sence-callback-invalid', step: 'outcome', reason: 'error callback without GlosaError' };
  }
  if (args.attempt.phase === 'start' && field(args, 'IdSesionSence') === '') {
    return { ok: false, code: 'sence-callback-invalid', step: 'outcome', reason: 'start success without IdSesionSence' };
  }
  return { ok: true, outcome: 'success', codes: [] };
}

export function verifyCallback(args: VerifyCallbackArgs): VerifyCallbackResult {
  for (const check of CHECKS) {
    const failure = check.run(args);
    if (failure) return { ok: false, code: failure.code, step: check.step, reason: failure.reason };
  }
  return decideOutcome(args);
}

/** The step names in the order they run (for documentation and tests). */
export const VERIFY_STEPS: readonly string[] = Object.freeze([...CHECKS.map((c) => c.step), 'outcome']);
