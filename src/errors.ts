/**
 * The one error type of the tool. Every failure a user can cause carries a stable kebab-case `code`,
 * an HTTP `status`, a Spanish `message` safe to show to a learner, and optionally a `staffHint`
 * (what an instructor or LMS admin should change). `expose` is false for 5xx: their details never
 * reach the browser. One error middleware (src/web/error-handler.ts) renders it as HTML or JSON.
 */
export type ErrorCode =
  // configuration and start-up
  | 'config-invalid'
  | 'startup-failure'
  // LTI
  | 'lti-unregistered-platform'
  | 'lti-inactive-platform'
  | 'lti-invalid-token'
  | 'lti-bad-signature'
  | 'lti-wrong-audience'
  | 'lti-token-expired'
  | 'lti-token-not-yet-valid'
  | 'lti-nonce-mismatch'
  | 'lti-replayed-launch'
  | 'lti-missing-state'
  | 'lti-missing-login-parameters'
  | 'lti-missing-ltik'
  | 'lti-session-expired'
  | 'lti-state-mismatch'
  | 'lti-storage-unavailable'
  | 'lti-course-mismatch'
  | 'lti-unsupported-message'
  | 'lti-keyset-unavailable'
  | 'lti-registration-failed'
  // identity and roles
  | 'run-missing'
  | 'run-invalid'
  | 'forbidden-role'
  // course settings and OTECs
  | 'settings-invalid'
  | 'otec-invalid'
  | 'otec-not-found'
  | 'course-not-configured'
  // SENCE flow
  | 'sence-session-already-open'
  | 'sence-no-open-session'
  | 'sence-callback-token'
  | 'sence-callback-replayed'
  | 'sence-callback-mismatch'
  | 'sence-callback-invalid'
  | 'sence-attempt-expired'
  // the coordinator's side (issue #9)
  | 'learner-exempt'
  | 'upload-invalid'
  | 'upload-too-large'
  // request hygiene and abuse (issue #7)
  | 'request-malformed'
  | 'request-too-large'
  | 'unsupported-media-type'
  | 'rate-limited'
  | 'origin-refused'
  | 'registration-invite-required'
  | 'otec-forbidden'
  // the store (MongoDB or SQLite) is unreachable or read-only: 503, shown to the user
  | 'store-unavailable'
  // generic
  | 'bad-request'
  | 'not-found'
  | 'cli-usage'
  | 'internal';

export interface AppErrorOptions {
  staffHint?: string;
  cause?: unknown;
  /** Extra non-secret details for logs and JSON clients (never tokens). */
  details?: Record<string, unknown>;
  /**
   * Where "Abrir en una ventana nueva" goes when the page cannot work inside the LMS frame: the
   * tool's login initiation again, which relaunches it top-level through the LMS.
   */
  relaunchUrl?: string;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly staffHint: string | undefined;
  readonly details: Record<string, unknown> | undefined;
  readonly relaunchUrl: string | undefined;
  /** 4xx errors are the user's to see; 5xx messages are replaced by a generic text. */
  readonly expose: boolean;

  constructor(code: ErrorCode, status: number, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    this.status = status;
    this.staffHint = options.staffHint;
    this.details = options.details;
    this.relaunchUrl = options.relaunchUrl;
    // A store outage is the one 5xx whose message is shown: it tells the user to retry later.
    this.expose = status < 500 || code === 'store-unavailable';
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** Wraps anything thrown into an AppError; unknown errors become a non-exposed 500. */
export function toAppError(value: unknown): AppError {
  if (isAppError(value)) return value;
  return new AppError('internal', 500, 'Ocurrió un error inesperado. Intenta nuevamente en unos minutos.', {
    cause: value,
  });
}
