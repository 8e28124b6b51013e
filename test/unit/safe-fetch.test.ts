/**
 * Issue #19 §3: the outbound fetcher of dynamic registration. With allowPrivate=false (production's
 * default) a private destination is refused BEFORE any connection, whether the URL names it as an
 * address in any spelling or as a name that resolves to it (checked on the resolved address, at
 * connect time); failures never carry the remote body; a redirect hop is checked again.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchJson, OutboundError } from '../../src/lti/safe-fetch';

let server: http.Server;
let port = 0;
let connections = 0;
const hits: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    if (req.url === '/ok') return void res.setHeader('content-type', 'application/json').end('{"ok":true}');
    if (req.url === '/secret-403') return void res.writeHead(403, { 'content-type': 'text/plain' }).end('SECRETO-INTERNO: panel de administración');
    if (req.url === '/to-loopback') return void res.writeHead(302, { location: `http://127.0.0.1:${port}/ok` }).end();
    res.writeHead(404).end();
  });
  server.on('connection', () => {
    connections += 1;
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => {
  server.closeAllConnections();
  server.close();
});
beforeEach(() => {
  connections = 0;
  hits.length = 0;
});

async function failure(url: string, options: Parameters<typeof fetchJson>[1]): Promise<OutboundError> {
  try {
    await fetchJson(url, options);
  } catch (err) {
    return err as OutboundError;
  }
  throw new Error(`expected ${url} to be refused`);
}

describe('allowPrivate=false: refused before connecting', () => {
  it.each([
    ['dotted loopback', () => `http://127.0.0.1:${port}/ok`],
    ['decimal', () => `http://2130706433:${port}/ok`],
    ['octal', () => `http://0177.0.0.1:${port}/ok`],
    ['hex', () => `http://0x7f.0.0.1:${port}/ok`],
    ['hex, one number', () => `http://0x7f000001:${port}/ok`],
    ['IPv4-mapped IPv6, dotted', () => `http://[::ffff:127.0.0.1]:${port}/ok`],
    ['IPv4-mapped IPv6, hex', () => `http://[::ffff:7f00:1]:${port}/ok`],
    ['IPv6 loopback', () => `http://[::1]:${port}/ok`],
    ['unspecified', () => `http://0.0.0.0:${port}/ok`],
    ['a name that resolves to loopback (checked on the resolved address)', () => `http://localhost:${port}/ok`],
  ])('%s', async (_name, url) => {
    const err = await failure(url(), { allowPrivate: false });
    expect(err).toBeInstanceOf(OutboundError);
    expect(err.kind).toBe('unreachable');
    expect(connections).toBe(0);
    expect(hits).toEqual([]);
  });

  it('a redirect to a private address is refused at its hop, even when redirects are followed', async () => {
    // The first hop is itself loopback here, so allow it and refuse only the second: the check is per hop.
    const err = await failure(`http://localhost:${port}/to-loopback`, { followRedirects: true, allowPrivate: (host) => host === 'localhost' });
    expect(err.kind).toBe('unreachable');
    expect(hits).toEqual(['GET /to-loopback']);
  });
});

describe('allowPrivate=true (tests, development, REGISTRATION_ALLOW_PRIVATE=true)', () => {
  it('reaches the local server', async () => {
    expect(await fetchJson(`http://127.0.0.1:${port}/ok`, { allowPrivate: true })).toEqual({ ok: true });
    expect(await fetchJson(`http://localhost:${port}/ok`, { allowPrivate: true })).toEqual({ ok: true });
  });

  it('a non-2xx answer gives its status, never its body', async () => {
    const err = await failure(`http://127.0.0.1:${port}/secret-403`, { allowPrivate: true });
    expect(err.kind).toBe('status');
    expect(err.status).toBe(403);
    expect(err.message).not.toContain('SECRETO');
    expect(JSON.stringify(err)).not.toContain('SECRETO');
  });

  // (An unknown name takes the same path, but resolving one would ask a DNS server off this machine.)
  it('a closed port and a timeout are the same kind of failure, with the same message for the caller', async () => {
    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const silent = http.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const refusedErr = await failure(`http://127.0.0.1:${closedPort}/`, { allowPrivate: true, timeoutMs: 300 });
      const timeoutErr = await failure(`http://127.0.0.1:${(silent.address() as AddressInfo).port}/`, { allowPrivate: true, timeoutMs: 300 });
      for (const err of [refusedErr, timeoutErr]) {
        expect(err.kind).toBe('unreachable');
        expect(err.message).toBe(refusedErr.message);
      }
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });
});
