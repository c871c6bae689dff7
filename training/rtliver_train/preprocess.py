"""Pre-processing to the model grid, exactly as models/README.md specifies and the TypeScript core implements:

1. reorient to LPS index order by axis permutations and flips only (no interpolation);
2. resize the whole volume to the model shape [D, H, W] with trilinear, half-pixel sampling on float32 HU,
   no anti-aliasing: output voxel o samples input coordinate (o + 0.5) * n_in / n_out - 0.5, clamped to
   [0, n_in - 1] -- this is F.interpolate(mode="trilinear", align_corners=False) given an explicit size;
3. window: x = (clamp(HU, lo, hi) - centre) / half_width, in [-1, 1].

test/fixtures/preprocessing/ holds cases computed here and checked by both test suites.
"""

from __future__ import annotations

import itertools
from typing import Sequence, Tuple

import numpy as np
import torch
import torch.nn.functional as F

from .volume import Volume

from .contract import HU_WINDOW, MODEL_SHAPE  # noqa: F401 (re-exported: the names pre-processing is defined by)


def lps_axis_order(direction: Sequence[Sequence[float]]) -> Tuple[Tuple[int, int, int], Tuple[int, int, int]]:
    """For LPS world axes L, P, S (0, 1, 2): which index axis points closest to it, and its sign (+1/-1).

    The assignment is the permutation with the largest sum of |cosines|, so it is a permutation even for
    oblique grids where one index axis is closest to two world axes (for axis-aligned and mildly oblique
    grids it equals "the largest |cosine| of each index axis")."""
    cosines = np.abs(np.asarray(direction, float))  # cosines[a][w]: index axis a vs world axis w
    best = max(itertools.permutations(range(3)), key=lambda perm: sum(cosines[perm[w]][w] for w in range(3)))
    signs = tuple(1 if direction[best[w]][w] >= 0 else -1 for w in range(3))
    return tuple(best), signs  # type: ignore[return-value]


def reorient_to_lps(volume: Volume) -> Volume:
    """Permute and flip index axes so that i points to L, j to P, k to S. The geometry stays exact: the
    world position of every voxel is unchanged, only its index changes."""
    order, signs = lps_axis_order(volume.direction)
    if order == (0, 1, 2) and signs == (1, 1, 1):
        return volume
    # voxels are (k, j, i): numpy axis of index axis a is 2 - a.
    data = volume.voxels
    for a in range(3):
        if signs[order.index(a)] < 0:
            data = np.flip(data, axis=2 - a)
    # new index axis w (i, j, k) is old axis order[w]; new numpy order is (k', j', i') = old (order[2], order[1], order[0])
    data = np.ascontiguousarray(np.transpose(data, (2 - order[2], 2 - order[1], 2 - order[0])))
    dims = volume.dimensions
    corner = [dims[a] - 1 if signs[order.index(a)] < 0 else 0 for a in range(3)]  # old index of new voxel 0
    origin = tuple(float(v) for v in volume.index_to_world(corner))
    spacing = tuple(float(volume.spacing[order[w]]) for w in range(3))
    direction = tuple(tuple(float(signs[w] * c) for c in volume.direction[order[w]]) for w in range(3))
    return Volume(voxels=data, spacing=spacing, origin=origin, direction=direction)  # type: ignore[arg-type]


def resample_half_pixel(values: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Trilinear half-pixel resize of a (D, H, W) array to `shape`, float32, no anti-aliasing."""
    tensor = torch.from_numpy(np.ascontiguousarray(values, dtype=np.float32))[None, None]
    resized = F.interpolate(tensor, size=tuple(int(s) for s in shape), mode="trilinear", align_corners=False)
    return resized[0, 0].numpy()


def resample_half_pixel_reference(values: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """The contract's formula written out (separable, float64): the test proves F.interpolate equals it."""
    out = np.asarray(values, dtype=np.float64)
    for axis, n_out in enumerate(shape):
        n_in = out.shape[axis]
        source = np.clip((np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5, 0, n_in - 1)
        low = np.floor(source).astype(int)
        high = np.minimum(low + 1, n_in - 1)
        weight = (source - low).reshape([-1 if d == axis else 1 for d in range(out.ndim)])
        out = np.take(out, low, axis=axis) * (1 - weight) + np.take(out, high, axis=axis) * weight
    return out


def apply_hu_window(values: np.ndarray, hu_window: Sequence[float] = HU_WINDOW) -> np.ndarray:
    low, high = float(hu_window[0]), float(hu_window[1])
    centre, half_width = (low + high) / 2, (high - low) / 2
    return ((np.clip(values, low, high) - centre) / half_width).astype(np.float32)


def preprocess(volume: Volume, shape: Sequence[int] = MODEL_SHAPE,
               hu_window: Sequence[float] = HU_WINDOW) -> np.ndarray:
    """CT volume (HU) -> model input (D, H, W) float32 in [-1, 1]; add [None, None] for the tensor."""
    lps = reorient_to_lps(volume)
    return apply_hu_window(resample_half_pixel(lps.voxels.astype(np.float32), shape), hu_window)


def labels_to_grid(labels: np.ndarray, shape: Sequence[int] = MODEL_SHAPE) -> np.ndarray:
    """A binary (D, H, W) mask (already LPS) on the model grid: the same trilinear resize, thresholded at 0.5,
    so training targets match what post-processing does with probabilities."""
    return (resample_half_pixel(labels.astype(np.float32), shape) >= 0.5).astype(np.uint8)
