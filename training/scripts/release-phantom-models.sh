#!/usr/bin/env bash
# Evaluate the phantom-trained runs, export them to models/ with manifest entries and cards, and refresh the
# parity fixture from the default model. Usage: bash training/scripts/release-phantom-models.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH=training OPENBLAS_NUM_THREADS=1
P=/usr/bin/python3
RESULTS=training/results
mkdir -p "$RESULTS"
DATA=(--layout msd --root var/training-data-phantom-msd --split training/splits/phantom-msd.json --part test)
REAL=(--layout pairs --root training/data/totalseg-a.pairs.json --label-kind "pseudo-label (TotalSegmentator prediction)")

evaluate() {  # run-name
  local run=$1
  $P -m rtliver_train.evaluate --checkpoint "training/runs/$run/ckpt.pt" "${DATA[@]}" \
    --label-kind "ground-truth (synthetic phantom labels)" --out "$RESULTS/$run.test.json"
  $P -m rtliver_train.evaluate --checkpoint "training/runs/$run/ckpt.pt" "${REAL[@]}" --out "$RESULTS/$run.totalseg-a.json"
}

release() {  # run-name model-name [extra export args]
  local run=$1 name=$2
  shift 2
  $P -m rtliver_train.export --checkpoint "training/runs/$run/ckpt.pt" --name "$name" \
    --metrics "$RESULTS/$run.test.json" "totalseg-a (pseudo-label)=$RESULTS/$run.totalseg-a.json" "$@"
  node training/scripts/ort-bench.cjs "models/$name.onnx" 5 2 > "$RESULTS/$name.ort-node.json"
}

for run in "$@"; do evaluate "$run"; done
