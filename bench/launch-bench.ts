/**
 * Launch benchmark (`npm run bench`). One run measures, on this machine:
 *   1. a bare Express 5 "hello" server with autocannon (the baseline), and
 *   2. full LTI 1.3 launches of the real system on the embedded SQLite store: POST /lti/login →
 *      GET simulator /auth (RS256-signed id_token) → form_post POST /lti → GET /lti/?ltik=… (panel),
 * both at the same fixed concurrency for the same duration, after a warm-up that is not counted.
 * Servers run in child processes, the load generator here, so client CPU does not hide in the
 * servers' numbers. By default the LMS simulator runs in its own child process and the tool in
 * another with DEMO off (the LMS is another server in production); BENCH_SIMULATOR=inprocess runs
 * tool + simulator + SENCE emulator in one child, as demo mode does. Figures are reported as ratios to the baseline (project standard: speed goes in
 * benchmarks, never in timed tests). Exit code 1 when more than 0.5 % of the launches failed.
 *
 * Environment: BENCH_CONCURRENCY (20), BENCH_SECONDS (10), BENCH_WARMUP_SECONDS (2),
 * BENCH_LEARNERS (2000), BENCH_CPU_PROF=<dir> (write a V8 CPU profile of the tool's process, and of the simulator's, during
 * warm-up + measured launches there; summarise it with `node dist/bench/profile-summary.js <file>`),
 * BENCH_SKIP_BARE=1 (launches only, no baseline: for profiling sessions), BENCH_SIMULATOR
 * (process | inprocess, see above).
 */
import { fork, type ChildProcess } from 'node:child_process';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { freePort, simulatorMode, type ChildMessage, type MemorySample, type ParentMessage } from './ipc';
import { BenchBrowser, connectionPool, locationOf, parsePostForm } from './launch-client';
import type { ConnectionPool } from './raw-http';

const PANEL_TEXT = 'TIEMPO ACREDITADO EN SENCE';
const TARGET_LAUNCHES_PER_SECOND = 300;
const TARGET_P99_MS = 100;
const MAX_ERROR_RATIO = 0.005;

function intEnv(name: string, fallback: number, min: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw.trim() === '') return fallback;
  const v = Number(raw);
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}, got "${raw}"`);
  return v;
}

const CONCURRENCY = intEnv('BENCH_CONCURRENCY', 20, 1);
const SECONDS = intEnv('BENCH_SECONDS', 10, 1);
const WARMUP_SECONDS = intEnv('BENCH_WARMUP_SECONDS', 2, 0);
const LEARNERS = intEnv('BENCH_LEARNERS', 2000, 1);
const CPU_PROF_DIR = process.env.BENCH_CPU_PROF?.trim() || null;
const SKIP_BARE = process.env.BENCH_SKIP_BARE === '1';
const SIMULATOR_MODE = simulatorMode();

// ------------------------------------------------------------------ child processes

type Ready = Extract<ChildMessage, { type: 'ready' }>;

class Child {
  private readonly waiters: Array<{ type: ChildMessage['type']; resolve: (m: ChildMessage) => void; reject: (e: Error) => void }> = [];
  private exited = false;
  private readonly exit: Promise<number | null>;

  constructor(
    readonly name: string,
    readonly proc: ChildProcess,
  ) {
    proc.on('message', (m: ChildMessage) => {
      if (m.type === 'failed') {
        console.error(`[${name}] failed:\n${m.error}`);
        process.exitCode = 1;
        for (const w of this.waiters.splice(0)) w.reject(new Error(`${name} failed`));
        return;
      }
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0]?.resolve(m);
    });
    this.exit = new Promise((resolve) =>
      proc.on('exit', (code) => {
        this.exited = true;
        resolve(code);
      }),
    );
  }

  static start(name: string, script: string, execArgv: string[] = [], env: Record<string, string> = {}): Child {
    const proc = fork(path.join(__dirname, script), [], { execArgv, env: { ...process.env, ...env }, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    return new Child(name, proc);
  }

  next<T extends ChildMessage['type']>(type: T, timeoutMs = 60_000): Promise<Extract<ChildMessage, { type: T }>> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${this.name}: no "${type}" within ${timeoutMs} ms`)), timeoutMs);
      const failed = () => reject(new Error(`${this.name} exited before sending "${type}"`));
      this.proc.once('exit', failed);
      this.waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          this.proc.off('exit', failed);
          resolve(m as Extract<ChildMessage, { type: T }>);
        },
        reject: (e) => {
          clearTimeout(timer);
          this.proc.off('exit', failed);
          reject(e);
        },
      });
    });
  }

  send(m: ParentMessage): void {
    this.proc.send(m);
  }

  async memory(): Promise<{ memory: MemorySample; stats?: Record<string, number> }> {
    const reply = this.next('memory', 10_000);
    this.send({ type: 'memory' });
    return reply;
  }

  /** Asks the child to close its servers and exit; kills it (by pid) after 15 s. */
  async stop(): Promise<void> {
    if (this.exited) return;
    this.send({ type: 'stop' });
    const timer = setTimeout(() => this.proc.kill('SIGKILL'), 15_000);
    await this.exit;
    clearTimeout(timer);
  }
}

// ------------------------------------------------------------------ baseline

async function measureBare(): Promise<{ reqPerSec: number; p50: number; p99: number; errors: number }> {
  const bare = Child.start('bare-server', 'bare-server.js');
  try {
    const ready = await bare.next('ready');
    const run = (duration: number) =>
      autocannon({ url: `${ready.url}/`, connections: CONCURRENCY, pipelining: 1, duration });
    if (WARMUP_SECONDS > 0) await run(WARMUP_SECONDS);
    const result = await run(SECONDS);
    return {
      reqPerSec: result.requests.total / SECONDS,
      p50: result.latency.p50,
      p99: result.latency.p99,
      errors: result.errors + result.timeouts + result.non2xx,
    };
  } finally {
    await bare.stop();
  }
}

// ------------------------------------------------------------------ servers

interface Servers {
  ready: Promise<{ tool: Child; simulator: Child | null; logins: Ready['logins'] }>;
  /** Stops every child that was started, in parallel. */
  stop(): Promise<void>;
}

/**
 * BENCH_SIMULATOR=process: picks the tool's and the simulator's ports here (so each knows the
 * other's URLs before it starts), starts the simulator, then the tool (DEMO off) with the
 * simulator's platform registration. BENCH_SIMULATOR=inprocess: one child runs the demo system.
 * --expose-gc: the memory probes report the heap retained after a full GC (leak check).
 */
function startServers(): Servers {
  const children: Child[] = [];
  const start = (name: string, script: string, env: Record<string, string>) => {
    const c = Child.start(name, script, ['--expose-gc'], { BENCH_LEARNERS: String(LEARNERS), BENCH_SIMULATOR: SIMULATOR_MODE, ...env });
    children.push(c);
    return c;
  };
  const ready = (async () => {
    if (SIMULATOR_MODE === 'inprocess') {
      const system = start('system', 'server-process.js', {});
      const r = await system.next('ready', 120_000);
      return { tool: system, simulator: null, logins: r.logins };
    }
    // Both sockets are open at once while the ports are picked, so the two ports differ.
    const [toolPort, lmsPort] = await Promise.all([freePort(), freePort()]);
    const simulator = start('lms-simulator', 'simulator-process.js', { BENCH_TOOL_PORT: String(toolPort), BENCH_LMS_PORT: String(lmsPort) });
    const sim = await simulator.next('ready', 120_000);
    if (!sim.platform) throw new Error('lms-simulator: no platform registration in "ready"');
    const tool = start('tool', 'server-process.js', { BENCH_TOOL_PORT: String(toolPort), BENCH_PLATFORM: JSON.stringify(sim.platform) });
    const t = await tool.next('ready', 120_000);
    const expectedLogin = `${t.url}/lti/login`;
    if (sim.logins.some((l) => l.loginUrl !== expectedLogin)) {
      throw new Error(`the simulator's login URL ${sim.logins[0]?.loginUrl} is not the tool's ${expectedLogin}`);
    }
    return { tool, simulator, logins: sim.logins };
  })();
  return {
    ready,
    stop: async () => {
      await Promise.all(children.map((c) => c.stop()));
    },
  };
}

interface ProcessFigures {
  tool: MemorySample;
  simulator: MemorySample | null;
  toolStats?: Record<string, number>;
}

async function probeAll(tool: Child, simulator: Child | null): Promise<ProcessFigures> {
  const [t, sim] = await Promise.all([tool.memory(), simulator?.memory()]);
  return { tool: t.memory, simulator: sim?.memory ?? null, toolStats: t.stats };
}

// ------------------------------------------------------------------ launches

interface LaunchResult {
  latenciesMs: number[];
  errors: number;
  errorSamples: Map<string, number>;
  windowMs: number;
  attempted: number;
  /** Launches finished (ok or not) over warm-up + measured window. */
  completedTotal: number;
  /** Per step (login, authorization, form_post, panel): durations of the successful measured launches. */
  stepsMs: number[][];
  /** Connections the load generator opened over the run (tool and simulator together). */
  connectionsOpened: number;
}

const STEPS = ['login', 'authorization', 'form_post+panel'] as const;

/** One full launch; `stepMs` receives each step's duration (login, authorization, form_post answering the panel). */
async function oneLaunch(pool: ConnectionPool, login: Ready['logins'][number], stepMs: number[]): Promise<void> {
  const browser = new BenchBrowser(pool);
  let t = performance.now();
  const lap = () => {
    const now = performance.now();
    stepMs.push(now - t);
    t = now;
  };
  // 1. third-party initiated login (what the LMS course page posts into the iframe)
  const toAuth = await browser.post(login.loginUrl, login.fields);
  lap();
  const authUrl = locationOf(toAuth, 'login');
  // 2. the platform's OIDC authorization endpoint: answers with the auto-posting id_token form
  const auth = await browser.get(authUrl);
  lap();
  const form = auth.status === 200 ? parsePostForm(auth.body, auth.url) : null;
  if (!form || !form.fields.id_token || !form.fields.state) {
    throw new Error(`authorization: no id_token form_post (${auth.status}): ${auth.body.slice(0, 200).replace(/\s+/g, ' ')}`);
  }
  // 3. form_post of id_token + state to the tool, which answers the panel itself (no redirect to
  // ?ltik=, no cookie: issue #6)
  const panel = await browser.post(form.action, form.fields);
  lap();
  if (panel.status !== 200 || !panel.body.includes(PANEL_TEXT)) {
    throw new Error(`panel: ${panel.status} without "${PANEL_TEXT}": ${panel.body.slice(0, 200).replace(/\s+/g, ' ')}`);
  }
}

async function driveLaunches(logins: Ready['logins']): Promise<LaunchResult> {
  const pool = connectionPool();
  const start = performance.now();
  const warmEnd = start + WARMUP_SECONDS * 1000;
  const end = warmEnd + SECONDS * 1000;
  const latenciesMs: number[] = [];
  const errorSamples = new Map<string, number>();
  let errors = 0;
  let attempted = 0;
  let completedTotal = 0;
  let next = 0;
  const stepsMs: number[][] = STEPS.map(() => []);

  const worker = async () => {
    while (performance.now() < end) {
      const login = logins[next++ % logins.length];
      if (!login) throw new Error('no simulated learners');
      const t0 = performance.now();
      let failure: string | null = null;
      const steps: number[] = [];
      try {
        await oneLaunch(pool, login, steps);
      } catch (err) {
        failure = (err as Error).message;
      }
      const t1 = performance.now();
      completedTotal += 1;
      if (t1 < warmEnd || t1 > end) continue; // count completions inside the measured window only
      attempted += 1;
      if (failure === null) {
        latenciesMs.push(t1 - t0);
        steps.forEach((ms, i) => stepsMs[i]?.push(ms));
      } else {
        errors += 1;
        const key = failure.slice(0, 160);
        errorSamples.set(key, (errorSamples.get(key) ?? 0) + 1);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  pool.destroy();
  return { latenciesMs, errors, errorSamples, windowMs: end - warmEnd, attempted, completedTotal, stepsMs, connectionsOpened: pool.opened };
}

function percentile(sorted: number[], q: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))] ?? NaN;
}

// ------------------------------------------------------------------ report

function fmt(n: number, digits = 0): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits }) : 'n/a';
}

function table(rows: Array<[string, string]>): string {
  const w = Math.max(...rows.map(([k]) => k.length));
  return rows.map(([k, v]) => `  ${k.padEnd(w)}  ${v}`).join('\n');
}

async function main(): Promise<void> {
  const started = new Date();
  const loadAtStart = os.loadavg()[0] ?? NaN;
  console.log(
    `launch benchmark: concurrency ${CONCURRENCY}, ${SECONDS} s measured after ${WARMUP_SECONDS} s warm-up, ` +
      `${LEARNERS} simulated learners, node ${process.version}, ${os.cpus().length} cores`,
  );

  const bare = SKIP_BARE ? null : await measureBare();
  if (bare) {
    console.log(`bare Express "hello": ${fmt(bare.reqPerSec)} req/s (autocannon), p50 ${bare.p50} ms, p99 ${bare.p99} ms${bare.errors ? `, ${bare.errors} errors` : ''}`);
  }

  const servers = await startServers();
  let result: LaunchResult;
  let before: ProcessFigures;
  let after: ProcessFigures;
  let stats: Record<string, number> | undefined;
  let clientCpu: NodeJS.CpuUsage;
  try {
    const { tool, simulator, logins } = await servers.ready;
    before = await probeAll(tool, simulator);
    const profiled = [tool, ...(simulator ? [simulator] : [])];
    if (CPU_PROF_DIR) {
      await Promise.all(
        profiled.map((c) => {
          const profiling = c.next('profiling');
          c.send({ type: 'profile-start' });
          return profiling;
        }),
      );
    }
    const clientCpu0 = process.cpuUsage();
    result = await driveLaunches(logins);
    clientCpu = process.cpuUsage(clientCpu0);
    if (CPU_PROF_DIR) {
      for (const c of profiled) {
        const written = c.next('profile');
        c.send({ type: 'profile-stop', dir: path.resolve(CPU_PROF_DIR) });
        console.log(`CPU profile of the ${c.name} process: ${(await written).file}`);
      }
    }
    after = await probeAll(tool, simulator);
    stats = after.toolStats;
  } finally {
    await servers.stop();
  }
  const totalMs = (WARMUP_SECONDS + SECONDS) * 1000;

  // CPU per launch counts warm-up and measured launches alike (the probes bracket both). It moves
  // less than launches/s when something else runs on the machine, but it is not immune to it.
  const allLaunches = result.completedTotal;
  const sorted = [...result.latenciesMs].sort((a, b) => a - b);
  const ok = sorted.length;
  const launchesPerSec = ok / (result.windowMs / 1000);
  const p50 = percentile(sorted, 0.5);
  const p99 = percentile(sorted, 0.99);
  const max = sorted[sorted.length - 1] ?? NaN;
  const reqPerSec = launchesPerSec * STEPS.length;
  const errorRatio = result.attempted === 0 ? 1 : result.errors / result.attempted;
  const targetMet = launchesPerSec >= TARGET_LAUNCHES_PER_SECOND && p99 < TARGET_P99_MS;
  // CPU of each server process over warm-up + measured window (its start-up excluded).
  const toolCpuMs = after.tool.cpuMs - before.tool.cpuMs;
  const toolMainCpuMs = after.tool.mainThreadCpuMs - before.tool.mainThreadCpuMs;
  const simB = before.simulator;
  const simA = after.simulator;
  const simCpuMs = simA && simB ? simA.cpuMs - simB.cpuMs : NaN;
  const simMainCpuMs = simA && simB ? simA.mainThreadCpuMs - simB.mainThreadCpuMs : NaN;
  const separate = SIMULATOR_MODE === 'process';
  // In-process mode the "tool" process is the whole demo system (tool + simulator + SENCE emulator):
  // same labels as before the split, so old figures compare.
  const tp = separate ? 'tool process' : 'system process';
  const tl = separate ? 'tool' : 'system';

  const rows: Array<[string, string]> = [
    [
      'process layout (BENCH_SIMULATOR)',
      separate ? 'process: tool | LMS simulator, 2 child processes' : 'inprocess: tool + LMS simulator + SENCE emulator, 1 child',
    ],
    ['full launches / s', fmt(launchesPerSec, 1)],
    ['launch latency p50 (ms)', fmt(p50, 1)],
    ['launch latency p99 (ms)', fmt(p99, 1)],
    ['launch latency max (ms)', fmt(max, 1)],
    [
      `step p50 (ms): ${STEPS.join(' / ')}`,
      result.stepsMs.map((xs) => fmt(percentile([...xs].sort((a, b) => a - b), 0.5), 2)).join(' / '),
    ],
    [
      `step p99 (ms): ${STEPS.join(' / ')}`,
      result.stepsMs.map((xs) => fmt(percentile([...xs].sort((a, b) => a - b), 0.99), 2)).join(' / '),
    ],
    ['launches ok / errors', `${fmt(ok)} / ${fmt(result.errors)} (${fmt(errorRatio * 100, 2)} %)`],
    [`HTTP req/s during launches (${STEPS.length} per launch)`, fmt(reqPerSec)],
    ['bare Express "hello" req/s (autocannon)', bare ? fmt(bare.reqPerSec) : 'skipped'],
    ['ratio launches/s ÷ bare req/s', bare ? fmt(launchesPerSec / bare.reqPerSec, 3) : 'n/a'],
    ['ratio launch req/s ÷ bare req/s', bare ? fmt(reqPerSec / bare.reqPerSec, 3) : 'n/a'],
    [`${tp} RSS before → after (MB)`, `${fmt(before.tool.rssMb, 1)} → ${fmt(after.tool.rssMb, 1)}`],
    [
      `${tp} heap used before → after (MB)`,
      `${fmt(before.tool.heapUsedMb, 1)} → ${fmt(after.tool.heapUsedMb, 1)} (after full GC: ${fmt(before.tool.retainedHeapMb, 1)} → ${fmt(after.tool.retainedHeapMb, 1)})`,
    ],
    [`${tp} CPU (% of one core)`, fmt((toolCpuMs / totalMs) * 100)],
    [`${tl} CPU per launch, all threads (ms)`, fmt(toolCpuMs / allLaunches, 2)],
    [`${tl} main-thread CPU per launch (ms)`, fmt(toolMainCpuMs / allLaunches, 2)],
    ...(simA && simB
      ? ([
          ['simulator process RSS before → after (MB)', `${fmt(simB.rssMb, 1)} → ${fmt(simA.rssMb, 1)}`],
          [
            'simulator heap used before → after (MB)',
            `${fmt(simB.heapUsedMb, 1)} → ${fmt(simA.heapUsedMb, 1)} (after full GC: ${fmt(simB.retainedHeapMb, 1)} → ${fmt(simA.retainedHeapMb, 1)})`,
          ],
          ['simulator process CPU (% of one core)', fmt((simCpuMs / totalMs) * 100)],
          ['simulator CPU per launch, all threads / main thread (ms)', `${fmt(simCpuMs / allLaunches, 2)} / ${fmt(simMainCpuMs / allLaunches, 2)}`],
          ['tool + simulator CPU per launch, all threads (ms)', fmt((toolCpuMs + simCpuMs) / allLaunches, 2)],
        ] as Array<[string, string]>)
      : []),
    ['machine load average (1 min) at start', fmt(loadAtStart, 2)],
    ['load generator CPU (% of one core)', fmt(((clientCpu.user + clientCpu.system) / 1000 / totalMs) * 100)],
    ['load generator CPU per launch (ms)', fmt((clientCpu.user + clientCpu.system) / 1000 / Math.max(1, result.completedTotal), 2)],
    ['connections opened by the load generator (tool + simulator)', fmt(result.connectionsOpened)],
    ['platform JWKS fetches by the tool', stats?.jwksFetches === undefined ? 'n/a' : fmt(stats.jwksFetches)],
    [`target (≥ ${TARGET_LAUNCHES_PER_SECOND}/s, p99 < ${TARGET_P99_MS} ms)`, targetMet ? 'MET' : 'NOT MET'],
  ];
  console.log(`\nresults (${started.toISOString()}, concurrency ${CONCURRENCY}, ${SECONDS} s):\n${table(rows)}`);

  if (result.errorSamples.size > 0) {
    console.log('\nerrors (first 160 characters, count):');
    for (const [msg, n] of [...result.errorSamples].sort((a, b) => b[1] - a[1]).slice(0, 10)) console.log(`  ${n} × ${msg}`);
  }
  if (errorRatio > MAX_ERROR_RATIO) {
    console.error(`\nFAILED: ${fmt(errorRatio * 100, 2)} % of the launches failed (more than ${MAX_ERROR_RATIO * 100} %)`);
    process.exitCode = 1;
  }
  // Like the hot-path benchmarks: a missed target fails the run (npm run bench exits 1).
  if (!targetMet) process.exitCode = 1;
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
