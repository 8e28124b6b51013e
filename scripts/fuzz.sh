#!/usr/bin/env bash
# npm run fuzz: the long run of the property-based fuzz (test/integration/fuzz.test.ts, issue #19 §9)
# — FUZZ_RUNS requests (default 100,000) on SQLite, then the same on MongoDB: MONGODB_URI when set,
# otherwise a FerretDB started for the run (test/support/mongo-global-setup.ts). FUZZ_SEED picks the
# seed (default: a new one, printed, so every long run explores new requests); a failure prints the
# seed and the shrunk request to replay with FUZZ_SEED=… FUZZ_RUNS=….
# FUZZ_STORES=sqlite or FUZZ_STORES=mongo runs one store only.
set -euo pipefail
cd "$(dirname "$0")/.."

export FUZZ_RUNS="${FUZZ_RUNS:-100000}"
export FUZZ_SEED="${FUZZ_SEED:-$(( (RANDOM << 15) | RANDOM ))}"
stores="${FUZZ_STORES:-sqlite mongo}"
echo "== fuzz: ${FUZZ_RUNS} requests per store, seed ${FUZZ_SEED} =="
status=0
for store in $stores; do
  echo
  echo "== ${store} =="
  started=$(date +%s)
  if [ "$store" = mongo ]; then
    TEST_STORE=mongo npx jest -c jest.mongo.config.js --runInBand --testMatch '<rootDir>/test/integration/fuzz.test.ts' || status=$?
  else
    npx jest --runInBand test/integration/fuzz.test.ts || status=$?
  fi
  echo "== ${store}: $(( $(date +%s) - started )) s =="
done
exit "$status"
