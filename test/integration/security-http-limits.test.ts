/**
 * Issue #19 §5: the server set no request or header timeouts and no connection cap (Node's
 * defaults: 60 s for headers, 5 min for a request, no cap). With short values configured, over real
 * sockets: a request whose headers never end is cut; an upload whose body dribbles on is cut when
 * the whole request took too long; an idle keep-alive connection is closed after its timeout; past
 * the connection cap a new connection is closed at once, and the tool serves again once below it.
 *
 * SQLite pass only: no store plays a part in how the HTTP server treats connections.
 */
import net from 'node:net';
import { startTestSystem, type TestSystem } from '../support/test-system';

jest.setTimeout(120_000);

let sys: TestSystem;
let port: number;

beforeAll(async () => {
  sys = await startTestSystem({ HTTP_HEADERS_TIMEOUT_SECONDS: '1', HTTP_REQUEST_TIMEOUT_SECONDS: '2', HTTP_KEEP_ALIVE_TIMEOUT_SECONDS: '3', HTTP_MAX_CONNECTIONS: '12' });
  port = Number(new URL(sys.url).port);
});
afterAll(async () => {
  await sys?.stop();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Opens a socket; resolves once connected. `closedAfterMs()` is how long it lived (null: still open). */
async function open(): Promise<{ socket: net.Socket; received: () => string; closedAfterMs: () => number | null }> {
  const socket = net.connect(port, '127.0.0.1');
  let text = '';
  let closedAt: number | null = null;
  const start = Date.now();
  socket.on('data', (c: Buffer) => (text += c.toString()));
  socket.on('error', () => undefined);
  socket.on('close', () => (closedAt = Date.now()));
  await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
  return { socket, received: () => text, closedAfterMs: () => (closedAt === null ? null : closedAt - start) };
}

async function waitClosed(c: { closedAfterMs: () => number | null }, maxMs: number): Promise<number | null> {
  const until = Date.now() + maxMs;
  while (c.closedAfterMs() === null && Date.now() < until) await sleep(50);
  return c.closedAfterMs();
}

it('the server carries the configured limits', () => {
  expect({ headers: sys.server.headersTimeout, request: sys.server.requestTimeout, keepAlive: sys.server.keepAliveTimeout, max: sys.server.maxConnections }).toEqual({ headers: 1000, request: 2000, keepAlive: 3000, max: 12 });
});

it('headers that never end are cut (408) after the headers timeout', async () => {
  const c = await open();
  c.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: `);
  const after = await waitClosed(c, 10_000);
  expect(after).not.toBeNull();
  expect(after!).toBeLessThan(5000);
  expect(c.received()).toMatch(/^HTTP\/1\.1 408/);
});

it('an upload whose body dribbles on is cut when the whole request took longer than the request timeout', async () => {
  const c = await open();
  const boundary = '----drip';
  c.socket.write(`POST /lti/staff/actions/upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\nContent-Length: 100000\r\n\r\n--${boundary}\r\nContent-Disposition: form-data; name="ltik"\r\n\r\n`);
  // One byte every 200 ms: each arrives well within any idle timeout, the whole never ends.
  const drip = setInterval(() => c.socket.write('A'), 200);
  const after = await waitClosed(c, 15_000);
  clearInterval(drip);
  expect(after).not.toBeNull();
  expect(after!).toBeGreaterThanOrEqual(1900);
  expect(after!).toBeLessThan(6000);
});

it('an idle keep-alive connection is closed after the keep-alive timeout, not before', async () => {
  const c = await open();
  c.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
  await sleep(2500); // past the headers and request timeouts: idle keep-alive is not a request
  expect(c.closedAfterMs()).toBeNull();
  expect(c.received()).toMatch(/^HTTP\/1\.1 200/);
  const after = await waitClosed(c, 10_000);
  expect(after).not.toBeNull();
  expect(after!).toBeLessThan(6000);
});

it('past the connection cap a new connection is closed at once; below it the tool serves again', async () => {
  // 12 connections held open (each with a request started, so the test's own timing decides).
  const held = await Promise.all(Array.from({ length: 12 }, () => open()));
  await sleep(200);
  const extra = await open();
  const after = await waitClosed(extra, 3000);
  expect(after).not.toBeNull();
  expect(extra.received()).toBe('');
  for (const h of held) h.socket.destroy();
  await sleep(300);
  expect((await fetch(`${sys.url}/healthz`)).status).toBe(200);
});
