/**
 * Outbound HTTP for dynamic registration (issue #7, finding 5): a timeout, a size cap and no
 * redirects, so a platform's URLs cannot make the tool wait, fill its memory or follow a redirect
 * elsewhere. JSON only.
 */
export interface SafeFetchOptions {
  method?: 'GET' | 'POST';
  body?: unknown;
  headers?: Record<string, string>;
  timeoutMs?: number;
  maxBytes?: number;
  /** Registration never follows redirects; a platform's key set may (default false). */
  followRedirects?: boolean;
}

export const OUTBOUND_TIMEOUT_MS = 5000;
export const OUTBOUND_MAX_BYTES = 64 * 1024;

export class OutboundError extends Error {
  constructor(message: string, readonly status: number | null = null) {
    super(message);
    this.name = 'OutboundError';
  }
}

export async function fetchJson(url: string, options: SafeFetchOptions = {}): Promise<Record<string, unknown>> {
  const maxBytes = options.maxBytes ?? OUTBOUND_MAX_BYTES;
  let res: Response;
  try {
    res = await fetch(url, {
      method: options.method ?? 'GET',
      redirect: options.followRedirects ? 'follow' : 'error',
      signal: AbortSignal.timeout(options.timeoutMs ?? OUTBOUND_TIMEOUT_MS),
      headers: { accept: 'application/json', ...(options.body === undefined ? {} : { 'content-type': 'application/json' }), ...options.headers },
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
    });
  } catch (err) {
    const reason = (err as Error).name === 'TimeoutError' ? `no respondió en ${(options.timeoutMs ?? OUTBOUND_TIMEOUT_MS) / 1000} s` : 'no se pudo conectar o respondió con una redirección';
    throw new OutboundError(`${url} ${reason}`);
  }
  const declared = Number(res.headers.get('content-length') ?? '0');
  if (declared > maxBytes) throw new OutboundError(`${url} respondió más de ${maxBytes} bytes`, res.status);
  const reader = res.body?.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  if (reader) {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      total += value.byteLength;
      if (total > maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw new OutboundError(`${url} respondió más de ${maxBytes} bytes`, res.status);
      }
      chunks.push(value);
    }
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (!res.ok) throw new OutboundError(`${url} respondió ${res.status}: ${text.slice(0, 200)}`, res.status);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new OutboundError(`${url} no respondió JSON`, res.status);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new OutboundError(`${url} no respondió un objeto JSON`, res.status);
  return parsed as Record<string, unknown>;
}
