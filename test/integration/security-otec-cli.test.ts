/**
 * Issue #7, finding 4: the operator's `npm run cli -- otec add|list|rotate|remove|link|unlink`
 * against a real SQLite file (ltijs is one per process, hence its own file).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openPlatformRegistry, otecContext } from '../../src/cli/main';
import { runOtecCli } from '../../src/cli/otec-commands';
import { runPlatformCli } from '../../src/cli/platform-commands';
import { secretHint } from '../../src/domain/token-crypto';

const TOKEN_B = 'B1B2C3D4-E5F6-4A7B-8C9D-0E1F2A3B4C5D';
const ATTACKER_TOKEN = 'DEADBEEF-0000-4000-8000-000000000000';

let dir: string;
let registry: Awaited<ReturnType<typeof openPlatformRegistry>>;
const out: string[] = [];
const err: string[] = [];
const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
beforeAll(async () => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sence-otec-cli-'));
  registry = await openPlatformRegistry({ NODE_ENV: 'test', DEMO: 'false', PUBLIC_URL: 'https://asistencia.otec.cl', SQLITE_FILE: path.join(dir, 'cli.sqlite') });
  await runPlatformCli(['platform', 'add', '--issuer', 'https://moodle.otec.cl', '--client-id', 'AbC', '--auth-endpoint', 'https://moodle.otec.cl/auth', '--token-endpoint', 'https://moodle.otec.cl/token', '--jwks-url', 'https://moodle.otec.cl/certs'], async () => registry, io);
});
afterAll(async () => {
  await registry?.close();
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  out.length = 0;
  err.length = 0;
});

describe('npm run cli -- otec …', () => {
  const otec = (...argv: string[]) => runOtecCli(['otec', ...argv], async () => ({ ...otecContext(registry), readStdin: async () => `${TOKEN_B}\n` }), io);

  it('add (token from stdin), list, rotate, link, unlink, remove', async () => {
    expect(await otec('add', '--rut', '77111222-6', '--name', 'OTEC Sur', '--token', '-', '--platform', 'https://moodle.otec.cl', '--client-id', 'AbC')).toBe(0);
    expect(out[0]).toBe(`OTEC agregado: OTEC Sur (RUT 77111222-6, token …${secretHint(TOKEN_B)}), vinculado a https://moodle.otec.cl (client_id AbC).`);
    expect(await otec('list')).toBe(0);
    expect(out[1]).toBe(`77111222-6  OTEC Sur  token=…${secretHint(TOKEN_B)}  plataformas: https://moodle.otec.cl (client_id AbC)  cursos: 0`);
    expect(await otec('rotate', '--rut', '77111222-6', '--token', ATTACKER_TOKEN.toLowerCase())).toBe(0);
    expect(out[2]).toContain(`termina en …${secretHint(ATTACKER_TOKEN)}`);
    expect(await otec('unlink', '--rut', '77111222-6', '--platform', 'https://moodle.otec.cl', '--client-id', 'AbC')).toBe(0);
    expect(await otec('unlink', '--rut', '77111222-6', '--platform', 'https://moodle.otec.cl', '--client-id', 'AbC')).toBe(1);
    expect(err.join('\n')).toContain('no está vinculado');
    expect(await otec('link', '--rut', '77111222-6', '--platform', 'https://moodle.otec.cl/', '--client-id', 'AbC')).toBe(0);
    expect((await registry.stores.otecs.list())[0]?.platforms).toEqual([{ issuer: 'https://moodle.otec.cl', clientId: 'AbC' }]);
    expect(await otec('remove', '--rut', '77111222-6')).toBe(0);
    expect(await registry.stores.otecs.list()).toEqual([]);
  });

  it('refuses bad input with the usage and changes nothing', async () => {
    expect(await otec('add', '--rut', '77111222-7', '--name', 'X', '--token', TOKEN_B)).toBe(2);
    expect(err.join('\n')).toContain('--rut: El dígito verificador');
    expect(await otec('add', '--rut', '77111222-6', '--name', 'X', '--token', 'corto')).toBe(2);
    expect(err.join('\n')).toContain('--token: El token debe tener 36 caracteres');
    expect(await otec('link', '--rut', '77111222-6', '--platform', 'https://no-registrada.cl', '--client-id', 'x')).toBe(1);
    expect(await otec('add', '--rut', '77111222-6', '--name', 'X', '--token', TOKEN_B, '--platform', 'https://no-registrada.cl', '--client-id', 'x')).toBe(2);
    expect(err.join('\n')).toContain('No hay una plataforma registrada con issuer https://no-registrada.cl');
    expect(await otec('frobnicate')).toBe(2);
    expect(await registry.stores.otecs.list()).toEqual([]);
  });

  it('rotate --name renames it too (issue #19: the one way to rename an OTEC shared by several platforms)', async () => {
    expect(await otec('add', '--rut', '78333444-5', '--name', 'Antes', '--token', TOKEN_B)).toBe(0);
    expect(await otec('rotate', '--rut', '78333444-5', '--token', '-', '--name', 'Después')).toBe(0);
    expect(out[1]).toBe(`Token del OTEC Después (RUT 78333444-5) reemplazado: termina en …${secretHint(TOKEN_B)}. Nombre anterior: Antes.`);
    expect(await otec('rotate', '--rut', '78333444-5', '--token', '-', '--name', '')).toBe(2);
    expect(err.join('\n')).toContain('--name: ');
    expect((await registry.stores.otecs.list()).find((o) => o.rut === '78333444-5')?.name).toBe('Después');
    expect(await otec('remove', '--rut', '78333444-5')).toBe(0);
  });

  it('refuses to remove an OTEC a course uses', async () => {
    await otec('add', '--rut', '76123456-0', '--name', 'En Uso', '--token', TOKEN_B);
    const o = (await registry.stores.otecs.list())[0]!;
    await registry.stores.courses.saveSettings({ issuer: 'https://moodle.otec.cl', clientId: 'AbC', contextId: 'c1' }, { otecId: o.id, lineaCapacitacion: 3, codSence: '1234567890', codigoCurso: '1234567', requiredHours: 1, environment: 'test', sessionLimitMinutes: 180, warningMinutes: 10 });
    expect(await otec('remove', '--rut', '76123456-0')).toBe(1);
    expect(err.join('\n')).toContain('está en uso en 1 curso(s)');
    expect(await registry.stores.otecs.get(o.id)).not.toBeNull();
  });
});

describe('npm run cli -- platform invite', () => {
  it('prints a one-time PUBLIC_URL/lti/register?invite=CODE valid for --hours, and the next steps', async () => {
    const before = Date.now();
    expect(await runPlatformCli(['platform', 'invite', '--name', 'Moodle Sur', '--hours', '2'], async () => registry, io)).toBe(0);
    expect(out[0]).toMatch(/^Invitación de registro para Moodle Sur \(un solo uso, vence /);
    expect(out[1]).toMatch(/^https:\/\/asistencia\.otec\.cl\/lti\/register\?invite=[A-Za-z0-9_-]{32}$/);
    expect(out.join('\n')).toContain('Añadir LTI Advantage');
    expect(out.join('\n')).toContain('Mostrar en el selector de actividades');
    const [invite] = await registry.stores.invites.list();
    expect(invite).toMatchObject({ name: 'Moodle Sur', usedAt: null, platform: null });
    expect(invite!.expiresAt.getTime() - before).toBeGreaterThanOrEqual(2 * 3_600_000 - 1000);
    expect(invite!.expiresAt.getTime() - before).toBeLessThanOrEqual(2 * 3_600_000 + 5000);
  });

  it('accepts exactly 1 and 336 hours', async () => {
    expect(await runPlatformCli(['platform', 'invite', '--hours', '1'], async () => registry, io)).toBe(0);
    expect(await runPlatformCli(['platform', 'invite', '--hours', '336'], async () => registry, io)).toBe(0);
  });

  it.each([['0'], ['337'], ['dos']])('refuses --hours %s (1 to 336) and stores nothing', async (hours) => {
    const count = (await registry.stores.invites.list()).length;
    expect(await runPlatformCli(['platform', 'invite', '--hours', hours], async () => registry, io)).toBe(2);
    expect(err.join('\n')).toContain('--hours debe ser un número entero de 1 a 336');
    expect((await registry.stores.invites.list()).length).toBe(count);
  });
});
