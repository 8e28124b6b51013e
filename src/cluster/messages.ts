/** What the primary and its workers tell each other over the cluster's IPC channel (src/cluster/). */

/** Worker → primary. */
export type WorkerMessage =
  /** Serving: its server is listening (on the cluster's shared handle). */
  | { type: 'ready'; storeKind: 'sqlite' | 'mongo' }
  /** Start-up failed: the text after "No se pudo iniciar: " (it exits right after). */
  | { type: 'startup-failed'; message: string }
  /** An uncaught exception: it keeps serving until its replacement listens, then retires. */
  | { type: 'dying' }
  /** Its graceful stop ended (`forced`: requests past the grace period were cut). */
  | { type: 'stopped'; forced: boolean; failed?: string };

/** Primary → worker. */
export type PrimaryMessage =
  /** Stop accepting, finish what is in flight within `graceMs`, close the stores, exit 0. */
  { type: 'stop'; graceMs: number; reason: 'replaced' | 'shutdown' };

/** The environment variable that hands the demo LMS's platform (JSON) to the first worker only. */
export const DEMO_PLATFORM_ENV = 'ASISTENCIA_DEMO_PLATFORM';

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}

export function isPrimaryMessage(m: unknown): m is PrimaryMessage {
  return typeof m === 'object' && m !== null && (m as { type?: unknown }).type === 'stop';
}
