/**
 * `node -r ./test/support/ts-register.js file.ts`: runs the TypeScript sources in a child process
 * without a build step (tests that need real separate tool processes: several instances, SIGTERM,
 * SIGKILL). Transpile only, with the project's own TypeScript; types are checked by `npm run typecheck`.
 */
const fs = require('node:fs');
const ts = require('typescript');

require.extensions['.ts'] = function compileTypeScript(module, filename) {
  const source = fs.readFileSync(filename, 'utf8');
  const { outputText } = ts.transpileModule(source, {
    fileName: filename,
    compilerOptions: {
      module: ts.ModuleKind.CommonJS,
      target: ts.ScriptTarget.ES2022,
      esModuleInterop: true,
      inlineSourceMap: true,
    },
  });
  module._compile(outputText, filename);
};
