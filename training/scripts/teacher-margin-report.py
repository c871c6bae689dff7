"""The teacher-margin check on CHAOS MR (models/ABLATION.md, "Does KD follow the teacher's margin?"): after
`python -m rtliver_train.ablation --config training/configs/ablation-chaos-t2-teacher{150,600,2400}.json`, prints
each teacher's Dice and margin over the label-only 100 k student and the paired differences (by seed and case,
95 % bootstrap over seeds then cases), and plots the validation curves of the seed whose KD runs collapsed.

    PYTHONPATH=training python3 training/scripts/teacher-margin-report.py [--plot models/ablation/...png]
"""
import argparse
import json
from pathlib import Path

import numpy as np

from rtliver_train.ablation_report import paired_difference, plot_curves, validation_curve

TEACHER_STEPS = (150, 600, 2400)
COLLAPSED_SEED = 6


def runs_of(steps: int) -> dict:
    return json.loads(Path(f"training/runs/margin-chaos-t{steps}/ablation.json").read_text())["runs"]


def mean_dice(runs) -> float:
    return float(np.mean([r["test"]["dice"]["mean"] for r in runs]))


def described(d) -> str:
    return (f"{100 * d['mean']:+.1f} ({100 * d['low']:+.1f} to {100 * d['high']:+.1f}), wins {d['wins']}/{len(d['seeds'])}; "
            f"per seed {', '.join(f'{100 * x:+.1f}' for x in d['per_seed'])}")


def without(seed: int, runs):
    return [r for r in runs if r["seed"] != seed]


def seed_curves(runs):
    """The validation curve of the collapsed seed's run (a list of one, as plot_curves takes an arm's seeds)."""
    return [validation_curve(r["checkpoint"]) for r in runs if r["seed"] == COLLAPSED_SEED]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plot", type=Path, help="where to write the collapsed seed's validation curves (PNG)")
    args = parser.parse_args()
    runs = {steps: runs_of(steps) for steps in TEACHER_STEPS}
    labels_only = runs[600]["student-100k-none"]  # the same recipe in every config; trained once
    print(f"labels only 100 k: {mean_dice(labels_only):.3f}, n = {sum(r['test']['dice']['n'] for r in labels_only)}")
    for steps, arms in runs.items():
        teacher = arms["teacher"][0]["test"]["dice"]["mean"]
        print(f"teacher {steps} steps: {teacher:.3f}, margin {100 * (teacher - mean_dice(labels_only)):+.1f} points")
        for name in ("student-100k-kd", "student-100k-kd-ramp"):
            if name in arms:
                print(f"  {name} {mean_dice(arms[name]):.3f}; - labels only {described(paired_difference(arms[name], labels_only))}")
        if "student-100k-kd-ramp" in arms:
            d = paired_difference(without(COLLAPSED_SEED, arms["student-100k-kd-ramp"]), without(COLLAPSED_SEED, arms["student-100k-kd"]))
            print(f"  ramp - KD without seed {COLLAPSED_SEED}: {described(d)}")
    for a, b in ((2400, 150), (2400, 600), (600, 150)):
        print(f"KD with teacher {a} - with teacher {b}: {described(paired_difference(runs[a]['student-100k-kd'], runs[b]['student-100k-kd']))}")
    if args.plot:
        curves = {"labels only": seed_curves(labels_only)}
        curves.update({f"KD, teacher {s} steps": seed_curves(runs[s]["student-100k-kd"]) for s in TEACHER_STEPS})
        curves.update({f"KD ramped, teacher {s}": seed_curves(runs[s]["student-100k-kd-ramp"]) for s in (600, 2400)})
        plot_curves(curves, args.plot, f"CHAOS MR 16x32x32, 100 k student, seed {COLLAPSED_SEED}: validation Dice (3 patients)")


if __name__ == "__main__":
    main()
