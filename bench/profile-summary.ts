/**
 * Summarises a V8 CPU profile (.cpuprofile, e.g. from `BENCH_CPU_PROF=<dir> npm run bench`): the
 * functions with the most self time, and self time per package/file.
 *
 * Usage: node dist/bench/profile-summary.js <file.cpuprofile> [top=30]
 * Optional, by environment:
 *   PROFILE_CALLERS=run,verify         who calls these functions (nearest frames outside node:*)
 *   PROFILE_INCLUSIVE=sessionValidator  time spent in these functions, callees included
 *   PROFILE_BUCKETS="db:better-sqlite3,src/store;jwt:jsonwebtoken,jws/"
 *                                       each sample goes to the bucket of the frame nearest the leaf
 *                                       whose "functionName file:line" contains one of the patterns
 *   PROFILE_BUCKET_DETAIL=db            self time by function inside one bucket
 * Native frames (no file) such as `run`, `get`, `all` (better-sqlite3 statements), `verify`, `init`
 * (crypto) or `writev` (sockets) are only told apart by PROFILE_CALLERS.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

/** node_modules/<pkg> (or @scope/pkg), our src/… and bench/… files, node: internals. */
function groupOf(url: string): string {
  if (url === '') return '(native / V8)';
  if (url.startsWith('node:')) return 'node internals';
  const nm = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (nm) return nm[1] ?? url;
  const ours = /\/dist\/((?:src|bench)\/.*)$/.exec(url);
  if (ours) return ours[1] ?? url;
  return url;
}

function shortUrl(url: string): string {
  return /node_modules\/(.*)$/.exec(url)?.[1] ?? /\/dist\/(.*)$/.exec(url)?.[1] ?? url;
}

function frameText(node: ProfileNode | undefined): string {
  if (!node) return '';
  const { functionName, url, lineNumber } = node.callFrame;
  return `${functionName || '(anonymous)'}${url ? ` ${shortUrl(url)}:${lineNumber + 1}` : ''}`;
}

function list(name: string): string[] {
  return (process.env[name] ?? '').split(',').filter(Boolean);
}

function add(map: Map<string, number>, key: string, us: number): void {
  map.set(key, (map.get(key) ?? 0) + us);
}

function main(): void {
  const file = process.argv[2];
  const top = Number(process.argv[3] ?? 30);
  if (!file) {
    console.error('usage: node dist/bench/profile-summary.js <file.cpuprofile> [top]');
    process.exit(2);
  }
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parentOf = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
  const ancestors = function* (id: number): Generator<number> {
    for (let p: number | undefined = id; p !== undefined; p = parentOf.get(p)) yield p;
  };

  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const totalUs = profile.endTime - profile.startTime;
  let idleUs = 0;
  const byFunction = new Map<string, number>();
  const byGroup = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    add(byFunction, frameText(node), us);
    add(byGroup, functionName === '(garbage collector)' ? '(garbage collector)' : groupOf(url), us);
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number) => `${((us / busyUs) * 100).toFixed(1).padStart(5)} %`;
  const print = (title: string, map: Map<string, number>, n = top) => {
    console.log(`\n  ${title}:`);
    for (const [k, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, n)) console.log(`  ${pct(us)}  ${k}`);
  };

  console.log(`${file}\n  wall ${(totalUs / 1e6).toFixed(1)} s, busy ${(busyUs / 1e6).toFixed(1)} s (${((busyUs / totalUs) * 100).toFixed(0)} %), idle ${(idleUs / 1e6).toFixed(1)} s`);
  print(`top ${top} functions by self time (% of busy time)`, byFunction);
  print('self time by package / file', byGroup);

  const buckets = (process.env.PROFILE_BUCKETS ?? '')
    .split(';')
    .filter(Boolean)
    .map((b) => {
      const i = b.indexOf(':');
      return { label: b.slice(0, i), patterns: b.slice(i + 1).split(',').filter(Boolean) };
    });
  if (buckets.length > 0) {
    const labelCache = new Map<number, string | null>();
    const labelOf = (id: number): string | null => {
      if (!labelCache.has(id)) {
        const text = frameText(byId.get(id));
        labelCache.set(id, buckets.find((b) => b.patterns.some((p) => text.includes(p)))?.label ?? null);
      }
      return labelCache.get(id) ?? null;
    };
    const detailOf = process.env.PROFILE_BUCKET_DETAIL ?? '';
    const totals = new Map<string, number>();
    const detail = new Map<string, number>();
    for (const [id, us] of selfUs) {
      const node = byId.get(id);
      if (!node || node.callFrame.functionName === '(idle)') continue;
      let label = node.callFrame.functionName === '(garbage collector)' ? '(garbage collector)' : '(other)';
      for (const p of ancestors(id)) {
        const l = labelOf(p);
        if (l) {
          label = l;
          break;
        }
      }
      add(totals, label, us);
      if (label === detailOf) add(detail, frameText(node), us);
    }
    print('buckets (% of busy time)', totals, Infinity);
    if (detail.size > 0) print(`bucket ${detailOf}, by function`, detail);
  }

  const inclusive = list('PROFILE_INCLUSIVE');
  if (inclusive.length > 0) {
    const totals = new Map<string, number>();
    for (const name of inclusive) {
      let us = 0;
      for (const [id, self] of selfUs) {
        for (const p of ancestors(id)) {
          if (byId.get(p)?.callFrame.functionName === name) {
            us += self;
            break;
          }
        }
      }
      totals.set(name, us);
    }
    print('inclusive time (% of busy time)', totals, Infinity);
  }

  for (const name of list('PROFILE_CALLERS')) {
    const callers = new Map<string, number>();
    for (const [id, us] of selfUs) {
      if (byId.get(id)?.callFrame.functionName !== name) continue;
      const chain: string[] = [];
      for (const p of ancestors(parentOf.get(id) ?? -1)) {
        const node = byId.get(p);
        if (node?.callFrame.url && !node.callFrame.url.startsWith('node:')) chain.push(frameText(node));
        if (chain.length === 4) break;
      }
      add(callers, chain.join(' ← '), us);
    }
    print(`callers of ${name}`, callers, 8);
  }
}

main();
