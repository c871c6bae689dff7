"""Segmentation metrics: Dice and the 95th-percentile symmetric Hausdorff distance in mm."""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy import ndimage


def dice_score(prediction: np.ndarray, truth: np.ndarray) -> float:
    prediction, truth = prediction.astype(bool), truth.astype(bool)
    total = prediction.sum() + truth.sum()
    return 1.0 if total == 0 else float(2 * np.logical_and(prediction, truth).sum() / total)


def _surface(mask: np.ndarray) -> np.ndarray:
    return mask & ~ndimage.binary_erosion(mask, structure=np.ones((3, 3, 3)), border_value=0)


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
    labels, count = ndimage.label(mask, structure=np.ones((3, 3, 3)))
    if count <= 1:
        return mask.astype(bool)
    sizes = ndimage.sum(mask, labels, index=range(1, count + 1))
    return labels == (1 + int(np.argmax(sizes)))
