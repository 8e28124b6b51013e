#!/usr/bin/env node
/**
 * `npm run cli -- …` (issue #7): runs the compiled CLI at once, and compiles first only when a
 * source is newer than the build (or there is no build). Before, every call recompiled the whole
 * project (8–23 s). In the production image there are no sources: the build is used as is.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'src', 'cli', 'main.js');
const SOURCES = ['src', 'bench', 'types', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

function newestMtime(p) {
  let stat;
  try {
    stat = fs.statSync(p);
  } catch {
    return 0;
  }
  if (!stat.isDirectory()) return stat.mtimeMs;
  let newest = stat.mtimeMs; // a deleted file changes its directory's mtime
  for (const name of fs.readdirSync(p)) newest = Math.max(newest, newestMtime(path.join(p, name)));
  return newest;
}

function builtAt() {
  try {
    return fs.statSync(entry).mtimeMs;
  } catch {
    return 0;
  }
}

const hasSources = fs.existsSync(path.join(root, 'src'));
if (hasSources) {
  const sourcesAt = Math.max(...SOURCES.map((s) => newestMtime(path.join(root, s))));
  if (builtAt() === 0 || sourcesAt > builtAt()) {
    console.error('Compilando (hay cambios en el código desde la última compilación)…');
    const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
    const build = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
    if (build.status !== 0) process.exit(build.status ?? 1);
    // tsc leaves unchanged outputs untouched on some platforms: mark the build as current.
    const now = new Date();
    fs.utimesSync(entry, now, now);
  }
} else if (builtAt() === 0) {
  console.error('No se encuentra dist/src/cli/main.js: compile el proyecto (npm run build).');
  process.exit(1);
}

const run = spawnSync(process.execPath, [entry, ...process.argv.slice(2)], { cwd: process.cwd(), stdio: 'inherit' });
process.exit(run.status ?? 1);
