#!/usr/bin/env bash
# Reproduce the real-anatomy models from ../shared/data: synthetic CTs from the 3D-IRCADb-01 masks (patient 17
# excluded) + augmented totalseg-a, fine-tuning of the phantom-trained students and teacher (their weights as
# released in commit $PHANTOM_RELEASE, read from git history), then the 30 k student's continuation with KD from
# the new teacher on unlabelled real CT, export to a candidate folder, overlays and measurements of every real CT
# for the old and the new models.
#
#   bash training/scripts/real-ct-models.sh [MAX_MINUTES]     (default 55 minutes per student)
#
# Time on this machine (2 CPU cores shared with other jobs): synthesis about 6 min, each student MAX_MINUTES
# (the two train side by side, one process each), then the teacher (600 steps of the whole 64x128x128 grid,
# 5.7 s per step with both cores: about 60 min), the 30 k student's KD continuation (300 steps, each with a
# teacher forward pass: 17 s per step measured with one thread and another run beside it, so allow 45-90 min),
# export + overlays about 3 min per model. On a free GPU the
# same step budgets take a few minutes; raise --steps there (training/configs/real-ct.json).
# The candidate models land in var/candidates/real-ct/ (manifest + ONNX); copy them to models/ only when their
# measurements and overlays beat the shipped ones (training/README.md, "Real CT").
set -euo pipefail
cd "$(dirname "$0")/../.."
export PYTHONPATH=training OPENBLAS_NUM_THREADS=1
P=/usr/bin/python3
MINUTES=${1:-55}
DATA=../shared/data
OUT=var/candidates/real-ct
PHANTOM_RELEASE=6c2f9c0  # the last commit whose models/ held the phantom-trained weights
INIT=var/init/phantom
mkdir -p "$INIT"
for model in student-100k student-30k teacher-1.26m; do
  git show "$PHANTOM_RELEASE:models/$model.onnx" > "$INIT/$model.onnx"
done

# variants 0-7: the default synthesis; 8-10: chest slab in 80 % of cases, heart beside the liver dome with
# pericardial fat (added after the first overlays showed the mask climbing into the heart); 24 totalseg-a copies.
$P -m rtliver_train.synth --data "$DATA" --out var/datasets/synth-ct --variants 8 --real_variants 24 --seed 0
$P -m rtliver_train.synth --data "$DATA" --out var/datasets/synth-ct --first_variant 8 --variants 3 \
  --real_variants 24 --chest_probability 0.8 --heart_beside_dome --seed 0

# The two students fine-tune side by side (one thread each), from the shipped phantom students' weights.
nice -n 10 $P -m rtliver_train.distill --method none --config=training/configs/real-ct.json \
  --init_onnx=$INIT/student-100k.onnx --out_dir=training/runs/real-100k-s0 --max_minutes="$MINUTES" &
nice -n 10 $P -m rtliver_train.distill --method none --config=training/configs/real-ct.json --preset=student-30k \
  --init_onnx=$INIT/student-30k.onnx --threads=1 --out_dir=training/runs/real-30k-s0 --max_minutes="$MINUTES" &
wait

# The teacher, from the shipped phantom teacher's weights, both cores (labels only, like the students).
$P -m rtliver_train.train_teacher --config=training/configs/real-ct.json --preset=teacher \
  --init_onnx=$INIT/teacher-1.26m.onnx --steps=600 --warmup_steps=10 --out_dir=training/runs/real-teacher-s0

mkdir -p "$OUT"
$P -m rtliver_train.export --checkpoint training/runs/real-100k-s0/best.pt --name student-100k --out "$OUT"
# the 30 k student is the default (models/README.md, "Why the default is the 30 k student")
$P -m rtliver_train.export --checkpoint training/runs/real-teacher-s0/best.pt --name teacher-1.26m --out "$OUT"

# The 30 k student continued 300 steps (lr 3e-4, the best validation step exported) with KD from the new teacher,
# half of its samples unlabelled views of two real CTs (pancreas-ct-cb-001 left out as an unseen CT).
$P -m rtliver_train.unlabeled --ct "$DATA/ct/crlm-ct-1004/dicom" "$DATA/ct/crlm-ct-1006/dicom" \
  --out var/datasets/unlabeled-ct --views 16 --seed 0
$P -m rtliver_train.export --checkpoint training/runs/real-30k-s0/best.pt --name student-30k --out var/init/real-30k
$P -m rtliver_train.distill --method kd --teacher_checkpoint="$OUT/teacher-1.26m.onnx" \
  --unlabeled_root=var/datasets/unlabeled-ct --unlabeled_fraction=0.5 --config=training/configs/real-ct.json \
  --preset=student-30k --init_onnx=var/init/real-30k/student-30k.onnx --threads=2 --steps=300 --lr=3e-4 \
  --warmup_steps=10 --seed=0 --split_file=training/splits/synth-ct-teacher.json --out_dir=training/runs/real-30k-kd-unl-s0
# the 30 k student is the default (models/README.md, "Why the default is the 30 k student")
$P -m rtliver_train.export --checkpoint training/runs/real-30k-kd-unl-s0/best.pt --name student-30k --out "$OUT" \
  --default --teacher-name teacher-1.26m
for model in student-100k student-30k teacher-1.26m; do
  $P -m rtliver_train.overlays --model "$model" --tag "shipped-$model"
  $P -m rtliver_train.overlays --model "$model" --models-dir "$OUT" --tag "real-ct-$model"
done
echo "overlays and summary.json per model under var/overlays/; look at every PNG before shipping."
