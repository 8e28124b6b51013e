/**
 * `npm start`'s primary process (issue #19 §1): it serves nothing itself; it keeps WEB_CONCURRENCY
 * workers (src/cluster/worker.ts) serving the tool on one port (node:cluster, round robin), so a
 * process that dies for a reason nobody foresaw does not take the service with it. In demo mode it
 * also runs the LMS simulator and the SENCE emulator, once, and hands the demo platform to its
 * first worker only, which registers and seeds it (no race between workers).
 *
 * - A worker that reports an uncaught exception gets a replacement (at most one in flight per slot);
 *   once the replacement listens, the old one stops gracefully. The listening handle never loses its
 *   last worker, so no connection is refused meanwhile.
 * - A worker that exits unexpectedly (SIGKILL, process.exit) is forked again at once. Workers that
 *   fail to start are retried with a back-off (0.5 s doubling, at most 30 s); when none serves and
 *   five starts in a row failed, the primary exits with the start-up error instead of fork-looping.
 *   A failure of the very first start is the start-up error at once, as before (busy port, store).
 * - SIGTERM / SIGINT: every worker stops accepting, finishes what is in flight within
 *   SHUTDOWN_TIMEOUT_SECONDS and closes its stores; then the simulators close and the primary exits 0.
 *   A signal during start-up is kept and acted on once start-up ends.
 */
import cluster, { type Worker } from 'node:cluster';
import { loadConfig, type Config } from '../config';
import { AppError } from '../errors';
import type { LmsSimulator } from '../simulators/lms';
import type { SenceEmulator } from '../simulators/sence';
import { consoleLogger, type Logger } from '../web/logger';
import { DEMO_PLATFORM_ENV, isWorkerMessage, type PrimaryMessage, type WorkerMessage } from './messages';
import { shutdownGraceMs, webConcurrency } from './settings';

/** Starts in a row that may fail (with no worker serving) before the primary gives up. */
export const MAX_FAILED_STARTS = 5;
const BACKOFF_FIRST_MS = 500;
const BACKOFF_MAX_MS = 30_000;
/** Past the grace period, how long a stopping worker may take to close its stores before it is killed. */
const STOP_MARGIN_MS = 15_000;

export function backoffMs(failedStarts: number): number {
  if (failedStarts <= 0) return 0;
  return Math.min(BACKOFF_MAX_MS, BACKOFF_FIRST_MS * 2 ** (failedStarts - 1));
}

interface Slot {
  index: number;
  current: Worker | null;
  replacement: Worker | null;
  retry: NodeJS.Timeout | null;
}

class StartFailed extends Error {}

/** Resolves when `worker` reports it listens; rejects with its start-up error (or its early exit). */
function whenReady(worker: Worker): Promise<'sqlite' | 'mongo'> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: unknown) => {
      if (!isWorkerMessage(m)) return;
      if (m.type === 'ready') {
        cleanup();
        resolve(m.storeKind);
      } else if (m.type === 'startup-failed') {
        cleanup();
        reject(new StartFailed(m.message));
      }
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new StartFailed(`un proceso de trabajo terminó al iniciar (${signal ?? `código ${code}`}).`));
    };
    const cleanup = () => {
      worker.off('message', onMessage);
      worker.off('exit', onExit);
    };
    worker.on('message', onMessage);
    worker.on('exit', onExit);
  });
}

function tell(worker: Worker, message: PrimaryMessage): void {
  try {
    if (worker.isConnected()) worker.send(message);
  } catch {
    // Its channel closed: it is exiting anyway ('exit' follows).
  }
}

class Supervisor {
  private readonly slots: Slot[];
  private stopping = false;
  /** During the first start a worker's exit is the start-up error, not something to replace. */
  private starting = false;
  private failedStarts = 0;
  private lastStartError = '';
  private forced = false;
  private stopFailed: string | null = null;
  private readonly retiring = new Set<Worker>();
  private allExited: (() => void) | null = null;

  constructor(
    size: number,
    private readonly graceMs: number,
    private readonly logger: Logger,
    private readonly onFatal: (message: string) => void,
  ) {
    this.slots = Array.from({ length: size }, (_, index) => ({ index, current: null, replacement: null, retry: null }));
  }

  private fork(slot: Slot, env: Record<string, string> = {}): Worker {
    const worker = cluster.fork(env);
    worker.on('error', () => undefined); // a send on a closed channel; 'exit' tells the rest
    worker.on('message', (m: unknown) => {
      if (isWorkerMessage(m)) this.onMessage(slot, worker, m);
    });
    worker.on('exit', (code, signal) => this.onExit(slot, worker, code, signal));
    return worker;
  }

  /**
   * The first start: every slot at once (slot 0 alone registers and seeds the demo platform, so
   * nothing races); start-up ends when all serve, and any failure is the start-up error. Started
   * together, `npm start` takes about as long as with one process, and a SIGTERM after the
   * "escuchando" line never finds a worker still starting.
   */
  async start(firstEnv: Record<string, string>): Promise<'sqlite' | 'mongo'> {
    this.starting = true;
    const ready = this.slots.map((slot) => {
      const w = this.fork(slot, slot.index === 0 ? firstEnv : {});
      slot.current = w;
      return whenReady(w);
    });
    // Every start settles before the outcome is known: a failed start does not leave others running unseen.
    const outcomes = await Promise.allSettled(ready);
    this.starting = false;
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
    if (failed) throw failed.reason;
    return (outcomes[0] as PromiseFulfilledResult<'sqlite' | 'mongo'>).value;
  }

  private live(): Worker[] {
    return Object.values(cluster.workers ?? {}).filter((w): w is Worker => w !== undefined && !w.isDead());
  }

  private onMessage(slot: Slot, worker: Worker, m: WorkerMessage): void {
    if (m.type === 'stopped') {
      if (m.forced) this.forced = true;
      if (m.failed) this.stopFailed = m.failed;
      return;
    }
    if (m.type === 'ready' && this.stopping) {
      tell(worker, { type: 'stop', graceMs: this.graceMs, reason: 'shutdown' });
      return;
    }
    if (m.type === 'dying' && !this.stopping && slot.current === worker) {
      this.logger.log('warn', 'worker had an uncaught exception: starting its replacement', { slot: slot.index, worker: worker.process.pid });
      this.replace(slot, 0);
    }
  }

  /** At most one replacement in flight per slot; the old worker leaves once the new one listens. */
  private replace(slot: Slot, delayMs: number): void {
    if (this.stopping || slot.replacement || slot.retry) return;
    const go = () => {
      slot.retry = null;
      if (this.stopping) return;
      const w = this.fork(slot);
      slot.replacement = w;
      whenReady(w).then(
        () => {
          slot.replacement = null;
          this.failedStarts = 0;
          const old = slot.current;
          slot.current = w;
          if (this.stopping) return; // onMessage('ready') already told it to stop
          if (old && !old.isDead()) {
            this.retiring.add(old);
            tell(old, { type: 'stop', graceMs: this.graceMs, reason: 'replaced' });
          }
        },
        (err: unknown) => {
          slot.replacement = null;
          if (this.stopping) return;
          this.failedStarts += 1;
          this.lastStartError = err instanceof Error ? err.message : String(err);
          this.logger.log('error', 'a worker failed to start', { slot: slot.index, failedStarts: this.failedStarts, error: this.lastStartError });
          const serving = this.slots.some((s) => s.current && !s.current.isDead());
          if (!serving && this.failedStarts >= MAX_FAILED_STARTS) {
            this.onFatal(this.lastStartError);
            return;
          }
          this.replace(slot, backoffMs(this.failedStarts));
        },
      );
    };
    if (delayMs > 0) slot.retry = setTimeout(go, delayMs);
    else go();
  }

  private onExit(slot: Slot, worker: Worker, code: number | null, signal: string | null): void {
    if (this.stopping) {
      if (this.live().length === 0) this.allExited?.();
      return;
    }
    if (this.retiring.delete(worker)) return;
    if (slot.current === worker && !this.starting) {
      slot.current = null;
      this.logger.log('error', 'worker exited unexpectedly: forking another', { slot: slot.index, worker: worker.process.pid, code, signal });
      // A replacement already starting takes its place; otherwise one at once (after a back-off when starts are failing).
      this.replace(slot, backoffMs(this.failedStarts));
    }
  }

  /**
   * Every serving worker reads the active platforms again (after the first one registered the demo
   * platform); resolves when all answered, or after `timeoutMs` (the periodic refresh then catches up).
   */
  async refreshPlatforms(timeoutMs = 10_000): Promise<void> {
    const workers = this.slots.map((s) => s.current).filter((w): w is Worker => w !== null && !w.isDead());
    await Promise.all(
      workers.map(
        (w) =>
          new Promise<void>((resolve) => {
            const done = () => {
              clearTimeout(timer);
              w.off('message', onMessage);
              w.off('exit', done);
              resolve();
            };
            const onMessage = (m: unknown) => {
              if (isWorkerMessage(m) && m.type === 'platforms-refreshed') done();
            };
            const timer = setTimeout(done, timeoutMs);
            w.on('message', onMessage);
            w.once('exit', done);
            tell(w, { type: 'refresh-platforms' });
          }),
      ),
    );
  }

  /** Every worker stops gracefully; resolves when all have exited ({ forced } if requests were cut). */
  async shutdown(): Promise<{ forced: boolean; failed: string | null }> {
    this.stopping = true;
    for (const slot of this.slots) {
      if (slot.retry) clearTimeout(slot.retry);
      slot.retry = null;
    }
    const exited = new Promise<void>((resolve) => {
      this.allExited = resolve;
    });
    for (const w of this.live()) tell(w, { type: 'stop', graceMs: this.graceMs, reason: 'shutdown' });
    if (this.live().length > 0) {
      const killer = setTimeout(() => {
        for (const w of this.live()) w.process.kill('SIGKILL');
      }, this.graceMs + STOP_MARGIN_MS);
      killer.unref();
      await exited;
      clearTimeout(killer);
    }
    return { forced: this.forced, failed: this.stopFailed };
  }
}

function printDevWarning(config: Readonly<Config>): void {
  if (!config.devDefaults.length) return;
  console.warn(
    [
      '',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      `!! DESARROLLO: se usan valores por defecto inseguros: ${config.devDefaults.join(', ')}.`,
      '!! No uses esto en producción (NODE_ENV=production los rechaza).',
      '!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!',
      '',
    ].join('\n'),
  );
}

function processes(n: number): string {
  return n === 1 ? '1 proceso' : `${n} procesos`;
}

/** HOST names this machine only (the default while a demo or development keys are in use, config.ts). */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host);
}

export async function runPrimary(): Promise<void> {
  // SIGTERM and SIGINT are ours from the first moment: one that arrives while the tool is still
  // starting is kept and acted on once start-up ends, so the stores are closed properly.
  let stopSignal: string | null = null;
  let supervisor: Supervisor | null = null;
  let lms: LmsSimulator | null = null;
  let sence: SenceEmulator | null = null;
  let started = false;

  const closeSimulators = async () => {
    await lms?.close().catch(() => undefined);
    await sence?.close().catch(() => undefined);
  };
  const shutDown = (signal: string, graceMs: number) => {
    console.log(`${signal}: no se aceptan conexiones nuevas; terminando las solicitudes en curso (máximo ${graceMs / 1000} s)…`);
    void (async () => {
      const { forced, failed } = supervisor ? await supervisor.shutdown() : { forced: false, failed: null };
      await closeSimulators();
      if (failed) {
        console.error(`No se pudo cerrar ordenadamente: ${failed}`);
        process.exit(1);
      }
      console.log(forced ? 'Cerrado (se cortaron solicitudes que superaron el plazo).' : 'Cerrado.');
      process.exit(0);
    })();
  };
  let graceMs = 10_000;
  const stop = (signal: string) => {
    if (stopSignal) return;
    stopSignal = signal;
    if (started) shutDown(signal, graceMs);
    else console.log(`${signal} durante el inicio: se cerrará en cuanto termine de iniciar.`);
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const config = loadConfig(process.env);
  graceMs = shutdownGraceMs(process.env.SHUTDOWN_TIMEOUT_SECONDS);
  const size = webConcurrency(process.env.WEB_CONCURRENCY);
  printDevWarning(config);

  const logger = consoleLogger;
  const fatal = (message: string) => {
    console.error(`No se pudo iniciar: ${message}`);
    void (async () => {
      if (supervisor) await supervisor.shutdown();
      await closeSimulators();
      process.exit(1);
    })();
  };
  supervisor = new Supervisor(size, graceMs, logger, fatal);
  let storeKind: 'sqlite' | 'mongo';
  try {
    // Loaded only in demo mode: the primary of a production start keeps none of the tool's modules
    // (ltijs, the stores, Express) in memory; its workers do.
    if (config.demo) {
      ({ lms, sence } = await (await import('../system')).startDemoSimulators(config));
      console.log(`Iniciando ${processes(size)}… el simulador de LMS estará en ${lms.url} (espera la línea «Abre …»).`);
    }
    storeKind = await supervisor.start(lms ? { [DEMO_PLATFORM_ENV]: JSON.stringify(lms.platform) } : {});
    if (lms) await supervisor.refreshPlatforms();
  } catch (err) {
    await supervisor.shutdown();
    await closeSimulators();
    if (err instanceof StartFailed) throw new AppError('startup-failure', 500, err.message);
    throw err;
  }
  started = true;
  if (stopSignal) {
    shutDown(stopSignal, graceMs);
    return;
  }
  const store = storeKind === 'mongo' ? 'MongoDB' : `SQLite (${config.sqliteFile})`;
  // Printed once every worker serves (supervisor.start resolves then): the last block on the screen.
  console.log(`Asistencia SENCE escuchando en ${config.publicUrl} · ${processes(size)} · almacenamiento: ${store}`);
  if (isLoopback(config.host)) console.log(`Escuchando solo en ${config.host} (HOST=0.0.0.0 para abrirlo a la red)`);
  if (lms && sence) {
    console.log('');
    console.log(`  Abre ${lms.url}  ← simulador de LMS: entra como «Ana Pérez» para ver el panel`);
    console.log(`  Emulador de SENCE: ${sence.url} (no es SENCE; nada se envía a SENCE)`);
    console.log(`  Valores para administradores de LMS: ${config.publicUrl}/setup`);
    console.log('');
  }
}
