"""Synthetic liver lesions for training: the liver target includes its tumours and cysts.

Why: every public liver reference (LiTS / MSD Task03, 3D-IRCADb, CHAOS) labels the liver *with* its lesions, and
surgical planning is mostly for livers with tumours. A model that has seen few lesions leaves dark regions out of
the mask, worst where they touch the capsule (hole filling cannot close a gap that opens to the outside): on
ircadb-17 the shipped model left out a subcapsular lesion at the dome (var/robustness overlays). The 16 training
anatomies hold few large or subcapsular tumours, so lesions are added, after the synthetic-tumour idea of Hu et
al., "Label-free liver tumor segmentation", CVPR 2023 (tumours synthesised inside real livers):

- `add_lesion_labels`: on a synthesis label map, blobs inside the liver become the tumour class, rendered with an
  intensity drawn by `lesion_hu` (synth.render); the liver target is unchanged.
- `implant_lesions`: on a real CT (totalseg-a), blobs inside the liver are blended into the image with a
  lesion intensity relative to the liver's own (hypodense, cystic or hyperdense), texture and a soft edge; the
  liver target is unchanged.

Lesions are deformed ellipsoids of 5-45 mm radius (log-uniform), half of them centred near the liver's surface so
that they reach the capsule, clipped to the liver (a lesion never changes the liver's outline).
"""

from __future__ import annotations

from typing import Sequence, Tuple

import numpy as np
from scipy import ndimage

RADIUS_MM = (5.0, 45.0)
SUBCAPSULAR_PROBABILITY = 0.5
MAX_LESIONS = 6


def smooth_noise(rng: np.random.Generator, shape, sigma) -> np.ndarray:
    """Gaussian-smoothed white noise scaled to unit standard deviation (synthesis texture, lesion outlines)."""
    field = ndimage.gaussian_filter(rng.standard_normal(shape).astype(np.float32), sigma)
    return field / (field.std() + 1e-6)


def _one_blob(liver: np.ndarray, depth: np.ndarray, rng: np.random.Generator, spacing: np.ndarray,
              radius_mm: Tuple[float, float] = RADIUS_MM) -> np.ndarray:
    """One deformed ellipsoid centred in the liver (`depth`: mm to its surface), not yet clipped to it."""
    radius = float(np.exp(rng.uniform(*np.log(radius_mm))))
    if rng.random() < SUBCAPSULAR_PROBABILITY:
        candidates = np.argwhere(liver & (depth <= max(0.6 * radius, spacing.max())))
    else:
        candidates = np.argwhere(depth > 0.5 * radius)
    if len(candidates) == 0:
        candidates = np.argwhere(liver)
    centre = candidates[rng.integers(len(candidates))]
    axes = radius * rng.uniform(0.7, 1.3, 3)  # mm, per axis
    half = np.ceil(axes * 1.4 / spacing).astype(int) + 1
    low = np.maximum(centre - half, 0)
    high = np.minimum(centre + half + 1, liver.shape)
    coords = np.meshgrid(*[(np.arange(a, b) - c) * s for a, b, c, s in zip(low, high, centre, spacing)],
                         indexing="ij")
    ellipsoid = sum((x / a) ** 2 for x, a in zip(coords, axes))
    wobble = 0.35 * smooth_noise(rng, ellipsoid.shape, max(1.0, float(np.mean(half)) / 3))
    blob = np.zeros(liver.shape, bool)
    blob[tuple(slice(a, b) for a, b in zip(low, high))] = (ellipsoid + wobble) < 1.0
    return blob


def _depth(liver: np.ndarray, spacing_zyx: Sequence[float]) -> np.ndarray:
    return ndimage.distance_transform_edt(liver, sampling=spacing_zyx)  # mm to the liver's surface


def lesion_blobs(liver: np.ndarray, rng: np.random.Generator, spacing_zyx: Sequence[float],
                 count: int) -> np.ndarray:
    """`count` deformed ellipsoids inside `liver` (bool (z, y, x)), as one bool mask, clipped to the liver."""
    lesions = np.zeros(liver.shape, bool)
    if count == 0 or not liver.any():
        return lesions
    depth = _depth(liver, spacing_zyx)
    for _ in range(count):
        lesions |= _one_blob(liver, depth, rng, np.asarray(spacing_zyx, float))
    return lesions & liver


def lesion_count(rng: np.random.Generator, probability: float) -> int:
    """None with 1 - probability, else 1 to MAX_LESIONS (more small livers with one lesion than with six)."""
    if rng.random() >= probability:
        return 0
    return int(min(MAX_LESIONS, rng.geometric(0.45)))


def add_lesion_labels(labels: np.ndarray, rng: np.random.Generator, spacing_ijk: Sequence[float],
                      liver_class: int, tumour_class: int, probability: float) -> np.ndarray:
    """A synthesis label map with extra lesions: parenchyma voxels of the blobs become `tumour_class`."""
    liver = labels == liver_class
    count = lesion_count(rng, probability)
    blobs = lesion_blobs(liver, rng, tuple(reversed(spacing_ijk)), count)
    labels = labels.copy()
    labels[blobs] = tumour_class
    return labels


def lesion_hu(rng: np.random.Generator, liver_hu: float) -> float:
    """A lesion's mean HU relative to its liver's: hypodense (-100..-20 HU, 70 %: metastases, most HCC in the
    portal phase), cystic (near water, 0..25 HU, 15 %) or hyperdense (+20..+60 HU, 15 %: haemangioma, arterial
    HCC); never below -10 HU (liver lesions are not fat)."""
    kind = rng.choice(["hypodense", "cyst", "hyperdense"], p=[0.7, 0.15, 0.15])
    if kind == "hypodense":
        return max(-10.0, liver_hu + rng.uniform(-100, -20))
    if kind == "cyst":
        return float(rng.uniform(0, 25))
    return liver_hu + rng.uniform(20, 60)


def implant_lesions(image: np.ndarray, liver: np.ndarray, rng: np.random.Generator, spacing_ijk: Sequence[float],
                    probability: float) -> Tuple[np.ndarray, int]:
    """Lesions blended into a real CT's liver (HU, (z, y, x)); returns the image and how many were made.

    Each lesion's intensity is drawn by `lesion_hu` from the liver's median, with its own smooth texture and a
    soft edge (a blob smoothed by about one voxel), so no sharp artificial border gives it away."""
    count = lesion_count(rng, probability)
    if count == 0 or not liver.any():
        return image, 0
    image, _ = implant(image, liver, rng, spacing_ijk, count, lesion_hu)
    return image, count


def implant(image: np.ndarray, liver: np.ndarray, rng: np.random.Generator, spacing_ijk: Sequence[float], count: int,
            intensity, radius_mm: Tuple[float, float] = RADIUS_MM) -> Tuple[np.ndarray, np.ndarray]:
    """`count` lesions blended into the liver of a real CT, each of mean HU `intensity(rng, liver median HU)` and
    a radius drawn log-uniformly from `radius_mm`; returns the image (float32 HU) and the lesions' mask (clipped
    to the liver)."""
    spacing_zyx = tuple(reversed(spacing_ijk))
    depth = _depth(liver, spacing_zyx)
    out = image.astype(np.float32).copy()
    lesions = np.zeros(liver.shape, bool)
    liver_hu = float(np.median(image[liver]))
    for _ in range(count):
        blob = _one_blob(liver, depth, rng, np.asarray(spacing_zyx, float), radius_mm) & liver
        if not blob.any():
            continue
        value = intensity(rng, liver_hu)
        alpha = np.clip(ndimage.gaussian_filter(blob.astype(np.float32), 0.8), 0, 1) * liver
        texture = smooth_noise(rng, image.shape, 1.0) * rng.uniform(3, 15)
        out = out * (1 - alpha) + (value + texture) * alpha
        lesions |= blob
    return out, lesions
