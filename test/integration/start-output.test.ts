/**
 * Issue #20, items 14 and 15: what a new user's terminal shows after `npm start` (src/main.ts in a
 * development start: demo mode, development keys, no NODE_ENV, no HOST, no LOG_* variables). It
 * listens on 127.0.0.1 only and says so; the URL to open is printed again once every worker serves,
 * as the last thing on the screen; request lines are short text, not JSON; the panel's status poll
 * prints nothing (debug); /favicon.ico is served (no warning per page).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HttpClient } from '../support/http-client';
import { launchAs } from '../support/lti-flow';
import { freePort, type TestSystem } from '../support/test-system';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '../..');

let dir: string;
let child: ChildProcess;
let out = '';
let exited: Promise<unknown>;
let port: number;
let lmsPort: number;

async function until(predicate: () => boolean, what: string, ms = 90_000): Promise<void> {
  const started = Date.now();
  while (!predicate()) {
    if (child.exitCode !== null) throw new Error(`main.ts exited:\n${out}`);
    if (Date.now() - started > ms) throw new Error(`${what} did not appear:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const lines = () => out.split('\n');
const abreLine = () => `  Abre http://127.0.0.1:${lmsPort}  ← simulador de LMS: entra como «Ana Pérez» para ver el panel`;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sence-start-output-'));
  [port, lmsPort] = [await freePort(), await freePort()];
  const sencePort = await freePort();
  child = spawn(process.execPath, ['-r', path.join(ROOT, 'test/support/ts-register.js'), path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    // A development start as a new user makes it: no NODE_ENV, no HOST, no LOG_FORMAT / LOG_LEVEL.
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '',
      PORT: String(port),
      LMS_SIMULATOR_PORT: String(lmsPort),
      SENCE_EMULATOR_PORT: String(sencePort),
      SQLITE_FILE: path.join(dir, 'start.sqlite'),
      WEB_CONCURRENCY: '2',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout?.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (out += c.toString()));
  exited = new Promise((resolve) => child.once('exit', resolve));
  await until(() => out.includes(abreLine()), 'the «Abre …» line');
});

afterAll(async () => {
  if (child && child.exitCode === null) {
    child.kill('SIGTERM');
    await exited;
  }
  fs.rmSync(dir, { recursive: true, force: true });
});

it('says it listens on 127.0.0.1 only and how to open it to the network', () => {
  expect(out).toContain('Escuchando solo en 127.0.0.1 (HOST=0.0.0.0 para abrirlo a la red)');
});

it('prints the URL to open early, and again as the last block once every worker serves', () => {
  const all = lines();
  const url = `http://127.0.0.1:${lmsPort}`;
  const ready = all.findIndex((l) => l.startsWith('Asistencia SENCE escuchando en'));
  expect(ready).toBeGreaterThan(0);
  expect(all[ready]).toContain('2 procesos');
  // Once at the start, before the workers are up…
  expect(all.slice(0, ready).some((l) => l.includes(url))).toBe(true);
  // …and again after the "escuchando" line, with nothing after its block but the blank line.
  const abre = all.lastIndexOf(abreLine());
  expect(abre).toBeGreaterThan(ready);
  expect(all.slice(abre + 1).filter((l) => l.trim() !== '' && !l.startsWith('  '))).toEqual([]);
});

it('serves /favicon.ico, with no warning in the terminal', async () => {
  const before = out.length;
  const res = await fetch(`http://127.0.0.1:${port}/favicon.ico`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/image\/(x-icon|vnd\.microsoft\.icon)/);
  expect((await res.arrayBuffer()).byteLength).toBeGreaterThan(0);
  const svg = await fetch(`http://127.0.0.1:${port}/public/favicon.svg`);
  expect(svg.status).toBe(200);
  await new Promise((r) => setTimeout(r, 300));
  expect(out.slice(before)).not.toMatch(/favicon|WARN|not-found/);
});

it('request lines are short text, and the panel\'s status poll prints nothing', async () => {
  const sys = { lms: { url: `http://127.0.0.1:${lmsPort}` } } as unknown as TestSystem;
  const launch = await launchAs(sys, 'ana');
  expect(launch.panel.status).toBe(200);
  expect(launch.panel.text).toContain('rel="icon"');
  // The launch's own line, as a person reads it.
  await until(() => /^\d\d:\d\d:\d\d POST \/lti 200 \d+ ms$/m.test(out), 'the launch line');
  const before = out.length;
  for (let i = 0; i < 6; i++) {
    const poll = await new HttpClient().get(`http://localhost:${port}/lti/api/status`, {
      accept: 'application/json',
      authorization: `Bearer ${launch.ltik}`,
      'x-asistencia-course': launch.course,
    });
    expect([poll.status, poll.status === 200 ? '' : poll.text.slice(0, 300)]).toEqual([200, '']);
  }
  await new Promise((r) => setTimeout(r, 500));
  expect(out.slice(before)).toBe('');
  // No JSON line anywhere in a development terminal.
  expect(lines().filter((l) => l.trimStart().startsWith('{'))).toEqual([]);
});
