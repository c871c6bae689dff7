#!/usr/bin/env bash
# The distillation ablation at full size in one call on a GPU machine (one H100 or H200): teacher, then the
# students in parallel processes sharing the GPU, then the published report. Everything it returns is under
# $OUT (a folder the caller collects): the report (ablation.json in the published schema, the markdown tables,
# two plots), the raw ablation.json and every run's log.
#
#   bash training/scripts/device-ablation.sh [CONFIG] [DATASET NAME] [SHORT NAME]
#
# The data must be on that machine already, packed with numpy alone (its image has no NIfTI reader):
#   PYTHONPATH=training python3 -m rtliver_train.pack --layout pairs \
#       --root training/data/chaos-t2.pairs.json --out var/device/chaos-t2
# and the folder taken along (it is ignored by git; it is a conversion of CC BY-SA data: never commit it).
set -euo pipefail
config=${1:-training/configs/ablation-chaos-t2-gpu.json}
dataset=${2:-CHAOS MR T2-SPIR (manual labels), full size on a GPU}
name=${3:-chaos-t2-gpu}
out=${OUT:-var/device-out}
mkdir -p "$out"
export PYTHONPATH=training PYTHONUNBUFFERED=1

root=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['base']['data_root'])" "$config")
runs=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['out_root'])" "$config")
if [ ! -d "$root/cases" ]; then
  echo "error: $root/cases is missing. Pack the dataset first (see the head of this script) and take it along." >&2
  exit 1
fi
nvidia-smi -L || echo "warning: nvidia-smi found no GPU; the config's device decides"
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.cuda.is_available())"

started=$(date +%s)
# step lines go to the log only; the tables and any error reach the caller's output
python3 -m rtliver_train.ablation --config "$config" > "$out/ablation.log" 2>&1 || { tail -40 "$out/ablation.log"; exit 1; }
echo "ablation: $(( $(date +%s) - started )) s"
grep -v '^{"step"' "$out/ablation.log" | tail -20
cp "$runs/ablation.json" "$out/ablation-raw.json"
python3 -m rtliver_train.ablation_report --ablation "$runs/ablation.json" --dataset "$dataset" --name "$name" --out "$out/report"
tar -czf "$out/runs-logs.tar.gz" $(find "$runs" -name log.jsonl)
