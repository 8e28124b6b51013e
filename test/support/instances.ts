/**
 * Several tool instances on one store, as `docker compose up --scale tool=N` runs them: each
 * instance is a real process (test/support/tool-process.ts; ltijs is a process singleton), and a
 * small reverse proxy in the test process stands in for Caddy, sending each request to the instance
 * the test chooses (no sticky sessions: any request may land on any instance).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { freePort } from './test-system';

const ROOT = path.resolve(__dirname, '../..');

export interface ToolProcess {
  name: string;
  url: string;
  port: number;
  child: ChildProcess;
  /** Everything the process printed (JSON log lines, READY/STOPPED). */
  output(): string;
  /** Resolves with the exit code (or signal name) once the process ended. */
  exited: Promise<number | string>;
  /** SIGTERM and wait for the exit. */
  stop(): Promise<number | string>;
}

/** Starts one instance with `env` on top of a clean test environment; resolves when it serves. */
export async function startToolProcess(name: string, env: Record<string, string>, timeoutMs = 60_000): Promise<ToolProcess> {
  const port = Number(env.PORT ?? (await freePort()));
  const child = spawn(process.execPath, ['-r', path.join(ROOT, 'test/support/ts-register.js'), path.join(ROOT, 'test/support/tool-process.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      DEMO: 'false',
      ...env,
      PORT: String(port),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} did not start within ${timeoutMs / 1000} s:\n${out}`)), timeoutMs);
    const check = () => {
      if (/^READY /m.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout?.on('data', check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code}) at start:\n${out}`));
    });
  });
  return {
    name,
    url: `http://127.0.0.1:${port}`,
    port,
    child,
    output: () => out,
    exited,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

export interface RoutingProxy {
  url: string;
  /** Chooses the instance for each request (by method and path); default: the first. */
  route: (chooser: (req: http.IncomingMessage) => ToolProcess) => void;
  /** How many requests each instance got, by name. */
  counts: Map<string, number>;
  close(): Promise<void>;
}

/** A plain HTTP reverse proxy on a free loopback port: the PUBLIC_URL every instance shares. */
export async function startRoutingProxy(port: number, first: () => ToolProcess): Promise<RoutingProxy> {
  let chooser: (req: http.IncomingMessage) => ToolProcess = () => first();
  const counts = new Map<string, number>();
  const agent = new http.Agent({ keepAlive: true });
  const server = http.createServer((req, res) => {
    const target = chooser(req);
    counts.set(target.name, (counts.get(target.name) ?? 0) + 1);
    const upstream = http.request(
      { host: '127.0.0.1', port: target.port, method: req.method, path: req.url, headers: req.headers, agent },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', (err) => {
      res.writeHead(502, { 'content-type': 'text/plain' });
      res.end(`proxy: ${target.name} unreachable (${err.message})`);
    });
    req.pipe(upstream);
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return {
    url: `http://localhost:${(server.address() as AddressInfo).port}`,
    route: (c) => {
      chooser = c;
    },
    counts,
    async close() {
      agent.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
