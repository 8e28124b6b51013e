/**
 * The launch benchmark's load-generator client: raw HTTP/1.1 over keep-alive sockets
 * (`raw-http.ts`, the kind of client autocannon is for the baseline), manual redirects, and a
 * per-browser cookie jar keyed by host, so each simulated learner carries its own cookies.
 */
import { Buffer } from 'node:buffer';
import { ConnectionPool } from './raw-http';

export interface ClientResponse {
  status: number;
  /** Header names lower-cased. */
  headers: Map<string, string>;
  body: string;
  /** The absolute URL that was requested (to resolve relative redirects against). */
  url: string;
}

/** One pool of keep-alive connections shared by every simulated browser of the run. */
export function connectionPool(): ConnectionPool {
  return new ConnectionPool();
}

/**
 * A browser stand-in: cookies per host (name → value), no redirects followed by itself. Cheap to
 * create: one per launch, as each launch is a learner opening the tool in a fresh browser.
 */
export class BenchBrowser {
  private readonly jar = new Map<string, Map<string, string>>();

  constructor(private readonly pool: ConnectionPool) {}

  get(url: string): Promise<ClientResponse> {
    return this.request('GET', url, undefined);
  }

  /** The Cookie header this browser would send to `url` ('' when none). */
  cookieHeader(url: string): string {
    return this.cookieLine(new URL(url).host);
  }

  private cookieLine(host: string): string {
    const cookies = this.jar.get(host);
    let line = '';
    if (cookies) for (const [k, v] of cookies) line += `${line ? '; ' : ''}${k}=${v}`;
    return line;
  }

  post(url: string, form: Record<string, string>): Promise<ClientResponse> {
    return this.request('POST', url, new URLSearchParams(form).toString());
  }

  private async request(method: 'GET' | 'POST', url: string, body: string | undefined): Promise<ClientResponse> {
    const u = new URL(url);
    let head = `${method} ${u.pathname}${u.search} HTTP/1.1\r\nHost: ${u.host}\r\nAccept: text/html\r\n`;
    const cookies = this.cookieLine(u.host);
    if (cookies) head += `Cookie: ${cookies}\r\n`;
    if (body !== undefined) {
      head += `Content-Type: application/x-www-form-urlencoded\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
    }
    // 'localhost' may resolve to ::1 first; every server of the benchmark listens on 127.0.0.1.
    const host = u.hostname === 'localhost' ? '127.0.0.1' : u.hostname;
    // A form body is ASCII (URL-encoded), so latin1 on the wire is exact.
    const res = await this.pool.request(host, Number(u.port || 80), method, `${head}\r\n${body ?? ''}`);
    this.store(u.host, res.setCookies);
    return { status: res.status, headers: res.headers, body: res.body, url };
  }

  private store(host: string, setCookie: string[]): void {
    if (setCookie.length === 0) return;
    let jar = this.jar.get(host);
    if (!jar) this.jar.set(host, (jar = new Map()));
    for (const line of setCookie) {
      const semi = line.indexOf(';');
      const pair = semi < 0 ? line : line.slice(0, semi);
      const eq = pair.indexOf('=');
      if (eq <= 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const attrs = semi < 0 ? '' : line.slice(semi);
      if (value === '' || /max-age=0/i.test(attrs) || /expires=Thu, 01 Jan 1970/i.test(attrs)) jar.delete(name);
      else jar.set(name, value);
    }
  }
}

/** Absolute URL of a redirect's Location, or an error naming the step. */
export function locationOf(res: ClientResponse, step: string): string {
  const loc = res.headers.get('location');
  if (res.status < 300 || res.status >= 400 || !loc) {
    throw new Error(`${step}: expected a redirect, got ${res.status}: ${res.body.slice(0, 200).replace(/\s+/g, ' ')}`);
  }
  return new URL(loc, res.url).toString();
}

const FORM_RE = /<form\b[^>]*\bmethod="post"[^>]*\baction="([^"]*)"[^>]*>([\s\S]*?)<\/form>/;
const INPUT_RE = /<input type="hidden" name="([^"]*)" value="([^"]*)">/g;

function unescapeHtml(s: string): string {
  return s.replace(/&(amp|lt|gt|quot|#39|#96);/g, (m, e: string) => ({ amp: '&', lt: '<', gt: '>', quot: '"', '#39': "'", '#96': '`' })[e] ?? m);
}

/** The auto-posting form of the simulator's authorization response (action, id_token, state). */
export function parsePostForm(page: string, base: string): { action: string; fields: Record<string, string> } | null {
  const m = FORM_RE.exec(page);
  if (!m) return null;
  const fields: Record<string, string> = {};
  for (const f of (m[2] ?? '').matchAll(INPUT_RE)) fields[unescapeHtml(f[1] ?? '')] = unescapeHtml(f[2] ?? '');
  return { action: new URL(unescapeHtml(m[1] ?? ''), base).toString(), fields };
}
