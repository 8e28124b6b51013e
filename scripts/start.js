#!/usr/bin/env node
/**
 * `npm start` (issue #20, item 13): starts the compiled tool at once, compiling first only when a
 * source changed since the last build (scripts/build-if-changed.js, shared with `npm run cli`).
 * Before, every start recompiled the whole project (~10 s).
 *
 * The tool runs in this same process (no extra process between npm and the primary: signals reach
 * it directly); its cluster workers run the compiled entry itself, not this launcher.
 */
'use strict';
const cluster = require('node:cluster');
const path = require('node:path');
const { ensureBuilt } = require('./build-if-changed');

const root = path.resolve(__dirname, '..');
const entry = path.join(root, 'dist', 'src', 'main.js');

const code = ensureBuilt(root, entry);
if (code !== 0) process.exit(code);
cluster.setupPrimary({ exec: entry });
require(entry);
