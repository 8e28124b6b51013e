/**
 * The store failing under the tool: MongoDB unreachable at start or named by a malformed
 * MONGODB_URI (clear error naming the variable, exit non-zero), MongoDB lost mid-run (FerretDB
 * stopped and restarted: 503 in Spanish, nothing half-written, recovery by itself), the SQLite file
 * made unwritable (chattr +i: root ignores file modes) and writable again.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { findFerretDb, startFerretDb, withDatabase, type FerretDb } from '../support/ferretdb';
import { HttpClient, type ParsedForm } from '../support/http-client';
import { launchAs } from '../support/lti-flow';
import { claveUnicaForm, loginAtClaveUnica, postBackForm, pressPanelButton } from '../support/sence-flow';
import { freePort, startTestSystem, type TestSystem } from '../support/test-system';
import { startToolProcess, type ToolProcess } from '../support/instances';
import { openMongoStores } from '../../src/store/open-stores';
import type { Stores } from '../../src/store/ports';
import { toolUrls } from '../../src/lti/tool-urls';
import { startLmsSimulator, type LmsSimulator } from '../../src/simulators/lms';
import { startSenceEmulator, type SenceEmulator } from '../../src/simulators/sence';

jest.setTimeout(120_000);

const ROOT = path.resolve(__dirname, '../..');

/** Runs `npm start`'s entry (src/main.ts) with `env`; resolves with its exit code and output. */
async function runMain(env: Record<string, string>, timeoutMs = 30_000): Promise<{ code: number | null; output: string }> {
  const child = spawn(process.execPath, ['-r', path.join(ROOT, 'test/support/ts-register.js'), path.join(ROOT, 'src/main.ts')], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NODE_ENV: 'test', HOST: '127.0.0.1', DEMO: 'false', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number | null>((resolve) => child.once('exit', (c) => resolve(c)));
  clearTimeout(timer);
  return { code, output };
}

async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<number> {
  const started = Date.now();
  while (Date.now() - started < timeoutMs) {
    if (await check()) return Date.now() - started;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s`);
}

async function readyz(sys: TestSystem): Promise<{ status: number; body: { ok: boolean; checks: Record<string, string> }; text: string }> {
  const res = await fetch(`${sys.url}/readyz`);
  const text = await res.text();
  return { status: res.status, body: JSON.parse(text) as { ok: boolean; checks: Record<string, string> }, text };
}

/** Launch, press "open", walk the emulator and ClaveÚnica: the start callback form, not yet posted. */
async function startCallback(sys: TestSystem, user = 'ana'): Promise<{ form: ParsedForm; sessionCount: () => Promise<number> }> {
  const learner = await launchAs(sys, user);
  const trip = await pressPanelButton(sys, learner.client, learner.ltik, 'start');
  const back = claveUnicaForm(trip.atSence) ? await loginAtClaveUnica(learner.client, trip.atSence, '12345678-5') : trip.atSence;
  const key = { issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId };
  // sys.stores: the system's own, or the test's connection to the same store (a tool process).
  return {
    form: postBackForm(back),
    sessionCount: async () => (await sys.stores.attendance.listSessions({ issuer: key.issuer, clientId: key.clientId, sub: user }, key)).length,
  };
}

describe('MongoDB at start', () => {
  it('unreachable: a clear error naming MONGODB_URI, exit code 1', async () => {
    const closedPort = await freePort();
    const { code, output } = await runMain({ MONGODB_URI: `mongodb://127.0.0.1:${closedPort}/sence`, PORT: String(await freePort()) });
    expect(code).toBe(1);
    expect(output).toContain('No se pudo iniciar: MONGODB_URI: could not connect to MongoDB within 5 s');
    expect(output).toContain('unset MONGODB_URI to use the embedded SQLite file');
  });

  it.each([
    ['not a MongoDB URI', 'http://127.0.0.1:27017/sence', 'No se pudo iniciar: MONGODB_URI must start with mongodb:// or mongodb+srv://'],
    ['a port that is not a number', 'mongodb://127.0.0.1:notaport/sence', 'MONGODB_URI: could not connect to MongoDB'],
  ])('malformed (%s): a clear error naming MONGODB_URI, exit code 1', async (_what, uri, message) => {
    const { code, output } = await runMain({ MONGODB_URI: uri, PORT: String(await freePort()) });
    expect(code).toBe(1);
    expect(output).toContain(message);
    expect(output).not.toMatch(/^\s+at /m); // a message for an operator, not a stack trace
  });
});

const ferretBinary = findFerretDb();
if (!ferretBinary) {
  console.warn('store faults: the MongoDB-lost-mid-run case needs FerretDB (scripts/build-ferretdb.sh); it did not run here.');
}
// Reason for the conditional skip: this case stops and restarts a server of its own, which only
// FerretDB can be here (CI builds it; .ci/run). The start-up cases above need no server.
// The tool runs in a process of its own here: ltijs's reconnect handler (mongoose 7) can leave a
// client retrying in the background after an outage, which would keep a Jest worker alive.
(ferretBinary ? describe : describe.skip)('MongoDB lost mid-run (FerretDB stopped, then restarted)', () => {
  let ferret: FerretDb;
  let tool: ToolProcess;
  let lms: LmsSimulator;
  let sence: SenceEmulator;
  let stores: Stores;
  let sys: TestSystem;

  beforeAll(async () => {
    ferret = await startFerretDb({ binary: ferretBinary! });
    const uri = withDatabase(ferret.uri, 'sence_faults');
    const port = await freePort();
    const publicUrl = `http://localhost:${port}`;
    const urls = toolUrls(publicUrl);
    sence = await startSenceEmulator({ port: 0 });
    lms = await startLmsSimulator({ port: 0, tool: { loginUrl: urls.login, launchUrl: urls.launch, jwksUrl: urls.keys, deepLinkUrl: urls.launch } });
    tool = await startToolProcess('tool', {
      PORT: String(port),
      PUBLIC_URL: publicUrl,
      MONGODB_URI: uri,
      SENCE_RCE_TEST_URL: `${sence.url}/rcetest/Registro`,
      SENCE_RCE_PRODUCTION_URL: `${sence.url}/rce/Registro`,
      TOOL_PLATFORM: JSON.stringify(lms.platform),
    });
    stores = (await openMongoStores(uri)).stores;
    sys = { url: publicUrl, lms, stores } as unknown as TestSystem;
  });

  afterAll(async () => {
    await stores?.close();
    const code = await tool?.stop();
    await lms?.close();
    await sence?.close();
    await ferret?.destroy();
    expect(code).toBe(0);
  });

  it('answers 503 in Spanish while it is down, writes nothing, and recovers by itself when it is back', async () => {
    expect((await readyz(sys)).body).toMatchObject({ ok: true, store: 'mongo' });
    const { form, sessionCount } = await startCallback(sys);
    expect(await sessionCount()).toBe(1);

    await ferret.stop();
    const down = await readyz(sys);
    expect(down.status).toBe(503);
    expect(down.body.ok).toBe(false);
    expect(down.body.checks.store).toMatch(/^no disponible/);
    expect(down.text).not.toContain(ferret.uri); // no URI, no secret in the body

    // SENCE's callback arrives during the outage: a clear 503 page, and it is not used up.
    const during = await new HttpClient().submit(form);
    expect(during.status).toBe(503);
    expect(during.headers.get('retry-after')).toBe('30');
    expect(during.text).toContain('El registro de asistencia no está disponible en este momento');
    expect(during.text).toContain('No se guardó nada de esta acción');
    const api = await new HttpClient().post(form.action, form.fields, { accept: 'application/json' });
    expect(api.status).toBe(503);
    expect(JSON.parse(api.text).error).toMatchObject({ code: 'store-unavailable', message: expect.stringContaining('no está disponible') });

    await ferret.restart();
    const waited = await waitFor(async () => (await readyz(sys)).status === 200, 45_000, 'readyz after FerretDB came back');
    console.log(`store faults: ready again ${waited} ms after FerretDB restarted`);

    // The callback SENCE retries (or the learner reloads) is accepted once: nothing was half-written.
    const after = await new HttpClient().submit(form);
    expect(after.status).toBe(200);
    expect(after.text).toContain('Asistencia correctamente ingresada');
    expect(await sessionCount()).toBe(1);
    const key = { issuer: lms.issuer, clientId: lms.clientId, contextId: lms.course.contextId };
    const [session] = await stores.attendance.listSessions({ issuer: lms.issuer, clientId: lms.clientId, sub: 'ana' }, key);
    expect(session!.state).toBe('open');
    expect((await stores.attendance.listAnswers(session!.id)).map((a) => a.outcome)).toEqual(['success']);
    const replay = await new HttpClient().submit(form);
    expect(replay.status).toBe(409);
  });
});

function chattrWorks(dir: string): boolean {
  const probe = path.join(dir, 'chattr-probe');
  fs.writeFileSync(probe, '');
  const set = spawnSync('chattr', ['+i', probe]);
  spawnSync('chattr', ['-i', probe]);
  fs.rmSync(probe, { force: true });
  return set.status === 0;
}

describe('SQLite file made unwritable, then writable again', () => {
  let sys: TestSystem;
  let files: string[] = [];
  const chattr = (flag: '+i' | '-i') => {
    const r = spawnSync('chattr', [flag, ...files]);
    if (r.status !== 0) throw new Error(`chattr ${flag} failed: ${r.stderr.toString()}`);
  };

  beforeAll(async () => {
    sys = await startTestSystem({}, {});
  });

  afterAll(async () => {
    if (files.length) spawnSync('chattr', ['-i', ...files]);
    await sys?.stop();
  });

  it('answers 503 in Spanish, loses nothing, and recovers by itself', async () => {
    expect(sys.storeKind).toBe('sqlite');
    // Root ignores file modes, so "unwritable" is the immutable attribute (ext4 and friends);
    // the -shm file stays writable (SQLite maps it into memory).
    if (!chattrWorks(sys.dir)) {
      console.warn('store faults: chattr +i is not available here (not root, or a filesystem without it); the SQLite case did not run.');
      return;
    }
    const { form, sessionCount } = await startCallback(sys);
    files = [sys.config.sqliteFile, `${sys.config.sqliteFile}-wal`].filter((f) => fs.existsSync(f));
    chattr('+i');
    const down = await readyz(sys);
    expect(down.status).toBe(503);
    expect(down.body.checks.store).toMatch(/^no disponible: the SQLite file does not accept writes/);

    const during = await new HttpClient().submit(form);
    expect(during.status).toBe(503);
    expect(during.text).toContain('El registro de asistencia no está disponible en este momento');

    chattr('-i');
    files = [];
    expect((await readyz(sys)).status).toBe(200);
    const after = await new HttpClient().submit(form);
    expect(after.status).toBe(200);
    expect(after.text).toContain('Asistencia correctamente ingresada');
    expect(await sessionCount()).toBe(1);
  });
});
