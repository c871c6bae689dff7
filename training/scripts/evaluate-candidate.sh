#!/usr/bin/env bash
# Everything a candidate student must show before it may replace a shipped model, from a training run:
# export to a candidate folder, then through `rt-liver segment` as users run it: every real CT of
# ../shared/data (overlays + summary.json), ircadb-17 re-made as other protocols would have made it
# (robustness), and the release gate on that folder.
#
#   bash training/scripts/evaluate-candidate.sh RUN_DIR TAG [MODEL_NAME]
#
# RUN_DIR: a distill/train_teacher output folder (its final step, ckpt.pt, is exported: candidates and controls
# are compared at the same step, training/README.md); TAG: names the candidate folder
# var/candidates/TAG and the result folders var/overlays/TAG and var/robustness/TAG; MODEL_NAME: the manifest
# name (default student-30k, marked default). About 5 minutes on this 2-core machine. Look at every PNG.
set -euo pipefail
cd "$(dirname "$0")/../.."
RUN=${1:?RUN_DIR}
TAG=${2:?TAG}
NAME=${3:-student-30k}
export PYTHONPATH=training OPENBLAS_NUM_THREADS=1
P=/usr/bin/python3
OUT=var/candidates/$TAG

mkdir -p "$OUT"
$P -m rtliver_train.export --checkpoint "$RUN/ckpt.pt" --name "$NAME" --out "$OUT" --default \
  --teacher-name teacher-1.26m >/dev/null
$P -m rtliver_train.overlays --model "$NAME" --models-dir "$OUT" --tag "$TAG"
$P -m rtliver_train.robustness --model "$NAME" --models-dir "$OUT" --tag "$TAG" | tail -n 14
RT_LIVER_GATE_MODELS_DIR="$OUT" npx jest --ci test/unit/model-gate.test.ts
echo "evaluate-candidate: $TAG: var/overlays/$TAG/*.png and var/robustness/$TAG/*.png to look at"
