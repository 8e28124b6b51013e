/**
 * Issue #19 §5: the upload's multipart body was read (the file buffered) before its Origin and its
 * ltik were checked. Now the Origin is judged on the headers, before any body byte is read, and the
 * ltik (sent by the page as a hidden field BEFORE the file) when the file part starts: a file part
 * with no valid staff ltik before it is refused at once, the connection closed, the rest of the
 * body never read.
 *
 * "Before the file is read" is shown over a raw socket: the client announces a 10 MB body, sends the
 * fields and the start of the file, and stops. An answer can only come if the server decided
 * without the rest of the body — the old code waited for all 10 MB and never answered.
 *
 * Both stores: the ltik is resolved through ltijs's records (SQLite or MongoDB).
 */
import net from 'node:net';
import { launchAs, type Launch } from '../support/lti-flow';
import { startTestSystem, type TestSystem } from '../support/test-system';
import { decodeEntities } from '../support/http-client';
import { STAFF_ONLY_MESSAGE } from '../../src/web/staff-guard';
import { LTIK_FIELD_MAX_BYTES } from '../../src/web/upload-parser';

jest.setTimeout(120_000);

let sys: TestSystem;
let diego: Launch; // staff
let ana: Launch; // learner

beforeAll(async () => {
  sys = await startTestSystem();
  diego = await launchAs(sys, 'diego');
  ana = await launchAs(sys, 'ana');
});
afterAll(async () => {
  await sys?.stop();
});

const SESSION_INVALID = 'Tu sesión en la herramienta no es válida. Vuelve a entrar desde tu curso.';
const FILE_BEFORE_LTIK = 'El formulario llegó sin su sesión antes del archivo';
const ORIGIN_REFUSED = 'Esta acción solo se puede hacer desde las páginas de Asistencia SENCE o de tu plataforma.';

interface Answer {
  status: number;
  headers: Map<string, string>;
  text: string;
  /** The server closed the connection (after its answer). */
  closed: boolean;
}

/**
 * POST to the upload route over a raw socket: `fields` (in order), then a file part with
 * `fileBytes` bytes; `complete` ends the body, otherwise the body stalls (10 MB announced). Resolves
 * with the answer, or null when none came within `waitMs`.
 */
function upload(opts: { fields: Array<[string, string]>; fileBytes?: number; file?: Buffer; complete?: boolean; origin?: string; noBody?: boolean; waitMs?: number }): Promise<Answer | null> {
  const port = new URL(sys.url).port;
  const boundary = '----k' + Math.random().toString(16).slice(2);
  const parts: Buffer[] = [];
  for (const [name, value] of opts.fields) parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  const file = opts.file ?? Buffer.alloc(opts.fileBytes ?? 0, 0x41);
  parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="archivo"; filename="acciones.csv"\r\nContent-Type: text/csv\r\n\r\n`), file);
  if (opts.complete) parts.push(Buffer.from(`\r\n--${boundary}--\r\n`));
  const body = opts.noBody ? Buffer.alloc(0) : Buffer.concat(parts);
  const length = opts.complete ? body.length : 10 * 1024 * 1024;
  const head = [
    `POST /lti/staff/actions/upload HTTP/1.1`,
    `Host: 127.0.0.1:${port}`,
    `Content-Type: multipart/form-data; boundary=${boundary}`,
    `Content-Length: ${length}`,
    ...(opts.origin ? [`Origin: ${opts.origin}`] : []),
    '',
    '',
  ].join('\r\n');
  return new Promise((resolve) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    let raw = Buffer.alloc(0);
    let settled = false;
    const finish = (answer: Answer | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const parse = (closed: boolean): Answer | null => {
      const text = raw.toString('utf8');
      const end = text.indexOf('\r\n\r\n');
      if (end < 0) return null;
      const [statusLine, ...lines] = text.slice(0, end).split('\r\n');
      const headers = new Map(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
      const bodyText = text.slice(end + 4);
      const want = Number(headers.get('content-length') ?? NaN);
      if (!closed && !(Buffer.byteLength(bodyText) >= want)) return null;
      return { status: Number(statusLine!.split(' ')[1]), headers, text: decodeEntities(bodyText), closed };
    };
    const timer = setTimeout(() => finish(parse(false)), opts.waitMs ?? 15_000);
    socket.on('error', () => undefined);
    socket.on('data', (chunk: Buffer) => {
      raw = Buffer.concat([raw, chunk]);
      // A complete answer ends the wait, except one that says `Connection: close`: then the close is awaited.
      const complete = parse(false);
      if (complete && complete.headers.get('connection') !== 'close') finish(complete);
    });
    socket.on('close', () => finish(parse(true)));
    socket.once('connect', () => {
      socket.write(head);
      if (body.length) socket.write(body);
    });
  });
}

describe('an upload is refused before its file is read', () => {
  it('a file part with no ltik before it: 401, connection closed', async () => {
    const answer = await upload({ fields: [], fileBytes: 200_000 });
    expect(answer).not.toBeNull();
    expect(answer!.status).toBe(401);
    expect(answer!.text).toContain(FILE_BEFORE_LTIK);
    expect(answer!.headers.get('connection')).toBe('close');
    expect(answer!.closed).toBe(true);
  });

  it('a forged ltik: 401 in Spanish, connection closed', async () => {
    const [h, p] = diego.ltik.split('.');
    const forged = `${h}.${p}.${'A'.repeat(43)}`;
    const answer = await upload({ fields: [['ltik', forged], ['course', diego.course]], fileBytes: 200_000 });
    expect(answer?.status).toBe(401);
    expect(answer!.text).toContain(SESSION_INVALID);
    expect(answer!.closed).toBe(true);
  });

  it('a learner\'s ltik: 403 with the staff-only message, connection closed, nothing stored', async () => {
    const before = await sys.stores.enrollments.list({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId });
    const answer = await upload({ fields: [['ltik', ana.ltik], ['course', ana.course]], fileBytes: 200_000 });
    expect(answer?.status).toBe(403);
    expect(answer!.text).toContain(STAFF_ONLY_MESSAGE);
    expect(answer!.closed).toBe(true);
    expect(await sys.stores.enrollments.list({ issuer: sys.lms!.issuer, clientId: sys.lms!.clientId, contextId: sys.lms!.course.contextId })).toEqual(before);
  });

  it('a foreign Origin: 403 on the headers alone (not one body byte sent), connection closed', async () => {
    const answer = await upload({ fields: [['ltik', diego.ltik], ['course', diego.course]], origin: 'https://evil.example', noBody: true });
    expect(answer?.status).toBe(403);
    expect(answer!.text).toContain(ORIGIN_REFUSED);
    expect(answer!.closed).toBe(true);
  });

  it(`an ltik field of ${LTIK_FIELD_MAX_BYTES} bytes is read (then judged: forged, 401); one byte more is refused as too long (400)`, async () => {
    const atLimit = await upload({ fields: [['ltik', 'A'.repeat(LTIK_FIELD_MAX_BYTES)]], fileBytes: 1000 });
    expect(atLimit?.status).toBe(401);
    expect(atLimit!.text).toContain(SESSION_INVALID);
    const over = await upload({ fields: [['ltik', 'A'.repeat(LTIK_FIELD_MAX_BYTES + 1)]], fileBytes: 1000 });
    expect(over?.status).toBe(400);
    expect(over!.text).toContain('Un campo del formulario es demasiado largo');
    expect(over!.closed).toBe(true);
  });
});

describe('the staff upload itself', () => {
  it('a staff ltik before the file: the stalled file is waited for (no refusal), a complete one is saved', async () => {
    const stalled = await upload({ fields: [['ltik', diego.ltik], ['course', diego.course]], fileBytes: 1000, waitMs: 2000 });
    expect(stalled).toBeNull();
    const done = await upload({ fields: [['ltik', diego.ltik], ['course', diego.course]], file: Buffer.from('RUN;CodigoCurso\r\n9876543-3;ACCION-DOS-0001\r\n'), complete: true, origin: new URL(sys.lms!.url).origin });
    expect(done?.status).toBe(200);
    expect(done!.text).toContain('Se guardaron 1 fila(s) del archivo «acciones.csv».');
  });
});
