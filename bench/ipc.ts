/** Messages between the benchmark (parent) and its server children, and a free-port helper. */
import { createServer } from 'node:net';

export interface MemorySample {
  rssMb: number;
  heapUsedMb: number;
  /** Cumulative CPU time of the process (user + system), ms. */
  cpuMs: number;
}

export type ChildMessage =
  | {
      type: 'ready';
      url: string;
      lmsUrl: string | null;
      /** Login-initiation fields per simulated learner, as the LMS course page would post them. */
      logins: Array<{ userId: string; loginUrl: string; fields: Record<string, string> }>;
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
  /** Start the V8 CPU profiler (node:inspector) in the system's process. */
  | { type: 'profile-start' }
  /** Stop it and write the .cpuprofile into `dir`; answered with { type: 'profile', file }. */
  | { type: 'profile-stop'; dir: string };

export function memorySample(): MemorySample {
  const m = process.memoryUsage();
  const cpu = process.cpuUsage();
  return { rssMb: m.rss / 2 ** 20, heapUsedMb: m.heapUsed / 2 ** 20, cpuMs: (cpu.user + cpu.system) / 1000 };
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
  process.send?.(message);
}
