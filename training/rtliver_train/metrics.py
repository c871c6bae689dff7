"""Segmentation metrics (Dice, the 95th-percentile symmetric Hausdorff distance in mm) and the core's
post-processing, defined exactly as the TypeScript core defines them (extension/src/core/model/evaluate.ts,
components.ts, postprocess.ts), so a Dice from training and a Dice from `rt-liver eval` mean the same thing:

- surface voxel: a foreground voxel with a 6-neighbour (face) that is background or outside the volume;
- HD95: 95th percentile (linear interpolation) of the exact Euclidean distances, both directions pooled;
- post-processing: the largest 26-connected component, then holes filled slice by slice (background
  4-connected within an axial slice and not reaching its edge), which fills every 3-D hole too.

test/fixtures/evaluation (written by make_evaluation_fixture.py) holds one case both languages must agree on.
Arrays are [z, y, x] (axial slices along axis 0), as the rest of the package."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import ndimage


def dice_score(prediction: np.ndarray, truth: np.ndarray) -> float:
    prediction, truth = prediction.astype(bool), truth.astype(bool)
    total = prediction.sum() + truth.sum()
    return 1.0 if total == 0 else float(2 * np.logical_and(prediction, truth).sum() / total)


FACE_NEIGHBOURS = ndimage.generate_binary_structure(3, 1)  # 6-connected (medpy's and MONAI's surface)
ALL_NEIGHBOURS = np.ones((3, 3, 3), dtype=bool)  # 26-connected


def _surface(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, structure=FACE_NEIGHBOURS, border_value=0)


def hd95(prediction: np.ndarray, truth: np.ndarray, spacing_zyx: Sequence[float]) -> float:
    """95th percentile of the distances from each surface voxel to the other surface, both ways (mm).
    NaN when either mask is empty (reported as such, not as 0)."""
    prediction, truth = prediction.astype(bool), truth.astype(bool)
    if not prediction.any() or not truth.any():
        return float("nan")
    to_truth = ndimage.distance_transform_edt(~_surface(truth), sampling=spacing_zyx)
    to_prediction = ndimage.distance_transform_edt(~_surface(prediction), sampling=spacing_zyx)
    distances = np.concatenate([to_truth[_surface(prediction)], to_prediction[_surface(truth)]])
    return float(np.percentile(distances, 95))


def largest_component(mask: np.ndarray) -> np.ndarray:
    """The largest 26-connected component (the core's post-processing keeps only that)."""
    labels, count = ndimage.label(mask, structure=ALL_NEIGHBOURS)
    if count <= 1:
        return mask.astype(bool)
    sizes = ndimage.sum(mask, labels, index=range(1, count + 1))
    return labels == (1 + int(np.argmax(sizes)))


def fill_holes_per_slice(mask: np.ndarray) -> np.ndarray:
    """Holes filled in each axial slice (axis 0): background 4-connected within the slice that does not reach
    the slice's edge. A 3-D hole is a hole in each of its slices, so it is filled as well."""
    return np.stack([ndimage.binary_fill_holes(plane) for plane in mask.astype(bool)]) if mask.ndim == 3 \
        else ndimage.binary_fill_holes(mask.astype(bool))


def postprocess_mask(mask: np.ndarray) -> np.ndarray:
    """The core's post-processing of a thresholded mask: largest 26-connected component, holes filled."""
    return fill_holes_per_slice(largest_component(mask))
