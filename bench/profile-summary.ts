/**
 * Summarises a V8 CPU profile (.cpuprofile, e.g. from `BENCH_CPU_PROF=<dir> npm run bench`): the
 * functions with the most self time, and self time per package/file group.
 * Usage: node dist/bench/profile-summary.js <file.cpuprofile> [top=30]
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
  const nm = /node_modules\/(.*)$/.exec(url);
  if (nm) return nm[1] ?? url;
  const ours = /\/dist\/(.*)$/.exec(url);
  if (ours) return ours[1] ?? url;
  return url;
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
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));

  const totalUs = profile.endTime - profile.startTime;
  let idleUs = 0;
  const byFunction = new Map<string, number>();
  const byGroup = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleUs += us;
      continue;
    }
    const key = `${functionName || '(anonymous)'}  ${url ? `${shortUrl(url)}:${lineNumber + 1}` : ''}`.trim();
    byFunction.set(key, (byFunction.get(key) ?? 0) + us);
    const group = functionName === '(garbage collector)' ? '(garbage collector)' : groupOf(url);
    byGroup.set(group, (byGroup.get(group) ?? 0) + us);
  }
  const busyUs = totalUs - idleUs;
  const pct = (us: number) => `${((us / busyUs) * 100).toFixed(1).padStart(5)} %`;
  console.log(`${file}\n  wall ${(totalUs / 1e6).toFixed(1)} s, busy ${(busyUs / 1e6).toFixed(1)} s (${((busyUs / totalUs) * 100).toFixed(0)} %), idle ${(idleUs / 1e6).toFixed(1)} s`);
  console.log(`\n  top ${top} functions by self time (% of busy time):`);
  for (const [k, us] of [...byFunction].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);
  console.log('\n  self time by package / file:');
  for (const [k, us] of [...byGroup].sort((a, b) => b[1] - a[1]).slice(0, top)) console.log(`  ${pct(us)}  ${k}`);

  // PROFILE_INCLUSIVE=name1,name2: total time spent in these functions, callees included.
  const inclusive = (process.env.PROFILE_INCLUSIVE ?? '').split(',').filter(Boolean);
  if (inclusive.length > 0) {
    const parentOf = new Map<number, number>();
    for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
    console.log('\n  inclusive time (% of busy time):');
    for (const name of inclusive) {
      let us = 0;
      for (const [id, self] of selfUs) {
        for (let p: number | undefined = id; p !== undefined; p = parentOf.get(p)) {
          if (byId.get(p)?.callFrame.functionName === name) {
            us += self;
            break;
          }
        }
      }
      console.log(`  ${pct(us)}  ${name}`);
    }
  }

  // PROFILE_CALLERS=name1,name2: who calls these functions (nearest frames outside node internals).
  const wanted = (process.env.PROFILE_CALLERS ?? '').split(',').filter(Boolean);
  if (wanted.length === 0) return;
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  for (const name of wanted) {
    const callers = new Map<string, number>();
    for (const [id, us] of selfUs) {
      if (byId.get(id)?.callFrame.functionName !== name) continue;
      const chain: string[] = [];
      let p = parent.get(id);
      while (p !== undefined && chain.length < 4) {
        const f = byId.get(p)?.callFrame;
        if (f && f.url && !f.url.startsWith('node:')) chain.push(`${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`);
        p = parent.get(p);
      }
      const key = chain.join(' ← ');
      callers.set(key, (callers.get(key) ?? 0) + us);
    }
    console.log(`\n  callers of ${name}:`);
    for (const [k, us] of [...callers].sort((a, b) => b[1] - a[1]).slice(0, 8)) console.log(`  ${pct(us)}  ${k}`);
  }
}

main();
