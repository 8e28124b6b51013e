/**
 * `node -r ./test/support/ts-register.js file.ts`: runs the TypeScript sources in a child process
 * without a build step (tests that need real separate tool processes: several instances, SIGTERM,
 * SIGKILL, `npm start`'s cluster workers). Transpile only, with the project's own TypeScript; types
 * are checked by `npm run typecheck`. Each file's output is kept in a cache under the system's temp
 * directory, keyed by its path, its source and the TypeScript version: `npm start`'s primary and
 * every worker it forks would otherwise transpile the whole tree again (about 3 s of CPU each).
 */
const crypto = require('node:crypto');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');

// The compiler itself is loaded only when a file is not in the cache yet.
const tsVersion = require('typescript/package.json').version;
let ts = null;
const cacheDir = path.join(os.tmpdir(), `asistencia-ts-register-${tsVersion}`);

function transpile(source, filename) {
  const key = crypto.createHash('sha256').update(filename).update('\0').update(source).digest('hex');
  const cached = path.join(cacheDir, `${key}.js`);
  try {
    return fs.readFileSync(cached, 'utf8');
  } catch {
    // not cached yet
  }
  ts ??= require('typescript');
  const { outputText } = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      inlineSourceMap: true,
    },
  });
  try {
    fs.mkdirSync(cacheDir, { recursive: true });
    // Written under a unique name, then renamed: a reader never sees half a file.
    const tmp = `${cached}.${process.pid}.${crypto.randomBytes(4).toString('hex')}`;
    fs.writeFileSync(tmp, outputText);
    fs.renameSync(tmp, cached);
  } catch {
    // A cache that cannot be written only costs time.
  }
  return outputText;
}

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  module._compile(transpile(fs.readFileSync(filename, 'utf8'), filename), filename);
};
