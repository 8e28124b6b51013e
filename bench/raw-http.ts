/**
 * HTTP/1.1 over keep-alive `net` sockets, for the launch benchmark's load generator: what autocannon
 * does for the bare baseline (raw sockets, no `http.Agent`, no streams per request), so the launch
 * figures are not held down by a heavier client than the baseline's on the same cores. node:http
 * cost the load generator 1.0–1.3 ms of CPU per launch (3 requests), about 40 % more than this
 * client, on the cores the servers share (bench/README.md).
 *
 * Enough of HTTP/1.1 for the benchmark's servers and nothing more: one request at a time per
 * connection (no pipelining), responses framed by Content-Length or chunked transfer coding (or,
 * with neither, by the server closing), `Connection: close` honoured. A connection the server
 * closed while idle is replaced once, before any byte of the answer came.
 */
import net from 'node:net';

export interface RawResponse {
  status: number;
  /** Header names lower-cased; repeated headers other than Set-Cookie keep their last value. */
  headers: Map<string, string>;
  setCookies: string[];
  body: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const CRLF = Buffer.from('\r\n');

/** A parsed head and how the body that follows is framed. */
interface Head {
  status: number;
  headers: Map<string, string>;
  setCookies: string[];
  bodyStart: number;
  framing: { kind: 'length'; length: number } | { kind: 'chunked' } | { kind: 'close' } | { kind: 'none' };
  keepAlive: boolean;
}

function parseHead(buf: Buffer, end: number, method: string): Head {
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!statusLine) throw new Error(`not an HTTP/1.1 status line: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`);
  const status = Number(statusLine[1]);
  const headers = new Map<string, string>();
  const setCookies: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    if (name === 'set-cookie') setCookies.push(value);
    else headers.set(name, value);
  }
  const keepAlive = !/\bclose\b/i.test(headers.get('connection') ?? '');
  const te = headers.get('transfer-encoding');
  const cl = headers.get('content-length');
  let framing: Head['framing'];
  // The client never sends Expect: 100-continue nor an Upgrade, so an informational answer is a fault.
  if (status < 200) throw new Error(`unexpected informational answer ${status}`);
  if (method === 'HEAD' || status === 204 || status === 304) framing = { kind: 'none' };
  else if (te !== undefined) {
    if (!/^chunked$/i.test(te)) throw new Error(`unsupported transfer-encoding: ${te}`);
    framing = { kind: 'chunked' };
  } else if (cl !== undefined) {
    const length = Number(cl);
    if (!Number.isSafeInteger(length) || length < 0) throw new Error(`bad content-length: ${cl}`);
    framing = { kind: 'length', length };
  } else framing = { kind: 'close' };
  return { status, headers, setCookies, bodyStart: end + HEAD_END.length, framing, keepAlive: keepAlive && framing.kind !== 'close' };
}

/**
 * The body of a chunked message in `buf` from `start`, or null while incomplete. Chunk extensions
 * and trailers are skipped.
 */
function decodeChunked(buf: Buffer, start: number): Buffer | null {
  const parts: Buffer[] = [];
  let at = start;
  for (;;) {
    const lineEnd = buf.indexOf(CRLF, at);
    if (lineEnd < 0) return null;
    const size = parseInt(buf.toString('latin1', at, lineEnd).split(';')[0]!.trim(), 16);
    if (!Number.isFinite(size) || size < 0) throw new Error('bad chunk size');
    at = lineEnd + 2;
    if (size === 0) {
      // trailers, then an empty line
      for (;;) {
        const end = buf.indexOf(CRLF, at);
        if (end < 0) return null;
        if (end === at) return Buffer.concat(parts);
        at = end + 2;
      }
    }
    if (buf.length < at + size + 2) return null;
    parts.push(buf.subarray(at, at + size));
    at += size + 2;
  }
}

interface InFlight {
  method: string;
  resolve: (res: RawResponse) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
  /** Whether any byte of the answer arrived (a request is only retried before that). */
  answered: boolean;
}

class Connection {
  readonly socket: net.Socket;
  private buf: Buffer = Buffer.alloc(0);
  private head: Head | null = null;
  private inFlight: InFlight | null = null;
  closed = false;

  constructor(
    host: string,
    port: number,
    private readonly onIdle: (c: Connection) => void,
    private readonly onGone: (c: Connection) => void,
  ) {
    this.socket = net.connect({ host, port, noDelay: true });
    this.socket.on('data', (chunk: Buffer) => this.onData(chunk));
    this.socket.on('error', (err) => this.fail(err));
    this.socket.on('close', () => {
      this.closed = true;
      this.onGone(this);
      if (this.inFlight && this.head?.framing.kind === 'close') this.finish(this.buf.subarray(this.head.bodyStart));
      else this.fail(new Error('connection closed by the server before the answer was complete'));
    });
  }

  send(method: string, raw: string, timeoutMs: number): Promise<RawResponse> {
    return new Promise<RawResponse>((resolve, reject) => {
      const timer = setTimeout(() => {
        // Never sent again: the server may be working on it.
        this.fail(new Error(`${method} timed out after ${timeoutMs} ms`), false);
        this.socket.destroy();
      }, timeoutMs);
      this.inFlight = { method, resolve, reject, timer, answered: false };
      this.buf = Buffer.alloc(0);
      this.head = null;
      this.socket.write(raw, 'latin1');
    });
  }

  private onData(chunk: Buffer): void {
    const req = this.inFlight;
    if (!req) {
      this.socket.destroy(); // bytes nobody asked for: the connection cannot be trusted
      return;
    }
    req.answered = true;
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    try {
      if (!this.head) {
        const end = this.buf.indexOf(HEAD_END);
        if (end < 0) return;
        this.head = parseHead(this.buf, end, req.method);
      }
      const { framing, bodyStart } = this.head;
      if (framing.kind === 'none') this.finish(Buffer.alloc(0));
      else if (framing.kind === 'length') {
        if (this.buf.length >= bodyStart + framing.length) this.finish(this.buf.subarray(bodyStart, bodyStart + framing.length));
      } else if (framing.kind === 'chunked') {
        const body = decodeChunked(this.buf, bodyStart);
        if (body) this.finish(body);
      }
    } catch (err) {
      this.fail(err as Error, false);
      this.socket.destroy();
    }
  }

  private finish(body: Buffer): void {
    const req = this.inFlight;
    const head = this.head;
    if (!req || !head) return;
    this.inFlight = null;
    clearTimeout(req.timer);
    req.resolve({ status: head.status, headers: head.headers, setCookies: head.setCookies, body: body.toString('utf8') });
    if (head.keepAlive && !this.closed) this.onIdle(this);
    else this.socket.destroy();
  }

  /** Rejects the request in flight; `retriable` only when the connection failed before any byte of the answer. */
  fail(err: Error, retriable = true): void {
    const req = this.inFlight;
    if (!req) return;
    this.inFlight = null;
    clearTimeout(req.timer);
    (err as Error & { retriable?: boolean }).retriable = retriable && !req.answered;
    req.reject(err);
  }
}

/** Idle keep-alive connections per host:port, reused last-in first-out; new ones opened on demand. */
export class ConnectionPool {
  private readonly idle = new Map<string, Connection[]>();
  private readonly all = new Set<Connection>();
  /** Connections opened so far (a keep-alive run opens about one per concurrent browser and server). */
  opened = 0;

  constructor(private readonly timeoutMs = 10_000) {}

  /** Sends `raw` (a whole request: head and body) to host:port and reads the answer. */
  async request(host: string, port: number, method: string, raw: string): Promise<RawResponse> {
    const key = `${host}:${port}`;
    const reused = this.take(key);
    const conn = reused ?? this.open(host, port, key);
    try {
      return await conn.send(method, raw, this.timeoutMs);
    } catch (err) {
      // The server may close a keep-alive connection just as it is reused: try once on a new one.
      if (reused && (err as { retriable?: boolean }).retriable) return this.open(host, port, key).send(method, raw, this.timeoutMs);
      throw err;
    }
  }

  destroy(): void {
    for (const c of this.all) c.socket.destroy();
    this.all.clear();
    this.idle.clear();
  }

  private take(key: string): Connection | undefined {
    const list = this.idle.get(key);
    while (list && list.length > 0) {
      const c = list.pop()!;
      if (!c.closed) {
        c.socket.ref();
        return c;
      }
    }
    return undefined;
  }

  private open(host: string, port: number, key: string): Connection {
    this.opened += 1;
    const conn = new Connection(
      host,
      port,
      (c) => {
        let list = this.idle.get(key);
        if (!list) this.idle.set(key, (list = []));
        list.push(c);
        c.socket.unref(); // an idle connection does not keep the process alive (as http.Agent's)
      },
      (c) => {
        this.all.delete(c);
        const list = this.idle.get(key);
        const i = list ? list.indexOf(c) : -1;
        if (list && i >= 0) list.splice(i, 1);
      },
    );
    this.all.add(conn);
    return conn;
  }
}
