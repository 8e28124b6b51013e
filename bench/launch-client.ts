/**
 * A small load-generator HTTP client for the launch benchmark: node:http over a keep-alive Agent
 * (much less client CPU per request than fetch/undici's Web streams), manual redirects, and a
 * per-browser cookie jar keyed by host, so each simulated learner carries its own ltijs cookies.
 */
import http from 'node:http';

export interface ClientResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
  /** The absolute URL that was requested (to resolve relative redirects against). */
  url: string;
}

/** One keep-alive connection pool shared by every simulated browser of the run. */
export function keepAliveAgent(maxSockets: number): http.Agent {
  return new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets, scheduling: 'lifo' });
}

/**
 * A browser stand-in: cookies per host (name → value), no redirects followed by itself. Cheap to
 * create: one per launch, as each launch is a learner opening the tool in a fresh browser.
 */
export class BenchBrowser {
  private readonly jar = new Map<string, Map<string, string>>();

  constructor(
    private readonly agent: http.Agent,
    private readonly timeoutMs = 10_000,
  ) {}

  get(url: string): Promise<ClientResponse> {
    return this.request('GET', url, undefined);
  }

  /** The Cookie header this browser would send to `url` ('' when none). */
  cookieHeader(url: string): string {
    const cookies = this.jar.get(new URL(url).host);
    return cookies ? [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') : '';
  }

  post(url: string, form: Record<string, string>): Promise<ClientResponse> {
    return this.request('POST', url, new URLSearchParams(form).toString());
  }

  private request(method: 'GET' | 'POST', url: string, body: string | undefined): Promise<ClientResponse> {
    const u = new URL(url);
    const headers: http.OutgoingHttpHeaders = { host: u.host, accept: 'text/html' };
    const cookies = this.jar.get(u.host);
    if (cookies && cookies.size > 0) {
      let line = '';
      for (const [k, v] of cookies) line += `${line ? '; ' : ''}${k}=${v}`;
      headers.cookie = line;
    }
    if (body !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      headers['content-length'] = Buffer.byteLength(body);
    }
    return new Promise<ClientResponse>((resolve, reject) => {
      const req = http.request(
        {
          agent: this.agent,
          method,
          // 'localhost' may resolve to ::1 first; every server of the benchmark listens on 127.0.0.1.
          hostname: u.hostname === 'localhost' ? '127.0.0.1' : u.hostname,
          port: u.port,
          path: `${u.pathname}${u.search}`,
          headers,
          timeout: this.timeoutMs,
        },
        (res) => {
          this.store(u.host, res.headers['set-cookie']);
          res.setEncoding('utf8');
          let text = '';
          res.on('data', (chunk: string) => {
            text += chunk;
          });
          res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text, url }));
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`${method} ${u.pathname} timed out after ${this.timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
  }

  private store(host: string, setCookie: string[] | undefined): void {
    if (!setCookie) return;
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
  const loc = res.headers.location;
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
