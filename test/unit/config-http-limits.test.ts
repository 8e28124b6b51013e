/**
 * Issue #19 §5: the HTTP server's own limits (headers, request and keep-alive timeouts, connection
 * cap) come from the environment, each at its bounds, with errors naming the variable.
 */
import { loadConfig } from '../../src/config';
import type { AppError } from '../../src/errors';

const base = { NODE_ENV: 'test' };
const messageOf = (env: Record<string, string>): string => {
  try {
    loadConfig({ ...base, ...env });
  } catch (e) {
    return (e as AppError).message;
  }
  throw new Error('expected loadConfig to throw');
};

describe('HTTP server limits', () => {
  it('defaults: headers 20 s, request 60 s, keep-alive 130 s (longer than Caddy\'s 2 min upstream keep-alive), 1000 connections', () => {
    expect(loadConfig(base).http).toEqual({ headersTimeoutMs: 20_000, requestTimeoutMs: 60_000, keepAliveTimeoutMs: 130_000, maxConnections: 1000 });
  });

  it.each([
    ['HTTP_HEADERS_TIMEOUT_SECONDS', 1, 300, 'headersTimeoutMs', 1000],
    ['HTTP_REQUEST_TIMEOUT_SECONDS', 1, 3600, 'requestTimeoutMs', 1000],
    ['HTTP_KEEP_ALIVE_TIMEOUT_SECONDS', 1, 3600, 'keepAliveTimeoutMs', 1000],
    ['HTTP_MAX_CONNECTIONS', 10, 100_000, 'maxConnections', 1],
  ] as const)('%s: %d and %d accepted, one less and one more refused naming the variable', (name, min, max, key, unit) => {
    // The request timeout must not be shorter than the headers timeout: keep the pair consistent at the bounds.
    const pair = (v: number): Record<string, string> =>
      name === 'HTTP_HEADERS_TIMEOUT_SECONDS' ? { [name]: String(v), HTTP_REQUEST_TIMEOUT_SECONDS: '3600' } : name === 'HTTP_REQUEST_TIMEOUT_SECONDS' ? { [name]: String(v), HTTP_HEADERS_TIMEOUT_SECONDS: '1' } : { [name]: String(v) };
    expect(loadConfig({ ...base, ...pair(min) }).http[key]).toBe(min * unit);
    expect(loadConfig({ ...base, ...pair(max) }).http[key]).toBe(max * unit);
    expect(messageOf(pair(min - 1))).toBe(`${name} must be between ${min} and ${max}, got ${min - 1}`);
    expect(messageOf(pair(max + 1))).toBe(`${name} must be between ${min} and ${max}, got ${max + 1}`);
    expect(messageOf({ [name]: '2.5' })).toBe(`${name} must be a whole number, got "2.5"`);
  });

  it('the headers timeout may equal the request timeout, not exceed it', () => {
    expect(loadConfig({ ...base, HTTP_HEADERS_TIMEOUT_SECONDS: '60', HTTP_REQUEST_TIMEOUT_SECONDS: '60' }).http.headersTimeoutMs).toBe(60_000);
    expect(messageOf({ HTTP_HEADERS_TIMEOUT_SECONDS: '61', HTTP_REQUEST_TIMEOUT_SECONDS: '60' })).toBe(
      'HTTP_HEADERS_TIMEOUT_SECONDS must not be longer than HTTP_REQUEST_TIMEOUT_SECONDS (60): the whole request includes its headers',
    );
  });
});
