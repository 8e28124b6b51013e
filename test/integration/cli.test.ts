/**
 * `npm run cli -- platform …` against a real SQLite file: add, list, activate, remove, and a call
 * with a malformed URL that explains itself and changes nothing.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runPlatformCli } from '../../src/cli/platform-commands';
import { openPlatformRegistry, otecContext, runCli } from '../../src/cli/main';

let dir: string;
let registry: Awaited<ReturnType<typeof openPlatformRegistry>>;
const out: string[] = [];
const err: string[] = [];
const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
const run = (...argv: string[]) => runPlatformCli(argv, async () => registry, io);

beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sence-cli-'));
  registry = await openPlatformRegistry({ NODE_ENV: 'test', DEMO: 'false', SQLITE_FILE: path.join(dir, 'cli.sqlite') });
});
afterAll(async () => {
  await registry?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  out.length = 0;
  err.length = 0;
});

const moodle = ['--issuer', 'https://moodle.otec.cl', '--client-id', 'AbC123xyz', '--auth-endpoint', 'https://moodle.otec.cl/mod/lti/auth.php', '--token-endpoint', 'https://moodle.otec.cl/mod/lti/token.php', '--jwks-url', 'https://moodle.otec.cl/mod/lti/certs.php'];

it('lists nothing on a fresh store', async () => {
  expect(await run('platform', 'list')).toBe(0);
  expect(out).toEqual(['No hay plataformas registradas.']);
});

it('refuses a malformed URL with a clear message, exit code 2, and stores nothing', async () => {
  const args = [...moodle];
  args[args.indexOf('--jwks-url') + 1] = 'moodle.otec.cl/certs';
  expect(await run('platform', 'add', ...args)).toBe(2);
  expect(err.join('\n')).toContain('--jwks-url no es una URL válida: «moodle.otec.cl/certs»');
  expect(err.join('\n')).toContain('Uso:');
  out.length = 0;
  await run('platform', 'list');
  expect(out).toEqual(['No hay plataformas registradas.']);
});

it('refuses an unknown option and a missing one', async () => {
  expect(await run('platform', 'add', ...moodle, '--colour', 'red')).toBe(2);
  expect(await run('platform', 'add', '--issuer', 'https://x.cl')).toBe(2);
  expect(err.join('\n')).toContain('Falta --client-id');
});

it('adds a Moodle platform, lists it, deactivates, activates and removes it', async () => {
  expect(await run('platform', 'add', ...moodle, '--name', 'Moodle OTEC')).toBe(0);
  expect(out[0]).toContain('Plataforma registrada: Moodle OTEC (https://moodle.otec.cl, client_id AbC123xyz), activa: sí');
  out.length = 0;
  await run('platform', 'list');
  expect(out).toHaveLength(1);
  expect(out[0]).toMatch(/^activa\s+https:\/\/moodle\.otec\.cl\s+client_id=AbC123xyz\s+nombre=Moodle OTEC/);
  expect(out[0]).toContain('JWK_SET:https://moodle.otec.cl/mod/lti/certs.php');
  expect(await run('platform', 'deactivate', '--issuer', 'https://moodle.otec.cl', '--client-id', 'AbC123xyz')).toBe(0);
  out.length = 0;
  await run('platform', 'list');
  expect(out[0]).toMatch(/^inactiva/);
  expect(await run('platform', 'activate', '--issuer', 'https://moodle.otec.cl', '--client-id', 'AbC123xyz')).toBe(0);
  expect(await run('platform', 'remove', '--issuer', 'https://moodle.otec.cl', '--client-id', 'AbC123xyz')).toBe(0);
  out.length = 0;
  await run('platform', 'list');
  expect(out).toEqual(['No hay plataformas registradas.']);
  expect(await run('platform', 'remove', '--issuer', 'https://moodle.otec.cl', '--client-id', 'AbC123xyz')).toBe(1);
  expect(err.join('\n')).toContain('No existe una plataforma');
});

describe('help (issue #20 §16: "--help" printed "Comando desconocido." before the usage)', () => {
  const cli = (...argv: string[]) => runCli(argv, async () => registry, async () => otecContext(registry), io);

  it.each([['--help'], ['-h'], ['help']])('%s prints both usages on standard output, no error, exit 0', async (flag) => {
    expect(await cli(flag)).toBe(0);
    expect(err).toEqual([]);
    const text = out.join('\n');
    expect(text).not.toContain('desconocido');
    expect(text).toContain('npm run cli -- platform invite');
    expect(text).toContain('npm run cli -- otec add');
  });

  it('"platform --help" and "otec --help" print their own usage, exit 0', async () => {
    expect(await cli('platform', '--help')).toBe(0);
    expect(await cli('otec', '--help')).toBe(0);
    expect(err).toEqual([]);
    expect(out[0]).toContain('npm run cli -- platform add');
    expect(out[1]).toContain('npm run cli -- otec add');
  });

  it('no command says what is missing (not "desconocido"), exit 2; an unknown one names it', async () => {
    expect(await cli()).toBe(2);
    expect(err[0]).toMatch(/^Falta el comando\./);
    expect(err[0]).toContain('npm run cli -- otec list');
    err.length = 0;
    expect(await cli('plataforma', 'list')).toBe(2);
    expect(err[0]).toMatch(/^Comando desconocido: plataforma\./);
    expect(out).toEqual([]);
  });
});
