"""Write test/fixtures/evaluation/: one case on which the Python and TypeScript evaluations must agree voxel for
voxel and to the last digit (post-processing, Dice, HD95; the definitions are in metrics.py).

    python -m rtliver_train.make_evaluation_fixture

Files
  case.json          dims [nx, ny, nz], spacing [x, y, z] mm, and the expected voxel count, Dice and HD95;
  raw.u8.bin         a thresholded prediction, uint8, i fastest: a liver-like blob with a cavity (a 3-D hole),
                     a tunnel through every axial slice (open at both ends in 3-D, so only a per-slice fill closes
                     it), a voxel touching the blob only at a corner (kept: 26-connected) and a separate blob
                     (removed: not the largest component);
  expected.u8.bin    raw after the core's post-processing;
  reference.u8.bin   the "manual" mask it is scored against (the blob, shifted).
The case is built so that each of the earlier differences between the two languages (26- vs 6-connected
surfaces, 3-D vs per-slice hole filling) changes the numbers.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from scipy import ndimage

from .metrics import ALL_NEIGHBOURS, dice_score, hd95, postprocess_mask

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "evaluation"
SHAPE_ZYX = (12, 22, 26)
SPACING_XYZ = (0.8, 0.9, 2.5)


def ellipsoid(centre_zyx, radii_zyx, shape=SHAPE_ZYX) -> np.ndarray:
    z, y, x = np.meshgrid(*(np.arange(n) for n in shape), indexing="ij")
    return sum(((a - c) / r) ** 2 for a, c, r in zip((z, y, x), centre_zyx, radii_zyx)) <= 1.0


def case():
    blob = ellipsoid((5.5, 10.5, 11.0), (5.2, 8.0, 9.5))
    raw = blob.copy()
    raw[4:7, 9:12, 9:12] = False  # cavity inside: a 3-D hole
    raw[:, 13:15, 6:8] = False  # tunnel through every slice: not a 3-D hole, a hole in each slice it crosses
    # a voxel that touches the blob only at a corner: in its 26-neighbourhood, not in its 18-neighbourhood
    only_corner = ndimage.binary_dilation(blob, ALL_NEIGHBOURS) & ~ndimage.binary_dilation(
        blob, ndimage.generate_binary_structure(3, 2))
    raw[tuple(np.argwhere(only_corner)[len(np.argwhere(only_corner)) // 2])] = True
    raw[0:2, 0:3, 22:25] = True  # a separate small blob in a corner
    reference = np.roll(blob, shift=(1, -1, 2), axis=(0, 1, 2))
    return raw, reference


def main() -> None:
    raw, reference = case()
    expected = postprocess_mask(raw)
    spacing_zyx = tuple(reversed(SPACING_XYZ))
    FIXTURE_DIR.mkdir(parents=True, exist_ok=True)
    for name, mask in (("raw", raw), ("expected", expected), ("reference", reference)):
        (FIXTURE_DIR / f"{name}.u8.bin").write_bytes(mask.astype(np.uint8).tobytes())  # [z, y, x] C order = i fastest
    description = {
        "dims": list(reversed(SHAPE_ZYX)), "spacing": list(SPACING_XYZ),
        "rawVoxels": int(raw.sum()), "expectedVoxels": int(expected.sum()), "referenceVoxels": int(reference.sum()),
        "dice": dice_score(expected, reference), "hd95_mm": hd95(expected, reference, spacing_zyx),
        "note": "Written by python -m rtliver_train.make_evaluation_fixture; checked by training/tests/test_metrics.py "
                "and extension/src/core/model/evaluation-parity.test.ts.",
    }
    (FIXTURE_DIR / "case.json").write_text(json.dumps(description, indent=1) + "\n")
    print(json.dumps(description, indent=1))


if __name__ == "__main__":
    main()
