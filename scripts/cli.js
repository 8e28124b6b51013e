#!/usr/bin/env node
/**
 * `npm run cli -- …` (issue #7): runs the compiled CLI at once, and compiles first only when a
 * source is newer than the build (or there is no build): scripts/build-if-changed.js, the same
 * decision `npm start` makes. Before, every call recompiled the whole project (8–23 s).
 */
'use strict';
const { spawnSync } = require('node:child_process');
const path = require('node:path');
const { ensureBuilt } = require('./build-if-changed');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'src', 'cli', 'main.js');

const code = ensureBuilt(root, entry);
if (code !== 0) process.exit(code);
const run = spawnSync(process.execPath, [entry, ...process.argv.slice(2)], { cwd: process.cwd(), stdio: 'inherit' });
process.exit(run.status ?? 1);
