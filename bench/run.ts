/**
 * `npm run bench [-- NAME…]`: every benchmark by default, or the named ones, in this order:
 *   launch    full LTI launches at 20 concurrent (bench/launch-bench.ts)
 *   panel     the learner's panel and its status poll at 100 connections (bench/hot-paths.ts)
 *   callback  SENCE's callback, a real attempt each time
 *   scale     the panel on 100,000 learners / 1,000,000 sessions vs an empty store
 *   mongo     panel and callback on MongoDB (MONGODB_URI, or FerretDB started for the run)
 *   limiter   a new address per request once the rate limiter holds 60,000 live keys
 * Each measures a bare Express "hello" server in the same run with the same client. Exit code 1
 * when a target is missed.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { HOT_PATH_BENCHMARKS, runHotPaths } from './hot-paths';

const ALL = ['launch', ...HOT_PATH_BENCHMARKS];

async function launchBench(): Promise<void> {
  const code = await new Promise<number | null>((resolve) => {
    spawn(process.execPath, [path.join(__dirname, 'launch-bench.js')], { stdio: 'inherit' }).once('exit', resolve);
  });
  if (code !== 0) process.exitCode = 1;
}

async function main(): Promise<void> {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : ALL;
  const unknown = names.filter((n) => !ALL.includes(n));
  if (unknown.length) throw new Error(`unknown benchmark(s) ${unknown.join(', ')}; known: ${ALL.join(', ')}`);
  for (const name of names) {
    if (name === 'launch') await launchBench();
    else await runHotPaths([name]);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
