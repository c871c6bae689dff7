"""The paper's ablation on one dataset: teacher; 100 k without and with KD; 30 k without KD, with KD, TAKD and
GTAN; several seeds. Writes <out_root>/ablation.json and ablation.md.

    python -m rtliver_train.ablation --config=training/configs/ablation-phantom.json

The config file:
    {"out_root": "training/runs/ablation",
     "base": {RunConfig keys shared by every run: data_layout, data_root, split_file, patch, ...},
     "seeds": [0, 1, 2],
     "teacher": {RunConfig overrides, e.g. "steps": 2000},           (trained once, seed = seeds[0])
     "runs": [{"name": "student-30k-gtan", "preset": "student-30k", "method": "gtan", ...overrides}, ...],
     "evaluate": {"part": "test", "label_kind": "ground-truth"},
     "extra_evaluations": [{"name": "...", "layout": "pairs", "root": "...", "label_kind": "pseudo-label"}],
     "time_onnx": true,
     "collect_only": false,      (true: only measure runs already trained under out_root)
     "jobs": 1}                  (students trained at once, each in its own process; --jobs overrides)
Every run resumes from its own checkpoint, so an interrupted ablation continues where it stopped.

With "jobs" > 1 the student runs train, and are then scored on the test cases, in that many processes at once
(after the teacher, whom they all need), each with its own `threads`: on a CPU, jobs x threads should not exceed
the cores; on one GPU, networks this small leave it mostly idle, and several processes share it. Each run is
seeded and trains alone in its process, so the results do not depend on jobs. ONNX latencies (time_onnx) are
measured only with jobs = 1, where nothing else runs beside them.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np

from .checkpoint import load_checkpoint, load_export_model
from .config import RunConfig, parse_config
from .datasets import discover, select_split
from .distill import run_distillation
from .errors import TrainingError
from .evaluate import evaluate_cases, onnx_latency_ms, summarise
from .export import export_onnx
from .models import count_flops, count_parameters

DEFAULT_RUNS = [
    {"name": "student-100k-none", "preset": "student-100k", "method": "none"},
    {"name": "student-100k-kd", "preset": "student-100k", "method": "kd"},
    {"name": "student-30k-none", "preset": "student-30k", "method": "none"},
    {"name": "student-30k-kd", "preset": "student-30k", "method": "kd"},
    {"name": "student-30k-takd", "preset": "student-30k", "method": "takd"},
    {"name": "student-30k-gtan", "preset": "student-30k", "method": "gtan"},
]


def _finished(path: Path) -> bool:
    return path.exists() and bool(load_checkpoint(path).get("finished"))


def run_one(config: RunConfig, collect_only: bool = False) -> Path:
    checkpoint = Path(config.out_dir) / "ckpt.pt"
    if collect_only:  # measure runs trained before (possibly stopped by --max_minutes); never train
        if not checkpoint.exists():
            raise TrainingError(f"collect_only: {checkpoint} does not exist.", "Train the run first or drop it from 'runs'.")
        return checkpoint
    if _finished(checkpoint):
        print(f"{checkpoint} finished already", flush=True)
        return checkpoint
    return run_distillation(config)


@dataclass(frozen=True)
class StudentRun:
    name: str  # the arm, e.g. student-30k-kd
    seed: int
    config: RunConfig


def train_and_measure(run: StudentRun, base: RunConfig, spec: Dict[str, Any], onnx_dir: Path,
                      collect_only: bool = False) -> Dict[str, Any]:
    checkpoint = run_one(run.config, collect_only)
    return dict(measure(f"{run.name}-seed{run.seed}", checkpoint, base, spec, onnx_dir), seed=run.seed)


def student_rows(runs: Sequence[StudentRun], base: RunConfig, spec: Dict[str, Any], onnx_dir: Path, jobs: int,
                 collect_only: bool = False) -> List[Dict[str, Any]]:
    """Each run trained and scored, one after another (jobs = 1) or in `jobs` processes at once (each process
    scores its own run too, so the scoring is spread as well)."""
    work = partial(train_and_measure, base=base, spec=spec, onnx_dir=onnx_dir, collect_only=collect_only)
    if jobs <= 1 or len(runs) <= 1:
        return [work(run) for run in runs]
    # spawn, not fork: a forked child would inherit the parent's torch thread pools (and, on a GPU, its CUDA state)
    with ProcessPoolExecutor(max_workers=jobs, mp_context=multiprocessing.get_context("spawn")) as pool:
        return list(pool.map(work, runs))


def measure(name: str, checkpoint: Path, base: RunConfig, spec: Dict[str, Any], onnx_dir: Path) -> Dict[str, Any]:
    model, saved = load_export_model(checkpoint)
    evaluation = spec.get("evaluate", {})
    cases = select_split(discover(base.data_layout, Path(base.data_root), base.liver_labels), Path(base.split_file),
                         evaluation.get("part", "test"))
    label_kind = evaluation.get("label_kind", "ground-truth")
    result = {
        "name": name, "checkpoint": str(checkpoint), "parameters": count_parameters(model),
        "flops": count_flops(model.config, base.grid), "channels": list(model.config.channels),
        "train_seconds": saved.get("train_seconds"), "steps": saved.get("step"),
        "test": summarise(evaluate_cases(model, cases, base.grid, base.hu_window),
                          f"{base.data_layout}:{base.data_root} ({Path(base.split_file).name}:{evaluation.get('part', 'test')}), {label_kind}"),
    }
    log = Path(checkpoint).parent / "log.jsonl"
    if log.exists():
        times = [json.loads(line).get("ms_per_step") for line in log.read_text().splitlines() if line.strip()]
        result["ms_per_step_median"] = float(np.median([t for t in times if t])) if times else None
    for extra in spec.get("extra_evaluations", []):
        extra_cases = discover(extra["layout"], Path(extra["root"]), extra.get("liver_labels"))
        result[extra["name"]] = summarise(evaluate_cases(model, extra_cases, base.grid, base.hu_window),
                                          f"{extra['layout']}:{extra['root']}, {extra.get('label_kind', 'ground-truth')}")
    if spec.get("time_onnx", True):
        onnx_path = onnx_dir / f"{name}.onnx"
        export_onnx(model, onnx_path)
        result["onnxruntime_node"] = onnx_latency_ms(onnx_path)
    return result


def aggregate(rows: Sequence[Dict[str, Any]]) -> Dict[str, Any]:
    """Per method: Dice and HD95 over all test cases of all seeds (mean, sd, n) and the per-seed means."""
    dice = [c["dice"] for r in rows for c in r["test"]["cases"]]
    hd = [c["hd95_mm"] for r in rows for c in r["test"]["cases"] if c["hd95_mm"] == c["hd95_mm"]]
    latency = [r["onnxruntime_node"]["medianMs"] for r in rows if r.get("onnxruntime_node")]
    return {
        "dice_mean": float(np.mean(dice)), "dice_sd": float(np.std(dice, ddof=1)) if len(dice) > 1 else 0.0,
        "n_cases": len(dice), "seeds": [r.get("seed") for r in rows],
        "dice_per_seed": [r["test"]["dice"]["mean"] for r in rows],
        "hd95_mean": float(np.mean(hd)) if hd else None, "hd95_sd": float(np.std(hd, ddof=1)) if len(hd) > 1 else None,
        "parameters": rows[0]["parameters"], "flops": rows[0]["flops"],
        "ms_per_volume": float(np.median(latency)) if latency else None,
        "train_seconds_mean": float(np.mean([r["train_seconds"] or 0 for r in rows])),
        "ms_per_step_median": float(np.median([r.get("ms_per_step_median") or 0 for r in rows])),
    }


def markdown_table(summary: Dict[str, Dict[str, Any]], note: str) -> str:
    lines = [f"# Ablation\n\n{note}\n",
             "| model | params | GFLOPs | Dice mean | Dice sd | n | Dice per seed | HD95 mm | ms/volume (ort-node) | train s | ms/step |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, row in summary.items():
        def fmt(value, pattern="{:.3f}"):
            return "n/a" if value is None else pattern.format(value)
        lines.append(f"| {name} | {row['parameters']:,} | {row['flops'] / 1e9:.1f} | {fmt(row['dice_mean'])} | "
                     f"{fmt(row['dice_sd'])} | {row['n_cases']} | "
                     f"{', '.join(f'{d:.3f}' for d in row['dice_per_seed'])} | {fmt(row['hd95_mean'], '{:.1f}')} | "
                     f"{fmt(row['ms_per_volume'], '{:.0f}')} | {fmt(row['train_seconds_mean'], '{:.0f}')} | "
                     f"{fmt(row['ms_per_step_median'], '{:.0f}')} |")
    return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class AblationPlan:
    out_root: Path
    seeds: List[int]
    base: RunConfig
    teacher: RunConfig
    students: List[StudentRun]


def plan_ablation(spec: Dict[str, Any]) -> AblationPlan:
    """Every run's resolved config, before anything trains: a key unknown to RunConfig or of the wrong type in
    the spec's base, teacher or any run is an error here, not after the teacher has trained."""
    out_root = Path(spec.get("out_root", "training/runs/ablation"))
    base = parse_config([], **spec.get("base", {}))
    seeds = spec.get("seeds", [0])
    teacher = parse_config([], base=replace(base), **{"preset": "teacher", "method": "none", "seed": seeds[0],
                                                       "out_dir": str(out_root / "teacher"), **spec.get("teacher", {})})
    teacher_checkpoint = Path(teacher.out_dir) / "ckpt.pt"
    students = []
    for run in spec.get("runs", DEFAULT_RUNS):
        for seed in run.get("seeds", seeds):  # a run may name its own seeds
            overrides = {k: v for k, v in run.items() if k not in ("name", "seeds")}
            config = parse_config([], base=replace(base), **{"teacher_checkpoint": str(teacher_checkpoint), "seed": seed,
                                                            "out_dir": str(out_root / f"{run['name']}-seed{seed}"), **overrides})
            students.append(StudentRun(run["name"], seed, config))
    return AblationPlan(out_root, seeds, base, teacher, students)


def run_ablation(spec: Dict[str, Any]) -> Dict[str, Any]:
    if int(spec.get("jobs", 1)) > 1 and spec.get("time_onnx", True):
        raise TrainingError("time_onnx needs jobs = 1: latencies measured while other runs train are not comparable.",
                            "Set \"time_onnx\": false, or \"jobs\": 1.")
    plan = plan_ablation(spec)
    out_root, seeds, base, students = plan.out_root, plan.seeds, plan.base, plan.students
    collect_only = bool(spec.get("collect_only", False))
    teacher_checkpoint = run_one(plan.teacher, collect_only)
    rows: Dict[str, List[Dict[str, Any]]] = {"teacher": [dict(measure("teacher", teacher_checkpoint, base, spec, out_root / "onnx"), seed=seeds[0])]}
    for run, row in zip(students, student_rows(students, base, spec, out_root / "onnx", int(spec.get("jobs", 1)), collect_only)):
        rows.setdefault(run.name, []).append(row)
    summary = {name: aggregate(r) for name, r in rows.items()}
    note = (f"Data: {base.data_layout}:{base.data_root}, split {base.split_file} ({spec.get('evaluate', {}).get('part', 'test')}), "
            f"seeds {seeds}. Dice/HD95 on each case's source grid after the core's post-processing; sd over all "
            f"test cases of all seeds. ms/volume: onnxruntime-node, 2 threads, [1,1,64,128,128], median of 5.")
    result = {"spec": spec, "summary": summary, "runs": rows}
    out_root.mkdir(parents=True, exist_ok=True)
    (out_root / "ablation.json").write_text(json.dumps(result, indent=1, default=str) + "\n")
    (out_root / "ablation.md").write_text(markdown_table(summary, note))
    print(markdown_table(summary, note))
    return result


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, required=True)
    parser.add_argument("--jobs", type=int, help="student runs trained at once (overrides the config's 'jobs')")
    args = parser.parse_args(argv)
    spec = json.loads(args.config.read_text())
    if args.jobs is not None:
        spec["jobs"] = args.jobs
    try:
        run_ablation(spec)
    except TrainingError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
