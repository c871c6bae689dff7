"""Publish an ablation: paired differences with bootstrap intervals, validation curves, and the files the
models folder carries (`models/ablation.json`, `models/ABLATION.md` and its plots).

    python -m rtliver_train.ablation_report --ablation training/runs/ablation-chaos-t2/ablation.json \
        --dataset "CHAOS MR T2-SPIR (manual labels)" --out models --name chaos-t2

Paired differences are taken by seed and test case (the same seed trains both arms on the same batches; the
same case is scored by both), so the seed-to-seed swing of one recipe does not hide a method's effect. The
interval resamples seeds, then the cases within each seed (5000 draws, numpy seed 0): it carries both sources
of variation, and it is wide when there are few of either.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

BOOTSTRAP_DRAWS = 5000


# ---- paired differences ----------------------------------------------------------------------------------
def dice_by_seed_and_case(runs: Sequence[Dict[str, Any]]) -> Dict[int, Dict[str, float]]:
    return {int(run["seed"]): {case["id"]: float(case["dice"]) for case in run["test"]["cases"]} for run in runs}


def paired_difference(first: Sequence[Dict[str, Any]], second: Sequence[Dict[str, Any]],
                      draws: int = BOOTSTRAP_DRAWS, seed: int = 0) -> Optional[Dict[str, Any]]:
    """first − second, on the seeds and cases both have: per-seed mean differences, their mean, a 95 %
    bootstrap interval (seeds, then cases within each seed) and the seeds the first wins."""
    a, b = dice_by_seed_and_case(first), dice_by_seed_and_case(second)
    seeds = sorted(set(a) & set(b))
    if not seeds:
        return None
    differences = []  # [seed][case]
    for s in seeds:
        cases = sorted(set(a[s]) & set(b[s]))
        differences.append(np.array([a[s][c] - b[s][c] for c in cases]))
    per_seed = [float(d.mean()) for d in differences]
    rng = np.random.default_rng(seed)
    means = np.empty(draws)
    for draw in range(draws):
        chosen = rng.integers(len(seeds), size=len(seeds))
        means[draw] = np.mean([rng.choice(differences[i], size=len(differences[i])).mean() for i in chosen])
    low, high = np.percentile(means, [2.5, 97.5])
    return {"per_seed": per_seed, "mean": float(np.mean(per_seed)), "low": float(low), "high": float(high),
            "wins": int(sum(d > 0 for d in per_seed)), "seeds": seeds, "n_cases": int(sum(len(d) for d in differences))}


def comparisons(names: Sequence[str]) -> List[Tuple[str, str]]:
    """The paper's questions (KD at each size; GTAN over none and over KD), each GTAN variant's, and a ramped KD
    arm's (`<size>-kd-ramp`) over labels only and over plain KD."""
    wanted = [("student-100k-kd", "student-100k-none"), ("student-30k-kd", "student-30k-none"),
              ("student-30k-takd", "student-30k-none")]
    for name in names:
        if name.endswith("-kd-ramp"):
            size = name[: -len("-kd-ramp")]
            wanted += [(name, f"{size}-none"), (name, f"{size}-kd")]
        if name.startswith("student-30k-gtan"):
            wanted += [(name, "student-30k-none"), (name, "student-30k-kd")]
            if name != "student-30k-gtan":
                wanted.append((name, "student-30k-gtan"))
    return [(x, y) for x, y in wanted if x in names and y in names]


# ---- validation curves -----------------------------------------------------------------------------------
def validation_curve(checkpoint: str) -> List[Tuple[int, float]]:
    log = Path(checkpoint).parent / "log.jsonl"
    if not log.exists():
        return []
    records = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    by_step = {r["step"]: r["val_dice"] for r in records if "val_dice" in r}  # a resumed run may repeat steps
    return sorted(by_step.items())


def plateau(curve: Sequence[Tuple[int, float]], tail: float = 0.25) -> Optional[Dict[str, float]]:
    """How much the validation Dice still rose over the last `tail` of the run: the mean of the last quarter
    of the evaluations minus the mean of the quarter before (near zero or negative: plateaued)."""
    values = [v for _, v in curve]
    k = max(1, int(len(values) * tail))
    if len(values) < 2 * k:
        return None
    return {"last": float(np.mean(values[-k:])), "before": float(np.mean(values[-2 * k:-k])),
            "rise": float(np.mean(values[-k:]) - np.mean(values[-2 * k:-k]))}


COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189), (140, 86, 75),
           (227, 119, 194), (127, 127, 127), (188, 189, 34), (23, 190, 207)]


def plot_curves(curves: Dict[str, List[List[Tuple[int, float]]]], path: Path, title: str,
                size: Tuple[int, int] = (900, 560)) -> None:
    """Validation Dice against step, one colour per arm (thin: each seed; thick: the mean over seeds)."""
    width, height = size
    left, right, top, bottom = 60, 300, 48, 50
    image = Image.new("RGB", size, "white")
    draw = ImageDraw.Draw(image)
    steps = [s for runs in curves.values() for run in runs for s, _ in run] or [1]
    values = [v for runs in curves.values() for run in runs for _, v in run] or [0.0]
    x_max = max(steps)
    y_low = max(0.0, np.floor(min(values) * 10) / 10)
    y_high = min(1.0, np.ceil(max(values) * 10) / 10 + 1e-9)

    def xy(step: float, value: float) -> Tuple[float, float]:
        return (left + (width - left - right) * step / x_max,
                height - bottom - (height - top - bottom) * (value - y_low) / max(1e-9, y_high - y_low))

    draw.rectangle([left, top, width - right, height - bottom], outline="black")
    for tick in np.arange(y_low, y_high + 1e-9, 0.1):
        y = xy(0, tick)[1]
        draw.line([left - 4, y, width - right, y], fill=(225, 225, 225))
        draw.text((left - 40, y - 6), f"{tick:.1f}", fill="black")
    for tick in np.linspace(0, x_max, 6):
        x = xy(tick, y_low)[0]
        draw.text((x - 10, height - bottom + 6), f"{int(tick)}", fill="black")
    draw.text((left, 6), title, fill="black")
    draw.text(((width - right) // 2, height - 22), "step", fill="black")
    draw.text((6, top - 18), "validation Dice", fill="black")
    for index, (name, runs) in enumerate(curves.items()):
        colour = COLOURS[index % len(COLOURS)]
        faint = tuple(int(c + (255 - c) * 0.6) for c in colour)
        for run in runs:
            if len(run) > 1:
                draw.line([xy(s, v) for s, v in run], fill=faint, width=1)
        common = sorted(set.intersection(*[set(s for s, _ in run) for run in runs if run])) if any(runs) else []
        if len(common) > 1:
            mean = [(s, float(np.mean([dict(run)[s] for run in runs if run]))) for s in common]
            draw.line([xy(s, v) for s, v in mean], fill=colour, width=3)
        y = top + 18 * index
        draw.line([width - right + 12, y + 6, width - right + 36, y + 6], fill=colour, width=3)
        draw.text((width - right + 42, y), name, fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)


# ---- the published files ---------------------------------------------------------------------------------
def published_rows(ablation: Dict[str, Any]) -> List[Dict[str, Any]]:
    """One row per arm in the schema of models/ablation.json."""
    rows = []
    for name, summary in ablation["summary"].items():
        rows.append({"name": name, "params": summary["parameters"], "flops": summary["flops"],
                     "dice_mean": round(summary["dice_mean"], 4), "dice_sd": round(summary["dice_sd"], 4),
                     "hd95_mean": None if summary["hd95_mean"] is None else round(summary["hd95_mean"], 2),
                     "n": summary["n_cases"], "seeds": summary["seeds"],
                     "dice_per_seed": [round(d, 4) for d in summary["dice_per_seed"]]})
    return rows


def report(ablation: Dict[str, Any], dataset: str, name: str, out: Path) -> Dict[str, Any]:
    spec, runs = ablation["spec"], ablation["runs"]
    base = spec.get("base", {})
    split_file = base.get("split_file")
    split = json.loads(Path(split_file).read_text()) if split_file and Path(split_file).exists() else {}
    differences = []
    for first, second in comparisons(list(runs)):
        difference = paired_difference(runs[first], runs[second])
        if difference:
            differences.append({"first": first, "second": second, **difference})
    curves = {arm: [validation_curve(run["checkpoint"]) for run in arm_runs] for arm, arm_runs in runs.items()}
    plateaus = {arm: [plateau(curve) for curve in arm_curves] for arm, arm_curves in curves.items()}
    published = {
        "dataset": dataset, "split": split_file,
        "split_sizes": {part: len(split.get(part, [])) for part in ("train", "val", "test")},
        "seeds": spec.get("seeds"), "grid": base.get("grid"), "steps": base.get("steps"),
        "teacher_steps": spec.get("teacher", {}).get("steps"),
        "rows": published_rows(ablation), "paired_differences": differences,
        "validation_plateau": {arm: [p and round(p["rise"], 4) for p in values] for arm, values in plateaus.items()},
    }
    out.mkdir(parents=True, exist_ok=True)
    plot_curves({arm: c for arm, c in curves.items() if not arm.startswith("student-30k-gtan-")},
                out / "ablation" / f"{name}-curves.png", f"{dataset}: validation Dice per step (thin: seeds, thick: mean)")
    gtan_arms = {arm: c for arm, c in curves.items() if arm.startswith("student-30k-gtan") or arm in ("student-30k-none", "student-30k-kd")}
    plot_curves(gtan_arms, out / "ablation" / f"{name}-gtan-curves.png", f"{dataset}: the 30 k student's arms")
    return published


def difference_table(differences: Sequence[Dict[str, Any]]) -> str:
    lines = ["| comparison | per seed | mean | 95 % interval | wins |", "|---|---|---|---|---|"]
    for d in differences:
        seeds = ", ".join(f"{100 * v:+.1f}" for v in d["per_seed"])
        lines.append(f"| {d['first']} − {d['second']} | {seeds} | {100 * d['mean']:+.1f} | "
                     f"{100 * d['low']:+.1f} to {100 * d['high']:+.1f} | {d['wins']}/{len(d['seeds'])} |")
    return "\n".join(lines)


def rows_table(rows: Sequence[Dict[str, Any]]) -> str:
    lines = ["| model | params | MFLOPs on the grid | Dice mean | Dice sd | n | Dice per seed | HD95 mm |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        hd = "n/a" if r["hd95_mean"] is None else f"{r['hd95_mean']:.1f}"
        lines.append(f"| {r['name']} | {r['params']:,} | {r['flops'] / 1e6:.0f} | {r['dice_mean']:.3f} | {r['dice_sd']:.3f} | "
                     f"{r['n']} | {', '.join(f'{d:.3f}' for d in r['dice_per_seed'])} | {hd} |")
    return "\n".join(lines)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ablation", type=Path, required=True, help="ablation.json written by rtliver_train.ablation")
    parser.add_argument("--dataset", required=True, help="the dataset's name as the report gives it")
    parser.add_argument("--name", required=True, help="short name for file names, e.g. chaos-t2")
    parser.add_argument("--out", type=Path, default=Path("models"))
    args = parser.parse_args(argv)
    published = report(json.loads(args.ablation.read_text()), args.dataset, args.name, args.out)
    target = args.out / "ablation.json"
    existing = json.loads(target.read_text()) if target.exists() else []
    existing = [e for e in (existing if isinstance(existing, list) else [existing]) if e.get("dataset") != args.dataset]
    target.write_text(json.dumps(existing + [published], indent=1) + "\n")
    print(rows_table(published["rows"]))
    print()
    print(difference_table(published["paired_differences"]))


if __name__ == "__main__":
    main()
