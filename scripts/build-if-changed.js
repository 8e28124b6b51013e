/**
 * One decision for both launchers (`npm start`: scripts/start.js, `npm run cli`: scripts/cli.js;
 * issues #7 and #20): compile the project only when there is no build, or when a file under src,
 * bench or types, a tsconfig or the lock file is newer than the last successful build. views/ and
 * public/ are read by the tool at run time (src/paths.ts): changing them needs no build.
 *
 * The last successful build is marked by dist/.build-stamp, written here after tsc exits 0 (one
 * stamp for every entry point: what one launcher compiled, the other does not compile again). tsc
 * writes its output even when it reports errors: a failed compile removes the stamp, so the next
 * start compiles (and reports the errors) again. A build made by `npm run build` alone has no
 * stamp: the next launch compiles once. In the production image there are no sources: the build
 * is used as it is.
 */
'use strict';
const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const SOURCES = ['src', 'bench', 'types', 'test/support/ferretdb.ts', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json'];

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

function mtimeOf(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Makes sure `entry` (a compiled file under root/dist) is current. Returns 0 when it is (compiling
 * first if needed), else the exit code to leave with (the compiler's, or 1 when there is no build
 * and nothing to build it from). Messages go to stderr, in Spanish (the operator reads them).
 */
function ensureBuilt(root, entry) {
  const stamp = path.join(root, 'dist', '.build-stamp');
  const hasSources = fs.existsSync(path.join(root, 'src'));
  if (!hasSources) {
    if (mtimeOf(entry) > 0) return 0;
    console.error(`No se encuentra ${path.relative(root, entry)}: compile el proyecto (npm run build).`);
    return 1;
  }
  const builtAt = mtimeOf(entry) > 0 ? mtimeOf(stamp) : 0;
  const sourcesAt = Math.max(...SOURCES.map((s) => newestMtime(path.join(root, s))));
  if (builtAt > 0 && sourcesAt <= builtAt) return 0;
  console.error(builtAt === 0 ? 'Compilando (primera vez o compilación incompleta; toma unos segundos)…' : 'Compilando (hay cambios en el código desde la última compilación)…');
  fs.rmSync(stamp, { force: true });
  const tsc = require.resolve('typescript/bin/tsc', { paths: [root] });
  const build = spawnSync(process.execPath, [tsc, '-p', path.join(root, 'tsconfig.build.json')], { cwd: root, stdio: 'inherit' });
  if (build.status !== 0) return build.status ?? 1;
  // Stamped now, after the compile: a source saved during it is newer and compiles next time.
  fs.mkdirSync(path.dirname(stamp), { recursive: true });
  fs.writeFileSync(stamp, `${new Date().toISOString()}\n`);
  return 0;
}

module.exports = { ensureBuilt };
