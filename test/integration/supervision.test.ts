/**
 * Issue #19 §1, third point: if a process dies anyway, for a reason nobody foresaw, the service must
 * not go down with it. `npm start`'s entry (src/main.ts) runs a primary that keeps WEB_CONCURRENCY
 * workers serving (src/cluster/). FAULT_INJECTION=crash gives the tool a route that throws an
 * uncaught exception in a setImmediate (src/web/routes/fault-injection-routes.ts): sent 10 times a
 * second for 30 s while a client polls /healthz 20 times a second, at least 99 % of the health
 * checks must be answered, and a real page is served at the end.
 *
 * SQLite pass only (not in jest.mongo.config.js): what is tested is the process supervision, which
 * does not depend on the store, and 30 s of workers starting again and again on FerretDB would only
 * add load; the store's own behaviour across a process death is tested on both stores by
 * shutdown.test.ts (SIGKILL, then a restart).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { freePort } from '../support/test-system';

jest.setTimeout(240_000);

const ROOT = path.resolve(__dirname, '../..');
const LOAD_SECONDS = 30;

interface Main {
  child: ChildProcess;
  port: number;
  output(): string;
  exited: Promise<number | string | null>;
}

async function startMain(dir: string, env: Record<string, string>, until = 'Asistencia SENCE escuchando en'): Promise<Main> {
  const [port, lmsPort, sencePort] = [await freePort(), await freePort(), await freePort()];
  const child = spawn(process.execPath, ['-r', path.join(ROOT, 'test/support/ts-register.js'), path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      NODE_ENV: 'test',
      HOST: '127.0.0.1',
      PORT: String(port),
      LMS_SIMULATOR_PORT: String(lmsPort),
      SENCE_EMULATOR_PORT: String(sencePort),
      SQLITE_FILE: path.join(dir, 'supervision.sqlite'),
      DEMO: 'true',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<number | string | null>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal)));
  const started = Date.now();
  while (!out.includes(until)) {
    if (child.exitCode !== null) {
      if (until === 'No se pudo iniciar') break;
      throw new Error(`main.ts exited at start:\n${out}`);
    }
    if (Date.now() - started > 90_000) throw new Error(`main.ts did not start:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, port, output: () => out, exited };
}

/**
 * One GET on a connection of its own (agent: false), as an orchestrator's or a proxy's health probe
 * opens one per check; resolves with the status, or 0 when there was no answer within 5 s.
 */
function probe(port: number, pathName: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, path: pathName, method, agent: false, timeout: 5000 }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      res.on('error', () => resolve({ status: 0, body }));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve({ status: 0, body: '' }));
    req.end();
  });
}

describe('a request that kills the process it lands on, 10 times a second for 30 s (npm start, WEB_CONCURRENCY=2)', () => {
  let dir: string;
  let main: Main | null = null;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asistencia-supervision-'));
  });
  afterAll(async () => {
    if (main && main.child.exitCode === null && main.child.signalCode === null) {
      main.child.kill('SIGKILL');
      await main.exited;
    }
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('leaves at least 99 % of the health checks answered, and the service serves a real page at the end', async () => {
    main = await startMain(dir, { WEB_CONCURRENCY: '2', FAULT_INJECTION: 'crash' });
    const m = main;
    const checks: Array<Promise<number>> = [];
    const crashes: Array<Promise<number>> = [];
    const started = Date.now();
    // Paced by the clock, not by setInterval alone: under load this process's timers fire late, and
    // the requests due meanwhile are sent at once, so the rates are 20/s and 10/s over the 30 s.
    const pace = setInterval(() => {
      const due = Math.min(LOAD_SECONDS * 1000, Date.now() - started);
      while (checks.length < Math.floor(due / 50)) checks.push(probe(m.port, '/healthz').then((r) => r.status));
      while (crashes.length < Math.floor(due / 100)) crashes.push(probe(m.port, '/fault-injection/crash', 'POST').then((r) => r.status));
    }, 10);
    await new Promise((r) => setTimeout(r, LOAD_SECONDS * 1000 + 100));
    clearInterval(pace);
    const statuses = await Promise.all(checks);
    const crashStatuses = await Promise.all(crashes);
    const answered = statuses.filter((s) => s === 200).length;
    const elapsed = (Date.now() - started) / 1000;
    const summary = `${answered}/${statuses.length} health checks answered in ${elapsed.toFixed(1)} s; ${crashStatuses.filter((s) => s === 202).length}/${crashStatuses.length} killing requests accepted`;
    console.log(summary);
    expect(statuses.length).toBe(LOAD_SECONDS * 20); // the poller really polled
    expect({ summary, ok: answered / statuses.length >= 0.99 }).toEqual({ summary, ok: true });
    expect(crashStatuses.length).toBe(LOAD_SECONDS * 10);
    expect(crashStatuses.filter((s) => s === 202).length).toBeGreaterThanOrEqual(LOAD_SECONDS * 10 * 0.5); // and the faults really landed

    // The service still serves a real page (and the primary is the same process).
    expect(m.child.exitCode).toBeNull();
    const page = await probe(m.port, '/setup');
    expect(page.status).toBe(200);
    expect(page.body).toContain('Registrar Asistencia SENCE en su plataforma');

    // Each fault was logged at error level by the worker it hit, with the request id of the request that caused it.
    const logLines = m
      .output()
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    const faultLines = logLines.filter((l) => String(l.msg).startsWith('uncaught exception'));
    expect(faultLines.length).toBeGreaterThan(0);
    expect(faultLines[0]).toMatchObject({ level: 'error', error: 'fault injection: uncaught exception (FAULT_INJECTION=crash)' });
    expect(faultLines.some((l) => typeof l.reqId === 'string')).toBe(true);
    // …and the primary replaced workers (several times: each new worker got killing requests too).
    expect(logLines.filter((l) => l.msg === 'worker had an uncaught exception: starting its replacement').length).toBeGreaterThan(2);

    // SIGTERM still stops it cleanly.
    m.child.kill('SIGTERM');
    expect(await m.exited).toBe(0);
    expect(m.output()).toContain('SIGTERM: no se aceptan conexiones nuevas');
    expect(m.output()).toMatch(/Cerrado/);
  });
});

describe('workers that exit or cannot start (npm start)', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asistencia-supervision-'));
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('a worker killed with SIGKILL is forked again at once, and the service keeps answering', async () => {
    const main = await startMain(dir, { WEB_CONCURRENCY: '2', DEMO: 'false', SQLITE_FILE: path.join(dir, 'sigkill.sqlite') });
    try {
      // The workers' pids, from their request log lines (the primary logs no requests).
      const pids = new Set<number>();
      for (let i = 0; i < 20 && pids.size < 2; i += 1) {
        await probe(main.port, '/setup');
        await new Promise((r) => setTimeout(r, 50));
        for (const l of main.output().split('\n')) if (l.includes('"path":"/setup"')) pids.add((JSON.parse(l) as { pid: number }).pid);
      }
      expect(pids.size).toBe(2);
      const [victim] = [...pids];
      process.kill(victim!, 'SIGKILL');
      const statuses: number[] = [];
      for (let i = 0; i < 40; i += 1) {
        statuses.push((await probe(main.port, '/healthz')).status);
        await new Promise((r) => setTimeout(r, 50));
      }
      // A connection the primary handed to the worker just as it was killed dies with it (nothing can
      // answer it); every later one is served by the other worker, then by the new one too.
      expect(statuses.filter((s) => s !== 200).length).toBeLessThanOrEqual(2);
      expect(statuses.slice(20).filter((s) => s !== 200)).toEqual([]);
      expect(main.output()).toContain('"msg":"worker exited unexpectedly: forking another"');
      expect(main.output()).toContain('"signal":"SIGKILL"');
    } finally {
      main.child.kill('SIGTERM');
      expect(await main.exited).toBe(0);
    }
  });

  it('a busy PORT ends the start with the Spanish message and exit 1, without forking again and again', async () => {
    const blocker = http.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => blocker.listen(port, '127.0.0.1', () => resolve()));
    try {
      const main = await startMain(dir, { PORT: String(port), DEMO: 'false', WEB_CONCURRENCY: '2' }, 'No se pudo iniciar');
      expect(await main.exited).toBe(1);
      expect(main.output()).toContain(`No se pudo iniciar: el puerto ${port} ya está en uso (PORT): cierre el otro proceso o elija otro puerto con PORT.`);
      expect(main.output().match(/No se pudo iniciar/g)).toHaveLength(1);
      expect(main.output()).not.toContain('a worker failed to start');
    } finally {
      blocker.close();
    }
  });
});
