"""Write test/fixtures/preprocessing/: small cases of the model contract's pre-processing, checked by the
Python tests and by the TypeScript core's tests.

    python -m rtliver_train.make_preprocessing_fixtures

Each case folder holds
  case.json          source geometry (as extension/src/core/volume.ts), the expected LPS geometry after
                     reorientation, the output shape [D, H, W] and the HU window;
  input.i16.bin      source voxels, int16 little-endian, i fastest (the source volume's own memory order);
  expected.f32.bin   model input, float32 little-endian, [D, H, W] with W fastest.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Dict, List

import numpy as np

from .preprocess import HU_WINDOW, preprocess, reorient_to_lps
from .volume import Volume

FIXTURE_DIR = Path(__file__).resolve().parents[2] / "test" / "fixtures" / "preprocessing"
SOURCE_DIMENSIONS = (23, 19, 11)  # nx, ny, nz
OUTPUT_SHAPE = (16, 16, 32)  # [D, H, W]: D and W upsampled, H downsampled, so both directions are covered


def _rotation_z(degrees: float) -> np.ndarray:
    c, s = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1.0]])


def source_hu(dimensions=SOURCE_DIMENSIONS) -> np.ndarray:
    """Asymmetric int16 HU pattern (nz, ny, nx) spanning -1000..1000: a gradient in every axis (so flips and
    permutations are visible), a bright off-centre block and a checkerboard."""
    nx, ny, nz = dimensions
    k, j, i = np.meshgrid(np.arange(nz), np.arange(ny), np.arange(nx), indexing="ij")
    values = -600 + 40 * i + 17 * j - 23 * k
    values = values + np.where((i > 13) & (j < 7) & (k > 5), 700, 0)
    values = values + np.where((i + j + k) % 2 == 0, 35, -35)
    return np.clip(values, -1000, 1000).astype(np.int16)


def cases() -> Dict[str, Volume]:
    hu = source_hu()
    tilt = _rotation_z(7.0)  # mildly oblique: index axes are still closest to one LPS axis each
    permuted_direction = tilt @ np.array([[0, 0, 1.0], [1, 0, 0], [0, -1, 0]]).T  # columns: directions of i, j, k
    return {
        "lps-native": Volume(hu, spacing=(0.8, 0.9, 2.5), origin=(-120.0, -95.5, 310.0),
                             direction=((1.0, 0, 0), (0, 1.0, 0), (0, 0, 1.0))),
        # A RAS-stored NIfTI read into LPS: i points Right, j Anterior.
        "ras": Volume(hu, spacing=(1.5, 1.25, 3.0), origin=(160.0, 140.0, -50.0),
                      direction=((-1.0, 0, 0), (0, -1.0, 0), (0, 0, 1.0))),
        # i towards Superior, j towards Left, k towards Anterior, all tilted 7 degrees about S.
        "permuted-oblique": Volume(hu, spacing=(2.0, 0.7, 1.1), origin=(-30.0, 80.0, -200.0),
                                   direction=tuple(tuple(float(c) for c in permuted_direction[:, a])
                                                   for a in range(3))),  # type: ignore[arg-type]
    }


def write_case(name: str, volume: Volume, out_dir: Path = FIXTURE_DIR) -> Dict:
    folder = out_dir / name
    folder.mkdir(parents=True, exist_ok=True)
    volume.voxels.astype("<i2").tofile(folder / "input.i16.bin")
    expected = preprocess(volume, OUTPUT_SHAPE, HU_WINDOW)
    expected.astype("<f4").tofile(folder / "expected.f32.bin")
    lps = reorient_to_lps(volume)
    description = {
        "description": f"Pre-processing case '{name}' (models/README.md contract), written by "
                       "rtliver_train.make_preprocessing_fixtures.",
        "input": {**volume.geometry_dict(), "dtype": "int16", "file": "input.i16.bin"},
        "reoriented": lps.geometry_dict(),
        "output": {"shape": list(OUTPUT_SHAPE), "dtype": "float32", "file": "expected.f32.bin"},
        "huWindow": list(HU_WINDOW),
        "resampling": "trilinear-half-pixel",
        "byteOrder": "little-endian",
        "tolerance": 1e-5,
    }
    (folder / "case.json").write_text(json.dumps(description, indent=2) + "\n")
    return description


def main() -> List[str]:
    written = []
    for name, volume in cases().items():
        write_case(name, volume)
        written.append(name)
    print(f"wrote {len(written)} cases to {FIXTURE_DIR}: {', '.join(written)}")
    return written


if __name__ == "__main__":
    main()
