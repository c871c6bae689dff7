#!/usr/bin/env bash
# `npm start`: set up the machine (idempotent), build the OHIF plugins, generate the demo phantom
# study if it is missing, then serve the viewer (PORT, default 3000) and print its URL.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
echo "start: building the OHIF plugins (webpack)"
npx webpack --config webpack.config.js
# Idempotent: generates var/studies/phantom only when it is missing or incomplete.
npx tsx scripts/generate-data.ts --what demo
exec npx tsx scripts/serve.ts
