/**
 * Two tool instances — two real processes — on one store (SQLite file in the first pass of npm
 * test, MongoDB/FerretDB with TEST_STORE=mongo), behind one proxy with no sticky sessions: whatever
 * one instance wrote, the other reads; a callback raced to both is accepted exactly once; an LTI
 * launch may start on one and finish on the other.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type http from 'node:http';
import { openMongoStores, sqliteStores } from '../../src/store/open-stores';
import type { Stores } from '../../src/store/ports';
import { openSqliteDatabase } from '../../src/store/sqlite/open-sqlite';
import { startLmsSimulator, type LmsSimulator } from '../../src/simulators/lms';
import { startSenceEmulator, type SenceEmulator } from '../../src/simulators/sence';
import { toolUrls } from '../../src/lti/tool-urls';
import { HttpClient, type ParsedForm } from '../support/http-client';
import { launchAs, type Launch } from '../support/lti-flow';
import { claveUnicaForm, loginAtClaveUnica, postBackForm, pressPanelButton } from '../support/sence-flow';
import { dropMongoDatabase, freePort, freshMongoUri, testStore, type TestSystem } from '../support/test-system';
import { startRoutingProxy, startToolProcess, type RoutingProxy, type ToolProcess } from '../support/instances';

jest.setTimeout(240_000);

const store = testStore();
const SHARED_KEYS = {
  LTI_KEY: 'multi-instance-test-lti-key-0123456789abcdef',
  TOKEN_ENCRYPTION_KEY: 'a'.repeat(64),
};

let dir: string;
let mongoUri: string | null = null;
let sence: SenceEmulator;
let lms: LmsSimulator;
let proxy: RoutingProxy;
let a: ToolProcess;
let b: ToolProcess;
let stores: Stores;
let closeStores: () => Promise<void>;
/** What the shared test flows need of a "system": the public URL (the proxy) and the LMS. */
let viaProxy: TestSystem;

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asistencia-multi-'));
  const proxyPort = await freePort();
  const publicUrl = `http://localhost:${proxyPort}`;
  sence = await startSenceEmulator({ port: 0 });
  const urls = toolUrls(publicUrl);
  lms = await startLmsSimulator({ port: 0, tool: { loginUrl: urls.login, launchUrl: urls.launch, jwksUrl: urls.keys, deepLinkUrl: urls.launch } });
  const storeEnv: Record<string, string> =
    store === 'mongo' ? { MONGODB_URI: (mongoUri = freshMongoUri('sence_multi')) } : { SQLITE_FILE: path.join(dir, 'shared.sqlite') };
  const env = {
    ...SHARED_KEYS,
    ...storeEnv,
    PUBLIC_URL: publicUrl,
    SENCE_RCE_TEST_URL: `${sence.url}/rcetest/Registro`,
    SENCE_RCE_PRODUCTION_URL: `${sence.url}/rce/Registro`,
    TOOL_PLATFORM: JSON.stringify(lms.platform),
  };
  // One after the other: the first creates the tables/indexes and registers the platform.
  a = await startToolProcess('A', env);
  b = await startToolProcess('B', env);
  proxy = await startRoutingProxy(proxyPort, () => a);
  viaProxy = { url: proxy.url, lms } as unknown as TestSystem;
  if (store === 'mongo') {
    const opened = await openMongoStores(mongoUri!);
    stores = opened.stores;
  } else {
    stores = sqliteStores(openSqliteDatabase(path.join(dir, 'shared.sqlite')));
  }
  closeStores = () => stores.close();
});

afterAll(async () => {
  await closeStores?.();
  await proxy?.close();
  const codes = await Promise.all([a?.stop(), b?.stop()]);
  await lms?.close();
  await sence?.close();
  if (mongoUri) await dropMongoDatabase(mongoUri);
  fs.rmSync(dir, { recursive: true, force: true });
  expect(codes).toEqual([0, 0]); // both shut down cleanly on SIGTERM
});

const anaSub = () => 'ana'; // the simulator's sub is the user id
const courseKey = () => ({ issuer: lms.issuer, clientId: lms.clientId, contextId: lms.course.contextId });

function routeAll(to: ToolProcess, exceptions: Array<[RegExp, ToolProcess, string?]> = []): void {
  proxy.route((req: http.IncomingMessage) => {
    for (const [pattern, target, method] of exceptions) {
      if (pattern.test(req.url ?? '') && (!method || req.method === method)) return target;
    }
    return to;
  });
}

/** The panel's status poll, sent to `instance` (through the proxy: the browser's cookies are for its host). */
async function status(learner: Launch, instance: ToolProcess) {
  routeAll(instance);
  const before = proxy.counts.get(instance.name) ?? 0;
  const res = await learner.client.get(`${proxy.url}/lti/api/status?ltik=${encodeURIComponent(learner.ltik)}`, { accept: 'application/json' });
  expect(proxy.counts.get(instance.name)).toBe(before + 1);
  expect(res.status).toBe(200);
  return JSON.parse(res.text) as { active: { state: string } | null };
}

/** Presses the panel's button (through the proxy) and walks SENCE's emulator up to the callback form. */
async function callbackFormFor(learner: Launch, op: 'start' | 'close'): Promise<ParsedForm> {
  const trip = await pressPanelButton(viaProxy, learner.client, learner.ltik, op);
  const back = claveUnicaForm(trip.atSence) ? await loginAtClaveUnica(learner.client, trip.atSence, '12345678-5') : trip.atSence;
  return postBackForm(back);
}

function onInstance(form: ParsedForm, instance: ToolProcess): ParsedForm {
  const target = new URL(form.action);
  return { ...form, action: `${instance.url}${target.pathname}${target.search}` };
}

describe(`two tool processes on one ${store === 'mongo' ? 'MongoDB (FerretDB)' : 'SQLite file'}`, () => {
  it('starts a session through A, takes SENCE\'s callback on B, and A\'s panel shows it', async () => {
    routeAll(a);
    const ana = await launchAs(viaProxy, 'ana');
    expect(ana.panel.status).toBe(200);
    const callback = await callbackFormFor(ana, 'start');
    expect((await status(ana, a)).active?.state).toBe('starting');

    routeAll(a, [[/^\/cb\//, b]]);
    const before = proxy.counts.get('B') ?? 0;
    const accepted = await ana.client.submit(callback);
    expect(proxy.counts.get('B')).toBe(before + 1);
    expect(accepted.status).toBe(200);
    expect(accepted.text).toContain('Asistencia correctamente ingresada');

    // Read on A: the state B wrote.
    expect((await status(ana, a)).active?.state).toBe('open');
    const panel = await ana.client.get(`${proxy.url}/lti/?ltik=${encodeURIComponent(ana.ltik)}`);
    expect(panel.status).toBe(200);
    expect(panel.text).toContain('CLICK AQUÍ PARA CERRAR SESIÓN EN SENCE');

    routeAll(a, [[/^\/cb\//, b]]);
    const closed = await ana.client.submit(await callbackFormFor(ana, 'close'));
    expect(closed.text).toContain('Sesión correctamente cerrada');
    expect((await status(ana, a)).active).toBeNull();
  });

  it('the same callback posted to A and B at once, 50 times: accepted exactly once each time, one answer stored', async () => {
    routeAll(a);
    const learner = await launchAs(viaProxy, 'ana');
    const outcomes: Array<{ ok: number; replayed: number }> = [];
    const sessionsBefore = (await stores.attendance.listSessions({ issuer: lms.issuer, clientId: lms.clientId, sub: anaSub() }, courseKey())).length;
    for (let round = 0; round < 50; round += 1) {
      const op = round % 2 === 0 ? 'start' : 'close';
      const form = await callbackFormFor(learner, op);
      const [onA, onB] = await Promise.all([new HttpClient().submit(onInstance(form, a)), new HttpClient().submit(onInstance(form, b))]);
      const pages = [onA, onB];
      outcomes.push({
        ok: pages.filter((p) => p.status === 200 && /correctamente (ingresada|cerrada)/.test(p.text)).length,
        replayed: pages.filter((p) => p.status === 409 && p.text.includes('Esta respuesta de SENCE ya fue registrada')).length,
      });
    }
    expect(outcomes).toEqual(Array.from({ length: 50 }, () => ({ ok: 1, replayed: 1 })));

    const sessions = await stores.attendance.listSessions({ issuer: lms.issuer, clientId: lms.clientId, sub: anaSub() }, courseKey());
    expect(sessions.length - sessionsBefore).toBe(25);
    for (const s of sessions.slice(0, 25)) {
      expect(s.state).toBe('closed');
      const answers = await stores.attendance.listAnswers(s.id);
      expect(answers.map((x) => `${x.phase}:${x.outcome}`)).toEqual(['start:success', 'close:success']);
    }
  });

  it('an LTI launch started on A (login) and finished on B (form_post), and the other way round', async () => {
    routeAll(a, [[/^\/lti\/?(\?|$)/, b, 'POST']]);
    const beforeB = proxy.counts.get('B') ?? 0;
    const diego = await launchAs(viaProxy, 'diego');
    expect(proxy.counts.get('B')).toBe(beforeB + 1);
    expect(diego.panel.status).toBe(200);
    expect(diego.panel.text).toContain('Asistencia SENCE');

    routeAll(b, [[/^\/lti\/?(\?|$)/, a, 'POST']]);
    const beforeA = proxy.counts.get('A') ?? 0;
    const ana = await launchAs(viaProxy, 'ana');
    expect(proxy.counts.get('A')).toBe(beforeA + 1);
    expect(ana.panel.status).toBe(200);
    expect(ana.panel.text).toContain('Asistencia SENCE');
  });

  it('both instances answer /readyz on the shared store', async () => {
    for (const instance of [a, b]) {
      const res = await fetch(`${instance.url}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ok: true, store });
    }
  });
});
