/**
 * Starts FerretDB (a server speaking MongoDB's wire protocol, on its SQLite backend in a temp
 * directory) for local test runs and for the tests that stop and restart the store. Where the
 * binary is looked for, in order: FERRETDB_BIN, the cache `scripts/build-ferretdb.sh` builds into
 * (~/.cache/asistencia-sence/ferretdb-v1.24.2/ferretdb), `ferretdb` on PATH.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { freeDatabasePort } from './ports';

export const FERRETDB_VERSION = 'v1.24.2';

/** Where scripts/build-ferretdb.sh leaves the binary. */
export function cachedFerretDbPath(): string {
  return path.join(os.homedir(), '.cache', 'asistencia-sence', `ferretdb-${FERRETDB_VERSION}`, 'ferretdb');
}

/** The FerretDB binary to use, or null when none is installed. */
export function findFerretDb(): string | null {
  const candidates = [process.env.FERRETDB_BIN, cachedFerretDbPath()].filter((p): p is string => Boolean(p));
  for (const candidate of candidates) {
    if (fs.existsSync(candidate)) return candidate;
  }
  const which = spawnSync('sh', ['-c', 'command -v ferretdb'], { encoding: 'utf8' });
  const onPath = which.status === 0 ? which.stdout.trim() : '';
  return onPath || null;
}

export const FERRETDB_MISSING =
  'FerretDB is not installed: build it with `scripts/build-ferretdb.sh` (needs Go; it caches the binary in ' +
  '~/.cache/asistencia-sence), set FERRETDB_BIN, or set MONGODB_URI to a running MongoDB.';

export interface FerretDb {
  /** mongodb://127.0.0.1:PORT/ (no database: callers add one). */
  uri: string;
  port: number;
  dir: string;
  /** Stops the server (SIGTERM, then SIGKILL after 5 s); its data stays in `dir`. */
  stop(): Promise<void>;
  /** Ends the server at once (SIGKILL: a crash, nothing flushed); its data stays in `dir`. */
  kill(): Promise<void>;
  /** Starts it again on the same port and data directory. */
  restart(): Promise<void>;
  /** Every launch of this server so far, oldest first: its output (tail) and how it ended. */
  launches(): readonly FerretDbLaunch[];
  /** The launches, one paragraph each (for a failure message). */
  describeLaunches(): string;
  /**
   * Null when a MongoDB client of its own (a new connection, not the pool of the code under test)
   * gets an answer to `ping` within `timeoutMs`; otherwise why not.
   */
  ping(timeoutMs?: number): Promise<string | null>;
  /**
   * After a restart: while a new client's `ping` gets no answer within `pingTimeoutMs`, kills and
   * starts FerretDB again (at most `restarts` times). Resolves with how many extra restarts it took;
   * rejects, with every launch's output, if it never answers. This is about FerretDB's own recovery,
   * not the code under test: callers count and report the extra restarts.
   */
  ensureServing(options?: { pingTimeoutMs?: number; restarts?: number }): Promise<number>;
  /** Stops it and removes its data directory. */
  destroy(): Promise<void>;
}

/** One start of the FerretDB process: what it printed and how it ended. */
export interface FerretDbLaunch {
  /** 1 for the first start, 2 for the first restart, … */
  n: number;
  pid: number | undefined;
  startedAt: Date;
  /** Null while it runs. */
  ended: { at: Date; code: number | null; signal: NodeJS.Signals | null } | null;
  /** Its stdout and stderr, interleaved, the last 8,000 characters. */
  output: string;
}

function describeLaunch(l: FerretDbLaunch): string {
  const end = l.ended
    ? `ended ${l.ended.at.toISOString()} (code ${l.ended.code}, signal ${l.ended.signal})`
    : 'still running';
  const output = l.output.trim() ? l.output.trimEnd() : '(no output)';
  return `launch ${l.n}, pid ${l.pid}, started ${l.startedAt.toISOString()}, ${end}:\n${output}`;
}

/** Resolves once a TCP connection to 127.0.0.1:port succeeds (FerretDB then answers the handshake). */
async function waitForPort(port: number, child: ChildProcess, output: () => string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`FerretDB exited with code ${child.exitCode} at start:\n${output()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port }, () => {
        socket.destroy();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`FerretDB did not accept connections on 127.0.0.1:${port} within ${timeoutMs / 1000} s:\n${output()}`);
}

export async function startFerretDb(options: { binary?: string } = {}): Promise<FerretDb> {
  const binary = options.binary ?? findFerretDb();
  if (!binary) throw new Error(FERRETDB_MISSING);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asistencia-ferretdb-'));
  fs.mkdirSync(path.join(dir, 'data'));
  // Outside the ephemeral range: a restart binds the same port again (test/support/ports.ts).
  const port = await freeDatabasePort();
  let child: ChildProcess | null = null;
  const history: FerretDbLaunch[] = [];

  const launch = async (): Promise<void> => {
    const proc = spawn(
      binary,
      [
        '--handler=sqlite',
        `--sqlite-url=file:${path.join(dir, 'data')}/`,
        `--state-dir=${dir}`,
        `--listen-addr=127.0.0.1:${port}`,
        '--debug-addr=-',
        '--telemetry=disable',
        '--log-level=warn',
      ],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    const record: FerretDbLaunch = { n: history.length + 1, pid: proc.pid, startedAt: new Date(), ended: null, output: '' };
    history.push(record);
    const keep = (chunk: Buffer) => {
      record.output = (record.output + chunk.toString()).slice(-8000);
    };
    proc.stdout?.on('data', keep);
    proc.stderr?.on('data', keep);
    proc.once('exit', (code, signal) => {
      record.ended = { at: new Date(), code, signal };
    });
    child = proc;
    await waitForPort(port, proc, () => record.output);
  };

  const stop = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(() => proc.kill('SIGKILL'), 5000);
      proc.once('exit', () => {
        clearTimeout(timer);
        resolve();
      });
      proc.kill('SIGTERM');
    });
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = null;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      proc.once('exit', () => resolve());
      proc.kill('SIGKILL');
    });
  };

  const ping = (timeoutMs = 3000) => pingMongo(`mongodb://127.0.0.1:${port}/`, timeoutMs);

  await launch();
  return {
    uri: `mongodb://127.0.0.1:${port}/`,
    port,
    dir,
    stop,
    kill,
    restart: launch,
    launches: () => history,
    describeLaunches: () => history.map(describeLaunch).join('\n'),
    ping,
    async ensureServing({ pingTimeoutMs = 10_000, restarts = 3 } = {}) {
      for (let extra = 0; ; extra += 1) {
        const failure = await ping(pingTimeoutMs);
        if (failure === null) return extra;
        if (extra >= restarts) {
          throw new Error(`FerretDB did not answer ping after ${extra} extra restarts (last: ${failure}):\n${history.map(describeLaunch).join('\n')}`);
        }
        await kill();
        await launch();
      }
    },
    async destroy() {
      await stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Null when the server at `uri` answers `ping` on a new connection within `timeoutMs`; else why not. */
export async function pingMongo(uri: string, timeoutMs: number): Promise<string | null> {
  const { mongo } = await import('mongoose'); // loaded only by the tests that ping
  const client = new mongo.MongoClient(uri, {
    directConnection: true,
    serverSelectionTimeoutMS: timeoutMs,
    connectTimeoutMS: timeoutMs,
    socketTimeoutMS: timeoutMs,
    maxPoolSize: 1,
  });
  try {
    await client.db('admin').command({ ping: 1 });
    return null;
  } catch (error) {
    return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  } finally {
    await client.close(true).catch(() => undefined);
  }
}

/** The URI with its database set to `name` (query options kept). */
export function withDatabase(uri: string, name: string): string {
  const match = /^(mongodb(?:\+srv)?:\/\/[^/?]+)\/?([^?]*)(\?.*)?$/.exec(uri.trim());
  if (!match) throw new Error('MONGODB_URI is not a mongodb:// URI');
  return `${match[1]}/${name}${match[3] ?? ''}`;
}
