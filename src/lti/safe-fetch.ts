/**
 * Outbound HTTP for dynamic registration and platform key sets (issue #7 finding 5, issue #19 §3):
 * a timeout, a size cap, no redirects unless asked (each hop checked again), JSON only, and — unless
 * `allowPrivate` — no private, loopback, link-local, unique-local, CGNAT, multicast, reserved or
 * unspecified destination (address-policy.ts). The check is on the address the socket connects to:
 * an IP literal is judged before the request (the URL parser has already turned decimal, octal and
 * hex spellings into dotted form), a name through the socket's own `lookup`, so the address judged
 * is the address used (a DNS answer that changes between a check and the connect cannot slip past).
 *
 * Errors never carry what the remote side sent: only a kind and, for an HTTP answer, its status.
 * Everything that keeps a connection from producing an answer — refused, reset, timeout, unknown
 * name, TLS failure, a refused address — is one kind, `unreachable`, with one message.
 */
import http from 'node:http';
import https from 'node:https';
import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { classifyAddress } from './address-policy';

export interface SafeFetchOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
  maxBytes?: number;
  /** Registration never follows redirects; a platform's key set may (default false). At most 3 hops. */
  followRedirects?: boolean;
  /**
   * May the request reach a private/loopback/… address? Default true (platform key sets, tests);
   * dynamic registration passes REGISTRATION_ALLOW_PRIVATE (false in production unless the operator
   * sets it). A function decides per host name (tests: allow a first hop, refuse the next).
   */
  allowPrivate?: boolean | ((hostname: string) => boolean);
}

export const OUTBOUND_TIMEOUT_MS = 5000;
export const OUTBOUND_MAX_BYTES = 64 * 1024;
const MAX_REDIRECTS = 3;

export type OutboundErrorKind = 'unreachable' | 'status' | 'redirect' | 'too-large' | 'not-json';

const MESSAGES: Record<OutboundErrorKind, string> = {
  unreachable: 'no se pudo conectar o no respondió a tiempo',
  status: 'respondió con un estado de error',
  redirect: 'respondió con una redirección (no se siguen)',
  'too-large': 'respondió más datos de los permitidos',
  'not-json': 'no respondió un objeto JSON',
};

export class OutboundError extends Error {
  constructor(
    readonly kind: OutboundErrorKind,
    readonly status: number | null = null,
    /** For the server's log only (never shown to the caller): why the connection failed. */
    readonly logDetail: string | null = null,
  ) {
    super(kind === 'status' && status !== null ? `respondió ${status}` : kind === 'too-large' ? `respondió más de ${OUTBOUND_MAX_BYTES} bytes` : MESSAGES[kind]);
    this.name = 'OutboundError';
  }

  toJSON(): Record<string, unknown> {
    return { name: this.name, kind: this.kind, status: this.status, message: this.message };
  }
}

class RefusedAddress extends Error {
  constructor(address: string, range: string) {
    super(`dirección ${address} no permitida (${range})`);
    this.name = 'RefusedAddress';
  }
}

function allowsPrivate(option: SafeFetchOptions['allowPrivate'], hostname: string): boolean {
  if (typeof option === 'function') return option(hostname);
  return option ?? true;
}

/** dns.lookup, then every address it gave judged; the socket connects only to an address judged here. */
const guardedLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as dns.LookupAddress[];
    for (const a of list) {
      const verdict = classifyAddress(a.address);
      if (!verdict.public) return callback(new RefusedAddress(a.address, verdict.range ?? ''), '', 0);
    }
    if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
    const first = list[0];
    if (!first) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
    callback(null, first.address, first.family);
  });
};

interface RawAnswer {
  status: number;
  location: string | null;
  body: Buffer;
}

function requestOnce(url: URL, options: SafeFetchOptions, deadline: number): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const maxBytes = options.maxBytes ?? OUTBOUND_MAX_BYTES;
    const guarded = !allowsPrivate(options.allowPrivate, url.hostname);
    const literal = url.hostname.replace(/^\[|\]$/g, '');
    if (guarded && isIP(literal)) {
      const verdict = classifyAddress(literal);
      if (!verdict.public) return reject(new OutboundError('unreachable', null, `dirección ${literal} no permitida (${verdict.range})`));
    }
    const payload = options.body === undefined ? undefined : Buffer.from(JSON.stringify(options.body), 'utf8');
    const headers: Record<string, string> = {
      accept: 'application/json',
      ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
      ...options.headers,
    };
    const transport = url.protocol === 'https:' ? https : http;
    let settled = false;
    const fail = (err: OutboundError) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      req.destroy();
      reject(err);
    };
    const req = transport.request(url, { method: options.method ?? 'GET', headers, agent: false, ...(guarded ? { lookup: guardedLookup } : {}) }, (res) => {
      const status = res.statusCode ?? 0;
      const declared = Number(res.headers['content-length'] ?? '0');
      if (declared > maxBytes) return fail(new OutboundError('too-large', status));
      const chunks: Buffer[] = [];
      let total = 0;
      res.on('data', (chunk: Buffer) => {
        total += chunk.length;
        if (total > maxBytes) return fail(new OutboundError('too-large', status));
        chunks.push(chunk);
      });
      res.on('end', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        resolve({ status, location: typeof res.headers.location === 'string' ? res.headers.location : null, body: Buffer.concat(chunks) });
      });
      res.on('error', (err) => fail(new OutboundError('unreachable', null, err.message)));
    });
    const timer = setTimeout(() => fail(new OutboundError('unreachable', null, 'timeout')), Math.max(0, deadline - Date.now()));
    req.on('error', (err) => fail(new OutboundError('unreachable', null, `${(err as NodeJS.ErrnoException).code ?? ''} ${err.message}`.trim())));
    req.end(payload);
  });
}

export async function fetchJson(url: string, options: SafeFetchOptions = {}): Promise<Record<string, unknown>> {
  const deadline = Date.now() + (options.timeoutMs ?? OUTBOUND_TIMEOUT_MS);
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    throw new OutboundError('unreachable', null, 'not a URL');
  }
  for (let hop = 0; ; hop++) {
    if (current.protocol !== 'http:' && current.protocol !== 'https:') throw new OutboundError('unreachable', null, `protocol ${current.protocol}`);
    const answer = await requestOnce(current, options, deadline);
    if (answer.status >= 300 && answer.status < 400) {
      if (!options.followRedirects || !answer.location || hop >= MAX_REDIRECTS) throw new OutboundError('redirect', answer.status);
      try {
        current = new URL(answer.location, current);
      } catch {
        throw new OutboundError('redirect', answer.status);
      }
      continue;
    }
    if (answer.status < 200 || answer.status >= 300) throw new OutboundError('status', answer.status);
    let parsed: unknown;
    try {
      parsed = JSON.parse(answer.body.toString('utf8'));
    } catch {
      throw new OutboundError('not-json', answer.status);
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new OutboundError('not-json', answer.status);
    return parsed as Record<string, unknown>;
  }
}
