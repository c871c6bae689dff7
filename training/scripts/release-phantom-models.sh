#!/usr/bin/env bash
# Measure the phantom runs (ablation in collect-only mode: Dice/HD95 on the test split and on the real CT with
# pseudo-labels, ONNX latency), then export the shipped models to models/ with manifest entries and cards and
# refresh the parity fixture from the default model.
#   bash training/scripts/release-phantom-models.sh
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH=training OPENBLAS_NUM_THREADS=1
P=/usr/bin/python3
RESULTS=training/results
mkdir -p "$RESULTS"

$P -m rtliver_train.ablation --config=training/configs/phantom-runs.json
cp training/runs/ablation.json "$RESULTS/phantom-runs.json"
cp training/runs/ablation.md "$RESULTS/phantom-runs.md"

# One metrics file per run and evaluation, in rtliver_train.evaluate's format.
$P - <<'PY'
import json
from pathlib import Path
result = json.loads(Path("training/results/phantom-runs.json").read_text())
for rows in result["runs"].values():
    for row in rows:
        run = Path(row["checkpoint"]).parent.name
        test = dict(row["test"], onnxruntime_node=row.get("onnxruntime_node"))
        Path(f"training/results/{run}.test.json").write_text(json.dumps(test, indent=1) + "\n")
        Path(f"training/results/{run}.totalseg-a.json").write_text(json.dumps(row["totalseg-a"], indent=1) + "\n")
PY

release() {  # run-dir model-name notes [extra export args]
  local run=$1 name=$2 notes=$3
  shift 3
  $P -m rtliver_train.export --checkpoint "training/runs/$run/ckpt.pt" --name "$name" --card-notes "$notes" \
    --metrics "$RESULTS/$run.test.json" "totalseg-a (pseudo-label)=$RESULTS/$run.totalseg-a.json" "$@"
}
COMMON="Trained on CPU (2 shared cores) with a small step budget; the ablation table in training/results/phantom-runs.md compares it with the other runs (one seed)."
release student-30k-gtan-seed0 student-30k "Distilled with GTAN (training/README.md). $COMMON" \
  --default --parity-fixture --remove student-30k-placeholder
release student-100k-kd-seed0 student-100k "Distilled with plain KD from the teacher. $COMMON"
release teacher teacher-1.26m "The teacher of the students; too slow for interactive use in a browser (see ms/volume). $COMMON"
node training/scripts/ort-parity.cjs
