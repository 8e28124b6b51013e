/**
 * Issue #7, finding 8: `npm run cli` starts at once when nothing changed (scripts/cli.js runs the
 * compiled CLI) and compiles first only when a source is newer than the build. Run against a copy
 * of the launcher in a temporary project whose "compiler" and "CLI" are stand-ins that record calls.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync, existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let dir: string;
const log = () => (existsSync(path.join(dir, 'calls.log')) ? readFileSync(path.join(dir, 'calls.log'), 'utf8').trim().split('\n') : []);
const run = (...args: string[]) => spawnSync(process.execPath, [path.join(dir, 'scripts', 'cli.js'), ...args], { cwd: dir, encoding: 'utf8' });
const past = new Date(Date.now() - 3_600_000);

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sence-cli-launcher-'));
  mkdirSync(path.join(dir, 'scripts'));
  for (const f of ['cli.js', 'build-if-changed.js']) cpSync(path.resolve(__dirname, '../../scripts', f), path.join(dir, 'scripts', f));
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  writeFileSync(path.join(dir, 'src', 'a.ts'), 'export {};\n');
  writeFileSync(path.join(dir, 'tsconfig.build.json'), '{}');
  const calls = JSON.stringify(path.join(dir, 'calls.log'));
  mkdirSync(path.join(dir, 'node_modules', 'typescript', 'bin'), { recursive: true });
  writeFileSync(path.join(dir, 'node_modules', 'typescript', 'package.json'), '{"name":"typescript","version":"5.0.0"}');
  writeFileSync(
    path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc'),
    `const fs=require('fs');const p=require('path');fs.appendFileSync(${calls},'tsc\\n');const out=p.join(${JSON.stringify(dir)},'dist','src','cli');fs.mkdirSync(out,{recursive:true});fs.writeFileSync(p.join(out,'main.js'),"require('fs').appendFileSync(${calls.replace(/"/g, '\\"')},'cli '+process.argv.slice(2).join(' ')+'\\\\n')");`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('compiles when there is no build, then runs the CLI with its arguments', () => {
  const res = run('platform', 'list');
  expect(res.status).toBe(0);
  expect(res.stderr).toContain('Compilando');
  expect(log()).toEqual(['tsc', 'cli platform list']);
});

it('does not compile when nothing changed: it runs the built CLI directly', () => {
  utimesSync(path.join(dir, 'src', 'a.ts'), past, past);
  utimesSync(path.join(dir, 'src'), past, past);
  utimesSync(path.join(dir, 'tsconfig.build.json'), past, past);
  // (Its start-up time is not asserted here: a timed test fails on a loaded machine. Not compiling
  // is what made it start at once: the compiler stand-in records every call.)
  const res = run('otec', 'list');
  expect(res.status).toBe(0);
  expect(res.stderr).not.toContain('Compilando');
  expect(log().slice(2)).toEqual(['cli otec list']);
});

it('compiles again when a source is newer than the build', () => {
  const future = new Date(Date.now() + 60_000);
  utimesSync(path.join(dir, 'src', 'a.ts'), future, future);
  const res = run('platform', 'invite');
  expect(res.status).toBe(0);
  expect(log().slice(3)).toEqual(['tsc', 'cli platform invite']);
});
