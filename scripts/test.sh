#!/usr/bin/env bash
# npm test: type-check, lint, every suite on SQLite, then the suites with a MongoDB variant again
# with TEST_STORE=mongo (store contract, launch, SENCE flow, several instances) on MONGODB_URI or,
# when it is not set, on a FerretDB started for the run (test/support/ferretdb.ts).
set -euo pipefail
cd "$(dirname "$0")/.."

npm run typecheck --silent
npm run lint --silent
npx jest "$@"

ferretdb_installed() {
  [ -n "${FERRETDB_BIN:-}" ] && [ -x "${FERRETDB_BIN}" ] && return 0
  [ -x "$HOME/.cache/asistencia-sence/ferretdb-v1.24.2/ferretdb" ] && return 0
  command -v ferretdb >/dev/null 2>&1
}

if [ -n "${MONGODB_URI:-}" ] || ferretdb_installed; then
  echo
  echo "== Second pass: the suites with a MongoDB variant, TEST_STORE=mongo =="
  TEST_STORE=mongo npx jest -c jest.mongo.config.js --passWithNoTests "$@"
else
  echo
  echo "!! MongoDB suites SKIPPED: MONGODB_URI is not set and FerretDB is not installed."
  echo "!! Build FerretDB with scripts/build-ferretdb.sh (needs Go) or set MONGODB_URI, then run npm test again."
fi
