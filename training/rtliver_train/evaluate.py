"""Stage 3: evaluate a checkpoint on a dataset, on each case's own (source) grid, as the viewer would show it.

    python -m rtliver_train.evaluate --checkpoint training/runs/student-30k-gtan/ckpt.pt \
        --layout msd --root var/datasets/phantom-msd --split training/splits/phantom-msd.json --part test \
        --out training/runs/student-30k-gtan/metrics-test.json [--label-kind ground-truth|pseudo-label] [--onnx F]

Per case: contract pre-processing to the model grid, the network, the liver-minus-background logit resampled
back to the source grid (trilinear, half-pixel), threshold 0, largest 26-connected component, holes filled per
axial slice (the core's post-processing, metrics.py), then Dice and HD95 (mm) against the label. With --onnx the ONNX file's median
latency on onnxruntime-node (2 threads, input [1,1,64,128,128]) is added.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .checkpoint import load_export_model
from .datasets import LAYOUTS, CaseRef, discover, load_case, select_split
from .errors import TrainingError
from .metrics import dice_score, hd95, postprocess_mask
from .models import UNet3d
from .preprocess import HU_WINDOW, MODEL_SHAPE, apply_hu_window, resample_half_pixel

REPO_ROOT = Path(__file__).resolve().parents[2]
BENCH_SCRIPT = REPO_ROOT / "training" / "scripts" / "ort-bench.cjs"


@torch.no_grad()
def segment(model: UNet3d, hu_lps: np.ndarray, grid: Sequence[int] = MODEL_SHAPE,
            hu_window: Sequence[float] = HU_WINDOW) -> np.ndarray:
    """Binary liver mask on the source grid of an LPS-ordered HU volume (nz, ny, nx)."""
    x = apply_hu_window(resample_half_pixel(hu_lps.astype(np.float32), grid), hu_window)
    logits = model.eval()(torch.from_numpy(x)[None, None])
    difference = (logits[:, 1:2] - logits[:, 0:1])  # [1, 1, D, H, W]
    back = F.interpolate(difference, size=hu_lps.shape, mode="trilinear", align_corners=False)[0, 0].numpy()
    return postprocess_mask(back > 0)


def evaluate_cases(model: UNet3d, cases: Sequence[CaseRef], grid=MODEL_SHAPE, hu_window=HU_WINDOW) -> List[Dict[str, Any]]:
    results = []
    for case in cases:
        image, truth = load_case(case)
        prediction = segment(model, image.voxels, grid, hu_window)
        spacing_zyx = tuple(reversed(image.spacing))
        ml = float(image.voxel_volume_ml())
        results.append({"id": case.id, "dice": dice_score(prediction, truth), "hd95_mm": hd95(prediction, truth, spacing_zyx),
                        "volume_ml": float(prediction.sum()) * ml, "reference_volume_ml": float(truth.sum()) * ml})
    return results


def summarise(results: Sequence[Dict[str, Any]], data: str) -> Dict[str, Any]:
    def stats(key: str) -> Dict[str, Any]:
        values = np.array([r[key] for r in results], float)
        finite = values[np.isfinite(values)]
        return {"mean": float(finite.mean()) if finite.size else None,
                "sd": float(finite.std(ddof=1)) if finite.size > 1 else 0.0 if finite.size else None,
                "n": int(finite.size), "data": data}
    return {"dice": stats("dice"), "hd95_mm": stats("hd95_mm"), "cases": list(results)}


def onnx_latency_ms(onnx_path: Path, runs: int = 5, threads: int = 2) -> Optional[Dict[str, Any]]:
    """Median ms per [1,1,64,128,128] volume on onnxruntime-node (None if node or the package is missing)."""
    try:
        output = subprocess.run(["node", str(BENCH_SCRIPT), str(onnx_path), str(runs), str(threads)],
                                cwd=REPO_ROOT, capture_output=True, text=True, timeout=600, check=True).stdout
        return json.loads(output.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as error:
        print(f"warning: onnxruntime-node timing skipped: {error}", file=sys.stderr)
        return None


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--layout", choices=LAYOUTS, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--split", type=Path, help="split file; without it every case of the dataset is used")
    parser.add_argument("--part", default="test")
    parser.add_argument("--liver-labels", type=int, nargs="*")
    parser.add_argument("--label-kind", default="ground-truth",
                        help="what the labels are, written next to every metric (e.g. pseudo-label)")
    parser.add_argument("--onnx", type=Path, help="also time this ONNX file on onnxruntime-node")
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        model, checkpoint = load_export_model(args.checkpoint)
        cases = discover(args.layout, args.root, args.liver_labels)
        if args.split:
            cases = select_split(cases, args.split, args.part)
        config = checkpoint.get("config", {})
        grid, window = tuple(config.get("grid", MODEL_SHAPE)), tuple(config.get("hu_window", HU_WINDOW))
        results = evaluate_cases(model, cases, grid, window)
    except TrainingError as error:
        sys.exit(f"error: {error}")
    data = f"{args.layout}:{args.root}" + (f" ({args.split.name}:{args.part})" if args.split else "") + f", {args.label_kind}"
    summary = summarise(results, data)
    if args.onnx:
        summary["onnxruntime_node"] = onnx_latency_ms(args.onnx, threads=args.threads)
    text = json.dumps(summary, indent=1)
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(text + "\n")
    print(json.dumps({k: summary[k] for k in ("dice", "hd95_mm")}))


if __name__ == "__main__":
    main()
