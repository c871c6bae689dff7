"""Unlabelled real CTs for distillation: views of a CT on the model grid, without a mask.

    python -m rtliver_train.unlabeled --ct ../shared/data/ct/crlm-ct-1004/dicom ../shared/data/ct/crlm-ct-1006/dicom \
        --out var/datasets/unlabeled-ct --views 16 --seed 0

Distillation needs no labels (Hinton et al. 2015): on a CT without a manual mask the teacher's softened output
is the student's only target, so real intensities, noise, texture and fields of view reach the student even
where no one drew the liver. Each view is one CT with the augmentations of the labelled real CT (synth.py's
real_variant, without the elastic warp, which a mask-free target does not need): an in-plane rotation/scale/
shift, a random cranio-caudal field of view, soft-tissue intensity scale/shift, blur and noise; view 0 is the
series as it is. The views are written as `<out>/cases/<id>.npz` holding `hu` (float16 HU, LPS, model grid)
and no mask; a run reads them with `--unlabeled_root=<out> --unlabeled_fraction=F` (method kd or gtan only).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from .datasets import PreparedCase
from .errors import DataError
from .image_io import load_image
from .preprocess import MODEL_SHAPE, apply_hu_window, reorient_to_lps, resample_half_pixel
from .synth import jitter_intensities, random_geometry


def random_field_of_view(depth: int, rng: np.random.Generator) -> slice:
    """Whole series (40 %), or a cranio-caudal crop keeping 45-95 % of it at a random position. The liver's place
    is unknown here, so a crop may cut it or leave it out: the teacher's target says so either way."""
    if rng.random() < 0.4:
        return slice(0, depth)
    keep = max(8, int(depth * rng.uniform(0.45, 0.95)))
    start = int(rng.integers(0, depth - keep + 1))
    return slice(start, start + keep)


def unlabeled_view(hu: np.ndarray, rng: np.random.Generator, shape: Sequence[int] = MODEL_SHAPE) -> np.ndarray:
    """One augmented view (float16 HU on the model grid) of an LPS (k, j, i) HU volume."""
    image = random_geometry(hu, rng, order=1, fill=-1000.0)[random_field_of_view(hu.shape[0], rng)]
    return resample_half_pixel(jitter_intensities(image, rng), shape).astype(np.float16)


def load_hu(path: Path) -> np.ndarray:
    return reorient_to_lps(load_image(path)).voxels.astype(np.float32)


def write_views(sources: Sequence[Path], out: Path, views: int, seed: int) -> List[str]:
    cases_dir = out / "cases"
    cases_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for index, source in enumerate(sources):
        name = source.parent.name if source.name in ("dicom", "DICOM") else source.name.split(".")[0]
        hu = load_hu(source)
        for view in range(views):
            case_id = f"{name}-u{view:03d}"
            grid = (resample_half_pixel(hu, MODEL_SHAPE).astype(np.float16) if view == 0
                    else unlabeled_view(hu, np.random.default_rng([seed, index, view])))
            np.savez_compressed(cases_dir / f"{case_id}.npz", hu=grid)
            written.append(case_id)
        print(f"{source}: {views} views", flush=True)
    (out / "sources.json").write_text(json.dumps({"sources": [str(s) for s in sources], "views": views,
                                                   "seed": seed, "cases": written}, indent=1) + "\n")
    return written


def load_unlabeled_cases(root: Path, shape: Sequence[int], hu_window: Sequence[float]) -> List[PreparedCase]:
    """Every view under <root>/cases as a PreparedCase whose mask is empty and whose `labelled` is False."""
    paths = sorted(Path(root).glob("cases/*.npz"))
    if not paths:
        raise DataError(f"No unlabelled views in {root}/cases.",
                        "Write them with python -m rtliver_train.unlabeled --ct <series> --out <root>.")
    cases = []
    for path in paths:
        hu = np.load(path)["hu"].astype(np.float32)
        if tuple(hu.shape) != tuple(shape):
            hu = resample_half_pixel(hu, shape)
        cases.append(PreparedCase(path.stem, apply_hu_window(hu, hu_window), np.zeros(hu.shape, np.uint8), labelled=False))
    return cases


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ct", type=Path, nargs="+", required=True, help="DICOM series folders or NIfTI files")
    parser.add_argument("--out", type=Path, default=Path("var/datasets/unlabeled-ct"))
    parser.add_argument("--views", type=int, default=16, help="views per CT (view 0 is the series unchanged)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    missing = [str(s) for s in args.ct if not s.exists()]
    if missing:
        raise SystemExit(f"error: {', '.join(missing)} not found. Give DICOM series folders or NIfTI files.")
    write_views(args.ct, args.out, args.views, args.seed)


if __name__ == "__main__":
    main()
