/**
 * The launch benchmark's load-generator client (bench/raw-http.ts, bench/launch-client.ts) against
 * a real node:http server: a wrong answer here would make every launch figure wrong (a panel read
 * short, a cookie lost, a request sent twice).
 */
import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { BenchBrowser, connectionPool, locationOf } from '../../bench/launch-client';
import { ConnectionPool } from '../../bench/raw-http';

let server: http.Server;
let base: string;
let port: number;
const sockets = new Set<Socket>();
let posts = 0;
let slow = 0;

beforeAll(async () => {
  server = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (c: string) => (body += c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://x');
      if (url.pathname === '/length') {
        res.setHeader('set-cookie', ['a=1; Path=/; HttpOnly', 'b=2; Path=/']);
        res.end(`ñandú ${'x'.repeat(70_000)}`); // several TCP reads, multi-byte UTF-8
      } else if (url.pathname === '/chunked') {
        res.write('uno,');
        setTimeout(() => res.end('dos'), 5);
      } else if (url.pathname === '/close') {
        res.setHeader('connection', 'close');
        res.end('bye');
      } else if (url.pathname === '/echo') {
        posts += 1;
        res.setHeader('content-type', 'application/json');
        res.end(JSON.stringify({ method: req.method, body, cookie: req.headers.cookie ?? null, type: req.headers['content-type'] ?? null }));
      } else if (url.pathname === '/forget') {
        res.setHeader('set-cookie', 'a=; Max-Age=0; Path=/');
        res.end('ok');
      } else if (url.pathname === '/redirect') {
        res.statusCode = 302;
        res.setHeader('location', '/length?x=1');
        res.end();
      } else if (url.pathname === '/slow') {
        slow += 1;
        setTimeout(() => res.end('late'), 500);
      } else {
        res.statusCode = 404;
        res.end('no');
      }
    });
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
  base = `http://127.0.0.1:${port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

it('reads a long Content-Length body exactly, keeps every Set-Cookie, and reuses the connection', async () => {
  const pool = connectionPool();
  try {
    const before = sockets.size;
    const first = await pool.request('127.0.0.1', port, 'GET', `GET /length HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(first.status).toBe(200);
    expect(first.body).toBe(`ñandú ${'x'.repeat(70_000)}`);
    expect(first.setCookies).toEqual(['a=1; Path=/; HttpOnly', 'b=2; Path=/']);
    await pool.request('127.0.0.1', port, 'GET', `GET /length HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(sockets.size).toBe(before + 1);
  } finally {
    pool.destroy();
  }
});

it('decodes a chunked answer', async () => {
  const pool = new ConnectionPool();
  try {
    const res = await pool.request('127.0.0.1', port, 'GET', `GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(res.headers.get('transfer-encoding')).toBe('chunked');
    expect(res.body).toBe('uno,dos');
  } finally {
    pool.destroy();
  }
});

it('opens a new connection after an answer with Connection: close', async () => {
  const pool = new ConnectionPool();
  try {
    expect((await pool.request('127.0.0.1', port, 'GET', `GET /close HTTP/1.1\r\nHost: x\r\n\r\n`)).body).toBe('bye');
    expect((await pool.request('127.0.0.1', port, 'GET', `GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n`)).body).toBe('uno,dos');
  } finally {
    pool.destroy();
  }
});

it('sends a request once more on a new connection when the server had closed the idle one, and only then', async () => {
  const pool = new ConnectionPool();
  try {
    const browser = new BenchBrowser(pool);
    posts = 0;
    await browser.post(`${base}/echo`, { a: '1' });
    for (const s of sockets) s.destroy(); // the server drops its idle keep-alive connections
    const again = await browser.post(`${base}/echo`, { a: '2' });
    expect(JSON.parse(again.body)).toMatchObject({ method: 'POST', body: 'a=2' });
    expect(posts).toBe(2);
  } finally {
    pool.destroy();
  }
});

it('fails a request that takes longer than its timeout, naming the method, and does not send it again', async () => {
  const pool = new ConnectionPool(100);
  try {
    await pool.request('127.0.0.1', port, 'GET', `GET /chunked HTTP/1.1\r\nHost: x\r\n\r\n`); // the slow one reuses this connection
    slow = 0;
    await expect(pool.request('127.0.0.1', port, 'POST', `POST /slow HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n`)).rejects.toThrow('POST timed out after 100 ms');
    // The server got it (under load that may take a moment), and nothing came after it.
    for (const started = Date.now(); slow === 0 && Date.now() - started < 5000; ) await new Promise((r) => setTimeout(r, 20));
    await new Promise((r) => setTimeout(r, 150));
    expect(slow).toBe(1);
  } finally {
    pool.destroy();
  }
});

it('a browser posts a URL-encoded form, sends back the cookies it was given, forgets a cleared one, and resolves a relative redirect', async () => {
  const pool = connectionPool();
  try {
    const browser = new BenchBrowser(pool);
    const posted = await browser.post(`${base}/echo`, { id_token: 'a.b.c', state: 'é&=' });
    expect(JSON.parse(posted.body)).toEqual({ method: 'POST', body: 'id_token=a.b.c&state=%C3%A9%26%3D', cookie: null, type: 'application/x-www-form-urlencoded' });
    await browser.get(`${base}/length`);
    expect(JSON.parse((await browser.get(`${base}/echo`)).body)).toMatchObject({ method: 'GET', cookie: 'a=1; b=2' });
    await browser.get(`${base}/forget`);
    expect(JSON.parse((await browser.get(`${base}/echo`)).body)).toMatchObject({ cookie: 'b=2' });
    const redirect = await browser.get(`${base}/redirect`);
    expect(locationOf(redirect, 'step')).toBe(`${base}/length?x=1`);
    expect(() => locationOf(posted, 'login')).toThrow('login: expected a redirect, got 200');
  } finally {
    pool.destroy();
  }
});
