/**
 * What every server child of the launch benchmark does besides serving: answers memory probes,
 * profiles itself on request (node:inspector, so the profile covers the launches only, not
 * start-up), and on 'stop' (or when the parent disappears, or on SIGINT/SIGTERM) closes its servers
 * once, cleans up and exits.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { Session } from 'node:inspector';
import path from 'node:path';
import { memorySample, send, type ParentMessage } from './ipc';

export interface ChildHooks {
  /** Prefix of the .cpuprofile file names ("launch" for the tool's process, "simulator"…). */
  profilePrefix: string;
  /** Extra counters sent with each memory probe. */
  stats?: () => Record<string, number>;
  /** Closes servers and stores, removes temp files. */
  close: () => Promise<void>;
}

const HEAP_PROFILE = process.env.BENCH_HEAP_PROF === '1';

export function serveParent(hooks: ChildHooks): void {
  let profiler: Session | null = null;
  const post = (method: string, params?: object) =>
    new Promise<unknown>((resolve, reject) => profiler?.post(method, params ?? {}, (err, result) => (err ? reject(err) : resolve(result))));

  process.on('message', (m: ParentMessage) => {
    if (m.type === 'profile-start') {
      profiler = new Session();
      profiler.connect();
      void post('Profiler.enable')
        .then(() => post('Profiler.setSamplingInterval', { interval: 500 }))
        .then(() => post('Profiler.start'))
        // BENCH_HEAP_PROF=1: also a sampling heap profile (where the measured requests allocate).
        .then(() => (HEAP_PROFILE ? post('HeapProfiler.startSampling', { samplingInterval: 16384, includeObjectsCollectedByMajorGC: true, includeObjectsCollectedByMinorGC: true }) : undefined))
        .then(() => send({ type: 'profiling' }))
        .catch((err: unknown) => send({ type: 'failed', error: String(err) }));
    } else if (m.type === 'profile-stop') {
      const stamp = new Date().toISOString().replace(/[:.]/g, '-');
      void (HEAP_PROFILE ? post('HeapProfiler.stopSampling') : Promise.resolve(null))
        .then((heap) => {
          if (!heap) return;
          mkdirSync(m.dir, { recursive: true });
          writeFileSync(path.join(m.dir, `${hooks.profilePrefix}-${stamp}.heapprofile`), JSON.stringify((heap as { profile: unknown }).profile));
        })
        .then(() => post('Profiler.stop'))
        .then((result) => {
          mkdirSync(m.dir, { recursive: true });
          const file = path.join(m.dir, `${hooks.profilePrefix}-${stamp}.cpuprofile`);
          writeFileSync(file, JSON.stringify((result as { profile: unknown }).profile));
          profiler?.disconnect();
          profiler = null;
          send({ type: 'profile', file });
        })
        .catch((err: unknown) => send({ type: 'failed', error: String(err) }));
    } else if (m.type === 'memory') {
      send({ type: 'memory', memory: memorySample(), ...(hooks.stats ? { stats: hooks.stats() } : {}) });
    } else if (m.type === 'stop') {
      void shutdown();
    }
  });

  let closing: Promise<void> | null = null;
  /** Closes the servers (and the store), exits. Once. */
  function shutdown(): Promise<void> {
    closing ??= hooks
      .close()
      .then(() => {
        send({ type: 'stopped' });
        process.exit(0);
      })
      .catch((err: unknown) => {
        send({ type: 'failed', error: (err as Error).stack ?? String(err) });
        process.exit(1);
      });
    return closing;
  }
  // The parent died or the run was interrupted: do not linger, do not leave temp files behind.
  process.on('disconnect', () => void shutdown());
  process.on('SIGINT', () => void shutdown());
  process.on('SIGTERM', () => void shutdown());
}

/** Reports a start-up failure to the parent and exits. */
export function failStartup(err: unknown): never {
  send({ type: 'failed', error: (err as Error).stack ?? String(err) });
  process.exit(1);
}

/**
 * The benchmarks measure the tool's capacity from one client address: the per-address rate limits
 * (issue #7, src/web/rate-limit.ts) would measure the limiter instead, so they are lifted here.
 */
export const BENCH_RATE_LIMITS = { callbacksPerAddress: 1e9, callbacksPerAttempt: 1e9, loginsPerAddress: 1e9, registrationsPerAddress: 1e9 } as const;
