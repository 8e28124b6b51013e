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
  | { type: 'stopped'; forced: boolean; failed?: string }
  /** Its list of active platforms was read again (answer to 'refresh-platforms'). */
  | { type: 'platforms-refreshed' };

/** Primary → worker. */
export type PrimaryMessage =
  /** Stop accepting, finish what is in flight within `graceMs`, close the stores, exit 0. */
  | { type: 'stop'; graceMs: number; reason: 'replaced' | 'shutdown' }
  /**
   * Read the active platforms again now (issue #20): the first worker registered the demo platform
   * while the others were starting; they would refuse its launches' ltiks (and leave its origin out
   * of their CSP) until their periodic refresh, up to a minute later.
   */
  | { type: 'refresh-platforms' };

/** The environment variable that hands the demo LMS's platform (JSON) to the first worker only. */
export const DEMO_PLATFORM_ENV = 'ASISTENCIA_DEMO_PLATFORM';

export function isWorkerMessage(m: unknown): m is WorkerMessage {
  return typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';
}

export function isPrimaryMessage(m: unknown): m is PrimaryMessage {
  const type = typeof m === 'object' && m !== null ? (m as { type?: unknown }).type : undefined;
  return type === 'stop' || type === 'refresh-platforms';
}
