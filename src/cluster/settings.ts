/** The environment variables of `npm start`'s process supervision (src/cluster/), checked at start. */
import { AppError } from '../errors';

export const DEFAULT_WEB_CONCURRENCY = 2;
export const MAX_WEB_CONCURRENCY = 16;

/** WEB_CONCURRENCY (default 2): how many worker processes serve the tool. Integer 1–16. */
export function webConcurrency(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return DEFAULT_WEB_CONCURRENCY;
  const n = Number(raw.trim());
  if (!/^\d+$/.test(raw.trim()) || !Number.isInteger(n) || n < 1 || n > MAX_WEB_CONCURRENCY) {
    throw new AppError('config-invalid', 500, `WEB_CONCURRENCY must be a whole number between 1 and ${MAX_WEB_CONCURRENCY} (worker processes), got "${raw.trim().slice(0, 20)}"`);
  }
  return n;
}

/** SHUTDOWN_TIMEOUT_SECONDS (default 10): how long SIGTERM waits for requests in flight. */
export function shutdownGraceMs(raw: string | undefined): number {
  if (raw === undefined || raw.trim() === '') return 10_000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds < 0 || seconds > 600) {
    throw new AppError('config-invalid', 500, 'SHUTDOWN_TIMEOUT_SECONDS: must be a number of seconds between 0 and 600.');
  }
  return seconds * 1000;
}
