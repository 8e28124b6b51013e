/**
 * Issue #20, item 13: `npm start` (scripts/start.js) compiles only when there is no build or a source
 * is newer than the last build, like `npm run cli` (scripts/cli.js, the same module decides:
 * scripts/build-if-changed.js). Run against copies of the launchers in a temporary project whose
 * "compiler" and compiled entry points are stand-ins that record every call: "no compile" is read
 * from that record, not from a time (a timed test fails on a loaded machine).
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

let dir: string;
const log = () => (existsSync(path.join(dir, 'calls.log')) ? readFileSync(path.join(dir, 'calls.log'), 'utf8').trim().split('\n') : []);
const node = (script: string, args: string[] = [], env: Record<string, string> = {}) =>
  spawnSync(process.execPath, [path.join(dir, 'scripts', script), ...args], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });
const start = (env: Record<string, string> = {}) => node('start.js', [], env);
const past = new Date(Date.now() - 3_600_000);
const setPast = (...parts: string[][]) => {
  for (const p of parts) utimesSync(path.join(dir, ...p), past, past);
};

beforeAll(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), 'sence-start-launcher-'));
  mkdirSync(path.join(dir, 'scripts'));
  for (const f of ['start.js', 'cli.js', 'build-if-changed.js']) cpSync(path.resolve(__dirname, '../../scripts', f), path.join(dir, 'scripts', f));
  mkdirSync(path.join(dir, 'src'), { recursive: true });
  writeFileSync(path.join(dir, 'src', 'a.ts'), 'export {};\n');
  writeFileSync(path.join(dir, 'tsconfig.build.json'), '{}');
  // views/ and public/ are read by the tool at run time (src/paths.ts): a change there needs no build.
  mkdirSync(path.join(dir, 'views'));
  writeFileSync(path.join(dir, 'views', 'home.ejs'), '<p>hola</p>\n');
  const calls = JSON.stringify(path.join(dir, 'calls.log'));
  // The compiled tool records how it was started and which script cluster workers would run.
  const main = `const fs=require('fs'),c=require('cluster');fs.appendFileSync(${calls},'main exec='+require('path').relative(${JSON.stringify(dir)},c.settings.exec||'')+'\\n')`;
  const cli = `require('fs').appendFileSync(${calls},'cli '+process.argv.slice(2).join(' ')+'\\n')`;
  mkdirSync(path.join(dir, 'node_modules', 'typescript', 'bin'), { recursive: true });
  writeFileSync(path.join(dir, 'node_modules', 'typescript', 'package.json'), '{"name":"typescript","version":"5.0.0"}');
  writeFileSync(
    path.join(dir, 'node_modules', 'typescript', 'bin', 'tsc'),
    [
      "const fs=require('fs'),p=require('path');",
      `fs.appendFileSync(${calls},'tsc\\n');`,
      `const out=p.join(${JSON.stringify(dir)},'dist','src');`,
      "fs.mkdirSync(p.join(out,'cli'),{recursive:true});",
      `fs.writeFileSync(p.join(out,'main.js'),${JSON.stringify(main)});`,
      `fs.writeFileSync(p.join(out,'cli','main.js'),${JSON.stringify(cli)});`,
      // A type error: tsc still writes its output, and exits 2.
      "if(process.env.FAKE_TSC_FAILS){console.error('error TS2322');process.exit(2);}",
    ].join('\n'),
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

it('compiles when there is no build, then starts the compiled tool (its workers run the compiled entry too)', () => {
  const res = start();
  expect(res.stderr).toContain('Compilando');
  expect(res.status).toBe(0);
  expect(log()).toEqual(['tsc', 'main exec=dist/src/main.js']);
});

it('does not compile again when nothing changed', () => {
  setPast(['src', 'a.ts'], ['src'], ['tsconfig.build.json']);
  const res = start();
  expect(res.status).toBe(0);
  expect(res.stderr).not.toContain('Compilando');
  expect(log().slice(2)).toEqual(['main exec=dist/src/main.js']);
});

it('a change in views/ (read at run time) does not compile either', () => {
  const future = new Date(Date.now() + 60_000);
  utimesSync(path.join(dir, 'views', 'home.ejs'), future, future);
  const res = start();
  expect(res.status).toBe(0);
  expect(log().slice(3)).toEqual(['main exec=dist/src/main.js']);
});

it('compiles again when a source is newer than the build', () => {
  const future = new Date(Date.now() + 60_000);
  utimesSync(path.join(dir, 'src', 'a.ts'), future, future);
  const res = start();
  expect(res.status).toBe(0);
  expect(res.stderr).toContain('Compilando');
  expect(log().slice(4)).toEqual(['tsc', 'main exec=dist/src/main.js']);
});

it('one build serves both launchers: the CLI after `npm start` compiled does not compile again', () => {
  setPast(['src', 'a.ts'], ['src'], ['tsconfig.build.json']);
  const res = node('cli.js', ['otec', 'list']);
  expect(res.status).toBe(0);
  expect(res.stderr).not.toContain('Compilando');
  expect(log().slice(6)).toEqual(['cli otec list']);
});

it('a failed compile does not start the tool, and the next start compiles again (tsc wrote its output anyway)', () => {
  const future = new Date(Date.now() + 120_000);
  utimesSync(path.join(dir, 'src', 'a.ts'), future, future);
  const failed = start({ FAKE_TSC_FAILS: '1' });
  expect(failed.status).toBe(2);
  expect(log().slice(7)).toEqual(['tsc']);
  setPast(['src', 'a.ts'], ['src'], ['tsconfig.build.json']);
  const again = start();
  expect(again.status).toBe(0);
  expect(again.stderr).toContain('Compilando');
  expect(log().slice(8)).toEqual(['tsc', 'main exec=dist/src/main.js']);
});
