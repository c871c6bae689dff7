"""Benchmark (not a test): training cost of one step of teacher training, plain KD, and GTAN at several points
of its growth, on the same random batch; medians of interleaved repetitions, and ratios to the bound
(teacher step + KD step) measured in the same run.

    python -m rtliver_train.bench_cost --patch 32 64 64 --batch 2 --repeats 5 --out training/results/gtan-cost.json
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Callable, Dict, List

import numpy as np
import torch

from .losses import distillation_loss, segmentation_loss
from .models import PRESETS, UNet3d, interpolate_channels, zero_inputs_beyond


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--patch", type=int, nargs=3, default=[32, 64, 64])
    parser.add_argument("--batch", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--student", default="student-30k")
    parser.add_argument("--fractions", type=float, nargs="*", default=[0.1, 0.325, 0.55, 0.775, 1.0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    x = torch.randn(args.batch, 1, *args.patch)
    y = (torch.rand(args.batch, *args.patch) > 0.7).long()
    teacher_cfg, student_cfg = PRESETS["teacher"], PRESETS[args.student]
    teacher, frozen = UNet3d(teacher_cfg), UNet3d(teacher_cfg).eval()
    student, slimmable = UNet3d(student_cfg), UNet3d(teacher_cfg)
    zero_inputs_beyond(slimmable, interpolate_channels(student_cfg.channels, teacher_cfg.channels, args.fractions[0]))
    optimisers = {id(m): torch.optim.AdamW(m.parameters()) for m in (teacher, student, slimmable)}

    def step(model, loss):
        optimisers[id(model)].zero_grad()
        loss.backward()
        optimisers[id(model)].step()

    def teacher_step():
        step(teacher, segmentation_loss(teacher(x), y))

    def kd_step():
        with torch.no_grad():
            t = frozen(x)
        s = student(x)
        step(student, segmentation_loss(s, y) + distillation_loss(s, t, 2.0))

    def gtan_step(fraction: float) -> Callable[[], None]:
        width = interpolate_channels(student_cfg.channels, teacher_cfg.channels, fraction)

        def run():
            with torch.no_grad():
                t = frozen(x)
            slimmable.set_active_channels(width)
            a = slimmable(x)
            slimmable.set_active_channels(student_cfg.channels)
            s = slimmable(x)
            slimmable.set_active_channels(None)
            loss = segmentation_loss(a, y) + distillation_loss(a, t, 2.0) + segmentation_loss(s, y) + distillation_loss(s, a, 2.0)
            step(slimmable, loss)
        return run

    cases: Dict[str, Callable[[], None]] = {"teacher": teacher_step, "kd": kd_step}
    cases.update({f"gtan@{f:g}": gtan_step(f) for f in args.fractions})
    for run in cases.values():
        run()  # warm-up (oneDNN kernels)
    times: Dict[str, List[float]] = {name: [] for name in cases}
    for _ in range(args.repeats):  # interleaved, so load changes hit every case alike
        for name, run in cases.items():
            start = time.perf_counter()
            run()
            times[name].append(1000 * (time.perf_counter() - start))
    medians = {name: float(np.median(t)) for name, t in times.items()}
    bound = medians["teacher"] + medians["kd"]
    gtan_mean = float(np.mean([medians[f"gtan@{f:g}"] for f in args.fractions]))
    result = {
        "patch": args.patch, "batch": args.batch, "repeats": args.repeats, "threads": args.threads,
        "student": args.student, "median_ms": medians, "bound_ms": bound,
        "gtan_mean_over_growth_ms": gtan_mean, "gtan_mean_over_bound": gtan_mean / bound,
        "gtan_at_full_width_over_bound": medians[f"gtan@{args.fractions[-1]:g}"] / bound,
        "note": "medians of interleaved repeats on a shared 2-core CPU; GTAN mean assumes linear growth over the run",
    }
    text = json.dumps(result, indent=1)
    print(text)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    main()
