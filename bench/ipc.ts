/** Messages between the benchmark (parent) and its server children, and a free-port helper. */
import { createServer } from 'node:net';
import { readFileSync } from 'node:fs';
import type { RegisteredPlatform } from '../src/simulators/lms';

/**
 * Where the LMS simulator runs (BENCH_SIMULATOR): 'process' (default) = its own child process, the
 * tool in another with DEMO off, as in production where the LMS is another server; 'inprocess' =
 * tool + simulator + SENCE emulator in one process (startSystem in demo mode), as `npm start` does.
 */
export type SimulatorMode = 'process' | 'inprocess';

export function simulatorMode(env: Record<string, string | undefined> = process.env): SimulatorMode {
  const raw = (env.BENCH_SIMULATOR ?? '').trim().toLowerCase();
  if (raw === '' || raw === 'process' || raw === 'separate') return 'process';
  if (raw === 'inprocess' || raw === 'in-process') return 'inprocess';
  throw new Error(`BENCH_SIMULATOR must be "process" (default) or "inprocess", got "${env.BENCH_SIMULATOR}"`);
}

export interface MemorySample {
  rssMb: number;
  heapUsedMb: number;
  /** Heap still in use after a full GC (what is really retained); NaN unless run with --expose-gc. */
  retainedHeapMb: number;
  /** Cumulative CPU time of the process (user + system, all threads), ms. */
  cpuMs: number;
  /** Cumulative CPU time of the main thread (the event loop) alone, ms; NaN where /proc is missing. */
  mainThreadCpuMs: number;
}

export type ChildMessage =
  | {
      type: 'ready';
      /** The child's own server: the tool (system child) or the LMS simulator (simulator child). */
      url: string;
      lmsUrl: string | null;
      /**
       * Login-initiation fields per simulated learner, as the LMS course page would post them (sent
       * by whichever process runs the simulator; empty from a tool-only child).
       */
      logins: Array<{ userId: string; loginUrl: string; fields: Record<string, string> }>;
      /** Simulator child: its registration, for the tool's child to register. */
      platform?: RegisteredPlatform;
      /** Hot-path child: one prepared SENCE start callback per attempt (path under the tool, form body). */
      attempts?: Array<{ path: string; body: string }>;
      /** Hot-path child: which store it runs on. */
      store?: 'sqlite' | 'mongo';
      memory: MemorySample;
    }
  | { type: 'memory'; memory: MemorySample; stats?: Record<string, number> }
  | { type: 'profiling' }
  | { type: 'profile'; file: string }
  | { type: 'stopped' }
  | { type: 'failed'; error: string };

export type ParentMessage =
  | { type: 'memory' }
  | { type: 'stop' }
  /** Start the V8 CPU profiler (node:inspector) in the child's process. */
  | { type: 'profile-start' }
  /** Stop it and write the .cpuprofile into `dir`; answered with { type: 'profile', file }. */
  | { type: 'profile-stop'; dir: string };

export function memorySample(): MemorySample {
  // CPU first: the full GC below must not count as work done by the launches.
  const cpu = process.cpuUsage();
  const mainCpu = mainThreadCpuMs();
  const m = process.memoryUsage();
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  return {
    rssMb: m.rss / 2 ** 20,
    heapUsedMb: m.heapUsed / 2 ** 20,
    retainedHeapMb: gc ? process.memoryUsage().heapUsed / 2 ** 20 : NaN,
    cpuMs: (cpu.user + cpu.system) / 1000,
    mainThreadCpuMs: mainCpu,
  };
}

/** utime + stime of the main thread from /proc (Linux, USER_HZ = 100: ticks of 10 ms), ms. */
function mainThreadCpuMs(): number {
  try {
    const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // fields[0] is field 3 (state): utime and stime are fields 14 and 15.
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export function send(message: ChildMessage): void {
  if (process.connected) process.send?.(message);
}
