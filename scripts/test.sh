#!/usr/bin/env bash
# The whole suite: TypeScript units, DICOM conformance, browser end-to-end, then the Python training tests.
# Every part runs even when an earlier one failed; the exit status is non-zero if any did.
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
npx tsc -p tsconfig.json --noEmit || status=1
# Units and conformance in two workers: separate processes, temporary folders and ports of their own, no timing
# assertions (speed is measured by the benchmarks). About 2 minutes less than one after the other on 2 cores.
npx jest --ci --selectProjects unit conformance --maxWorkers=2 || status=1
# The browser tests one at a time: each drives Chromium, whose WASM inference uses both cores.
npx jest --ci --selectProjects e2e --maxWorkers=1 || status=1
/usr/bin/python3 -m pytest -q training/tests || status=1
exit $status
