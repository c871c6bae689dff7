"""Pack a dataset of any layout into numpy files, for a machine that has numpy but no NIfTI or DICOM reader
(a GPU server's image, say): each case's LPS image and liver mask on their own grid, with its geometry, so that
training and the scores on each case's own grid are those of the source layout.

    python -m rtliver_train.pack --layout pairs --root training/data/chaos-t2.pairs.json --out var/device/chaos-t2

Read back with `--data_layout=npz --data_root=<out>`; the ids are the source layout's, so its split file serves
unchanged. The image is stored as int16 where that loses nothing (CT in HU, most MR), else as float32; the
packed files are conversions of the source data and carry its licence: never commit them.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional, Sequence

import numpy as np

from .datasets import LAYOUTS, CaseRef, discover, load_case
from .errors import TrainingError
from .volume import Volume


def compact(voxels: np.ndarray) -> np.ndarray:
    """int16 when every value is an integer in its range (lossless), otherwise float32."""
    if np.all(np.isfinite(voxels)) and np.array_equal(voxels, np.round(voxels)) and \
            voxels.min() >= np.iinfo(np.int16).min and voxels.max() <= np.iinfo(np.int16).max:
        return voxels.astype(np.int16)
    return voxels.astype(np.float32)


def pack_case(image: Volume, mask: np.ndarray, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, image=compact(image.voxels), mask=mask.astype(np.uint8),
                        spacing=np.asarray(image.spacing, np.float64), origin=np.asarray(image.origin, np.float64),
                        direction=np.asarray(image.direction, np.float64))


def pack(layout: str, root: Path, out: Path, liver_labels: Optional[Sequence[int]] = None) -> List[CaseRef]:
    cases = discover(layout, root, liver_labels)
    for case in cases:
        image, mask = load_case(case)
        path = out / "cases" / f"{case.id}.npz"
        pack_case(image, mask, path)
        print(f"{case.id}: {image.voxels.shape}, {path.stat().st_size / 1e6:.1f} MB", flush=True)
    (out / "pack.json").write_text(json.dumps({"source_layout": layout, "source_root": str(root),
                                               "ids": [case.id for case in cases]}, indent=1) + "\n")
    return cases


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--layout", choices=[layout for layout in LAYOUTS if layout != "npz"], required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--liver_labels", type=int, nargs="*", help="label values that are liver (default: the layout's)")
    args = parser.parse_args(argv)
    try:
        pack(args.layout, args.root, args.out, args.liver_labels)
    except TrainingError as error:
        sys.exit(f"error: {error}")


if __name__ == "__main__":
    main()
