/**
 * A tiny browser stand-in for integration tests: real HTTP (fetch), a cookie jar per host, manual
 * redirects, and a parser for the auto-submitting forms that LTI and SENCE use.
 */
export interface HttpResponse {
  status: number;
  headers: Headers;
  text: string;
  url: string;
}

export interface ParsedForm {
  action: string;
  method: string;
  fields: Record<string, string>;
}

export function decodeEntities(s: string): string {
  return s
    .replace(/&#x([0-9a-f]+);/gi, (_, h: string) => String.fromCodePoint(parseInt(h, 16)))
    .replace(/&#(\d+);/g, (_, d: string) => String.fromCodePoint(Number(d)))
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function attr(tag: string, name: string): string | null {
  const m = new RegExp(`\\s${name}\\s*=\\s*("([^"]*)"|'([^']*)')`, 'i').exec(tag);
  return m ? decodeEntities(m[2] ?? m[3] ?? '') : null;
}

/** All forms of a page (action resolved against `base`), with their hidden and text inputs. */
export function parseForms(html: string, base: string): ParsedForm[] {
  const forms: ParsedForm[] = [];
  const re = /<form\b[^>]*>([\s\S]*?)<\/form>/gi;
  let m: RegExpExecArray | null;
  while ((m = re.exec(html))) {
    const open = /<form\b[^>]*>/i.exec(m[0])?.[0] ?? '';
    const fields: Record<string, string> = {};
    const inputs = m[1]?.match(/<input\b[^>]*>/gi) ?? [];
    for (const input of inputs) {
      const name = attr(input, 'name');
      if (name) fields[name] = attr(input, 'value') ?? '';
    }
    forms.push({ action: new URL(attr(open, 'action') ?? base, base).toString(), method: (attr(open, 'method') ?? 'get').toLowerCase(), fields });
  }
  return forms;
}

export function formById(html: string, base: string, id: string): ParsedForm {
  const re = new RegExp(`<form\\b[^>]*id="${id}"[^>]*>[\\s\\S]*?<\\/form>`, 'i');
  const m = re.exec(html);
  if (!m) throw new Error(`form #${id} not found in page:\n${html.slice(0, 2000)}`);
  const [form] = parseForms(m[0], base);
  if (!form) throw new Error(`form #${id} could not be parsed`);
  return form;
}

export class HttpClient {
  private readonly jar = new Map<string, Map<string, string>>();
  /** false: a browser blocking third-party cookies in the LMS's iframe (nothing is kept or sent). */
  readonly keepsCookies: boolean;

  constructor(opts: { cookies?: boolean } = {}) {
    this.keepsCookies = opts.cookies ?? true;
  }

  cookies(url: string): Map<string, string> {
    const host = new URL(url).host;
    let c = this.jar.get(host);
    if (!c) this.jar.set(host, (c = new Map()));
    return c;
  }

  async request(url: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}): Promise<HttpResponse> {
    const headers: Record<string, string> = { accept: 'text/html', ...init.headers };
    const jar = this.cookies(url);
    if (jar.size) headers.cookie = [...jar.entries()].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(url, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair, ...attrs] = line.split(';');
      const eq = pair?.indexOf('=') ?? -1;
      if (!pair || eq < 0) continue;
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attrs.some((a) => /max-age=0/i.test(a) || /expires=Thu, 01 Jan 1970/i.test(a));
      if (expired || value === '') jar.delete(name);
      else if (this.keepsCookies) jar.set(name, value);
    }
    return { status: res.status, headers: res.headers, text: await res.text(), url };
  }

  get(url: string, headers?: Record<string, string>): Promise<HttpResponse> {
    return this.request(url, { headers });
  }

  post(url: string, form: Record<string, string>, headers?: Record<string, string>): Promise<HttpResponse> {
    return this.request(url, { form, headers });
  }

  /** Follows redirects (GET) from a response. */
  async follow(res: HttpResponse, max = 5): Promise<HttpResponse> {
    let current = res;
    for (let i = 0; i < max && current.status >= 300 && current.status < 400; i++) {
      const location = current.headers.get('location');
      if (!location) break;
      current = await this.get(new URL(location, current.url).toString());
    }
    return current;
  }

  /** Submits a parsed form like a browser would (POST forms only). */
  submit(form: ParsedForm, overrides: Record<string, string> = {}): Promise<HttpResponse> {
    return this.post(form.action, { ...form.fields, ...overrides });
  }
}
