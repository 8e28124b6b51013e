/**
 * The tool under fuzz (issue #19 §9): one real tool process (test/support/tool-process.ts), so a
 * request that stops it is seen as a death and not as a crashed test runner, with the LMS simulator
 * and the SENCE emulator in the test process, real launches (staff, learner, deep linking) for real
 * ltiks, the rate limits lifted, and no periodic sweep (every stored change comes from a request).
 *
 * It sends one wire request and reports what happened: the status (or no answer), whether the
 * process is still alive and answering, the `UNHANDLED-REJECTION` / `UNCAUGHT-EXCEPTION` lines it
 * printed meanwhile, and — for a refused request (4xx) — which stored rows outside the audit log
 * changed (SQLite: the file, read beside the tool; MongoDB: every collection).
 */
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { startLmsSimulator, type LmsSimulator } from '../../src/simulators/lms';
import { startSenceEmulator, type SenceEmulator } from '../../src/simulators/sence';
import { toolUrls } from '../../src/lti/tool-urls';
import { publicDir } from '../../src/paths';
import type { AppRoute } from './app-routes';
import type { FuzzContext, WireRequest } from './fuzz-requests';
import { launchAs } from './lti-flow';
import { startToolProcess, type ToolProcess } from './instances';
import { dropMongoDatabase, freePort, freshMongoUri, type TestStore, type TestSystem } from './test-system';

export interface Outcome {
  /** HTTP status; 0 = no answer in time; -1 = connection closed without an answer. */
  status: number;
  problems: string[];
}

/** A snapshot of every stored table/collection but the audit log: name → rows as JSON. */
type Snapshot = Map<string, string>;

interface StoreReader {
  snapshot(): Promise<Snapshot>;
  close(): Promise<void>;
}

const AUDIT = /audit/;

/**
 * The roster is a read-through cache of the LMS's Names and Roles answer: a staff page that reads
 * it past its age fetches it again, whatever that page answers then (a 404 for an unknown learner
 * is decided from it). Its fetch time is not compared; its members are.
 */
const ROSTER = /roster/;
const ROSTER_FETCH_TIME = /"fetched_?[aA]t":(?:"[^"]*"|\d+)/g;
const comparable = (table: string, rows: string) => (ROSTER.test(table) ? rows.replace(ROSTER_FETCH_TIME, '"fetchedAt":"…"') : rows);

function sqliteReader(file: string): StoreReader {
  let db: BetterSqlite3.Database | null = null;
  let version = -1;
  let last: Snapshot = new Map();
  return {
    // PRAGMA data_version changes when another connection commits: unchanged → the same rows.
    async snapshot() {
      db ??= new BetterSqlite3(file, { readonly: true, fileMustExist: true });
      const v = db.pragma('data_version', { simple: true }) as number;
      if (v === version) return last;
      const tables = db.prepare<[], { name: string }>("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name").all();
      const out: Snapshot = new Map();
      for (const { name } of tables) {
        if (AUDIT.test(name)) continue;
        out.set(name, comparable(name, JSON.stringify(db.prepare(`SELECT * FROM "${name.replace(/"/g, '""')}" ORDER BY rowid`).all())));
      }
      version = v;
      last = out;
      return out;
    },
    async close() {
      db?.close();
      db = null;
    },
  };
}

async function mongoReader(uri: string): Promise<StoreReader> {
  const mongoose = (await import('mongoose')).default;
  const conn = mongoose.createConnection(uri, { serverSelectionTimeoutMS: 10_000 });
  await conn.asPromise();
  return {
    async snapshot() {
      const db = conn.db!;
      const names = (await db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name).filter((n) => !AUDIT.test(n)).sort();
      const rows = await Promise.all(names.map((n) => db.collection(n).find({}).sort({ _id: 1 }).toArray()));
      return new Map(names.map((n, i) => [n, comparable(n, JSON.stringify(rows[i]))]));
    },
    async close() {
      await conn.close();
    },
  };
}

/** Which tables differ, with the first differing characters of each. */
export function changedTables(before: Snapshot, after: Snapshot): string[] {
  const out: string[] = [];
  for (const name of new Set([...before.keys(), ...after.keys()])) {
    const a = before.get(name) ?? '(absent)';
    const b = after.get(name) ?? '(absent)';
    if (a === b) continue;
    let i = 0;
    while (i < a.length && a[i] === b[i]) i++;
    out.push(`${name}: …${a.slice(Math.max(0, i - 60), i + 140)}… → …${b.slice(Math.max(0, i - 60), i + 140)}…`);
  }
  return out;
}

function send(port: number, req: WireRequest, timeoutMs: number): Promise<{ status: number; error?: string }> {
  return new Promise((resolve) => {
    const headers = { ...req.headers };
    if (req.body) headers['content-length'] = String(req.body.length);
    let done = false;
    const finish = (r: { status: number; error?: string }) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      resolve(r);
    };
    let r: http.ClientRequest;
    try {
      r = http.request({ host: '127.0.0.1', port, method: req.method, path: req.path, headers, agent: false });
    } catch (err) {
      // The client itself refuses it (an invalid header or path character): nothing was sent.
      resolve({ status: -2, error: (err as Error).message });
      return;
    }
    const timer = setTimeout(() => {
      finish({ status: 0, error: `no answer in ${timeoutMs} ms` });
      r.destroy();
    }, timeoutMs);
    r.on('response', (res) => {
      res.resume();
      res.on('end', () => finish({ status: res.statusCode ?? 0 }));
      res.on('error', () => finish({ status: res.statusCode ?? 0 }));
      res.on('aborted', () => finish({ status: res.statusCode ?? 0 }));
    });
    // The server may answer (413, 415…) and close before the whole body was written: the answer
    // counts; an error with no answer is -1, judged by whether the process is still alive.
    r.on('error', (err) => finish({ status: -1, error: (err as NodeJS.ErrnoException).code ?? err.message }));
    if (req.body) r.end(req.body);
    else r.end();
  });
}

export interface FuzzTarget {
  context: FuzzContext;
  routes: AppRoute[];
  store: TestStore;
  /** Sends one request and checks everything the fuzz asserts. */
  exchange(req: WireRequest): Promise<Outcome>;
  /** Starts the tool again (same store) when a request stopped it. */
  ensureAlive(): Promise<void>;
  /** How many times the tool had to be started again. */
  restarts(): number;
  healthy(): Promise<boolean>;
  stop(): Promise<void>;
}

const LIFTED_RATE_LIMITS = { callbacksPerAddress: 1e9, callbacksPerAttempt: 1e9, loginsPerAddress: 1e9, registrationsPerAddress: 1e9 };

export async function startFuzzTarget(store: TestStore, options: { timeoutMs?: number } = {}): Promise<FuzzTarget> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'asistencia-fuzz-'));
  const port = await freePort();
  const publicUrl = `http://localhost:${port}`;
  const sence: SenceEmulator = await startSenceEmulator({ port: 0 });
  const urls = toolUrls(publicUrl);
  const lms: LmsSimulator = await startLmsSimulator({ port: 0, tool: { loginUrl: urls.login, launchUrl: urls.launch, jwksUrl: urls.keys, deepLinkUrl: urls.launch } });
  const mongoUri = store === 'mongo' ? freshMongoUri('sence_fuzz') : null;
  const sqliteFile = path.join(dir, 'fuzz.sqlite');
  const env: Record<string, string> = {
    LTI_KEY: 'fuzz-test-lti-key-0123456789abcdef0123456789',
    TOKEN_ENCRYPTION_KEY: 'b'.repeat(64),
    ...(mongoUri ? { MONGODB_URI: mongoUri } : { SQLITE_FILE: sqliteFile }),
    PORT: String(port),
    PUBLIC_URL: publicUrl,
    SENCE_RCE_TEST_URL: `${sence.url}/rcetest/Registro`,
    SENCE_RCE_PRODUCTION_URL: `${sence.url}/rce/Registro`,
    TOOL_PLATFORM: JSON.stringify(lms.platform),
    TOOL_RATE_LIMITS: JSON.stringify(LIFTED_RATE_LIMITS),
    TOOL_NO_SWEEPS: '1',
    TOOL_PRINT_ROUTES: '1',
  };

  // What the process prints, scanned line by line as it arrives (not kept whole: a long run logs
  // hundreds of megabytes).
  let markers: string[] = [];
  let routesLine = '';
  let tool: ToolProcess;
  let restarts = 0;
  const start = async () => {
    tool = await startToolProcess('fuzz', env, 120_000);
    routesLine = /^ROUTES (.*)$/m.exec(tool.output())?.[1] ?? routesLine;
    let partial = '';
    const scan = (chunk: Buffer) => {
      const lines = (partial + chunk.toString()).split('\n');
      partial = lines.pop() ?? '';
      for (const line of lines) if (/^(UNHANDLED-REJECTION|UNCAUGHT-EXCEPTION) /.test(line)) markers.push(line.slice(0, 2000));
    };
    tool.child.stdout?.on('data', scan);
    tool.child.stderr?.on('data', scan);
  };
  await start();
  const alive = () => tool.child.exitCode === null && tool.child.signalCode === null;

  const routes = JSON.parse(routesLine) as AppRoute[];
  const asSystem = { url: publicUrl, lms } as unknown as TestSystem;
  const staff = await launchAs(asSystem, 'diego');
  const learner = await launchAs(asSystem, 'ana');
  const deepLink = await launchAs(asSystem, 'diego', { deepLink: true });
  const context: FuzzContext = {
    routes,
    ltiks: { staff: staff.ltik, learner: learner.ltik, 'deep-link': deepLink.ltik },
    courses: { staff: staff.course, learner: learner.course, 'deep-link': deepLink.course },
    issuer: lms.issuer,
    clientId: lms.clientId,
    publicUrl,
    publicFiles: fs.readdirSync(publicDir),
  };
  const reader = mongoUri ? await mongoReader(mongoUri) : sqliteReader(sqliteFile);
  let before = await reader.snapshot();

  const healthy = async () => (await send(port, { method: 'GET', path: '/healthz', headers: {}, body: null }, 10_000)).status === 200;

  return {
    context,
    routes,
    store,
    async exchange(req) {
      const problems: string[] = [];
      const result = await send(port, req, timeoutMs);
      if (result.status === 0) problems.push(`no answer within ${timeoutMs / 1000} s`);
      if (result.status >= 500) problems.push(`answered ${result.status}`);
      // A death may be reported a moment after the connection dropped.
      if (result.status <= 0 || result.status >= 500) await new Promise((r) => setTimeout(r, 150));
      if (!alive()) problems.push(`the tool process died (exit ${String(tool.child.exitCode ?? tool.child.signalCode)})`);
      else if (result.status <= 0 && !(await healthy())) problems.push('the tool no longer answers /healthz');
      if (markers.length) {
        problems.push(...markers);
        markers = [];
      }
      if (alive()) {
        const after = await reader.snapshot();
        if (result.status >= 400 && result.status < 500) {
          const changed = changedTables(before, after);
          if (changed.length) problems.push(`refused with ${result.status} but stored rows changed: ${changed.join(' | ')}`);
        }
        before = after;
      }
      if (problems.length && tool.output().length < 2_000_000) {
        const tail = tool.output().split('\n').filter((l) => /"level":"error"|UNCAUGHT|UNHANDLED|Error/.test(l)).slice(-3);
        if (tail.length) problems.push(`tool log: ${tail.join(' / ').slice(0, 1500)}`);
      }
      return { status: result.status, problems };
    },
    async ensureAlive() {
      if (alive()) return;
      restarts += 1;
      markers = [];
      await start();
      before = await reader.snapshot();
    },
    restarts: () => restarts,
    healthy,
    async stop() {
      await reader.close().catch(() => undefined);
      await tool.stop();
      await lms.close();
      await sence.close();
      if (mongoUri) await dropMongoDatabase(mongoUri).catch(() => undefined);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
