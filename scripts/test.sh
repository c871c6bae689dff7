#!/usr/bin/env bash
# The whole suite: TypeScript units, DICOM conformance, browser end-to-end, then the Python training tests.
set -euo pipefail
cd "$(dirname "$0")/.."
npx tsc -p tsconfig.json --noEmit
npx jest --ci
/usr/bin/python3 -m pytest -q training/tests
