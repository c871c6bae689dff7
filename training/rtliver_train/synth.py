"""Label-map-driven synthesis of training CTs from real anatomy (SynthSeg-style domain randomisation, Billot et
al., Med Image Anal 2023), plus augmented copies of the one real CT with a full label map, written on the model
grid.

    python -m rtliver_train.synth --data ../shared/data --out var/datasets/synth-ct --variants 12 --seed 0

Writes `<out>/cases/<id>.npz` (hu: float16 HU on the model grid [64, 128, 128], LPS; mask: uint8 liver) and
`<out>/split.json` (train: synthetic + totalseg-a variants; val: ircadb-17, the real CT with a manual label,
whose patient is excluded from the anatomies). Read with `--data_layout=grid-npz --data_root=<out>`.

Each synthetic case: one real anatomy (synth_anatomy.py: a 3D-IRCADb-01 patient's masks completed with totalseg-a's
organs, a heart and lungs), a random in-plane rotation/scale/shift and field of view (padding with air), a random
cranio-caudal crop (whole series; abdomen from the dome; a slab that cuts the liver; with a chest slab above; or,
with `--slab_fields`, only the liver's upper or lower part, padded as the core pads it), then per-class CT
intensities drawn from ranges for a random contrast phase (non-contrast, arterial, portal venous), where heart,
spleen, kidneys, stomach, bowel and muscle each take the liver's own intensity with probability 0.35 (so only shape
and context tell them apart), the unlabelled body split into smooth random blobs of fat, muscle and bowel-like
tissue, subcutaneous fat from the body's distance transform, smooth within-class texture, blur (slice thickness)
and noise. With `--bowel_loops` the bowel is drawn as walled loops of fluid, faeces with gas, gas or oral contrast
instead of one tissue. The volume is then resized to the model grid by the contract's own resampling
(preprocess.py), exactly as a real CT is.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Callable, Dict, Optional, Sequence, Tuple

import numpy as np
from scipy import ndimage

from .errors import DataError
from .lesions import add_lesion_labels, implant_lesions, lesion_hu, smooth_noise
from .preprocess import MODEL_SHAPE, labels_to_grid, reorient_to_lps, resample_half_pixel
from .synth_anatomy import (AIR, BLADDER, BODY, BONE, BOWEL, FAT, GALLBLADDER, HEART, KIDNEY, LIVER, LIVER_CLASSES,
                            LIVER_VESSEL, LUNG, MUSCLE, PANCREAS, SOFT, SPLEEN, STOMACH, TOTALSEG_LIVER, TUMOUR,
                            VALIDATION_PATIENT, VESSEL, Anatomy, add_heart_and_lungs, load_ircadb_anatomy,
                            load_totalseg_reference, transplant_totalseg)

N_CLASSES = 19
LesionDraw = Tuple[np.random.Generator, float]  # lesions' own generator, probability that a case has any
LESION_STREAM = 7  # the lesions' generator is seeded [seed, anatomy, variant, LESION_STREAM], apart from the case's
FIELD_STREAM = 8  # likewise the narrow in-plane field of `--narrow_fields`
FATTY_STREAM = 9  # likewise how much darker `--fatty_liver` makes the liver
SLAB_STREAM = 10  # likewise the slab of `--slab_fields`
BOWEL_STREAM = 11  # likewise the loops and contents of `--bowel_loops`
SLAB_ENDS = ("both", "upper", "lower")
SlabDraw = Tuple[np.random.Generator, str]  # the slab's own generator, which end(s) of the liver it may hold
# The core gives a series shorter than this to the model with its end slices repeated (field-of-view.ts,
# MODEL_FIELD): a synthetic slab is padded the same way, so the model learns what it will be shown.
MIN_CRANIO_CAUDAL_MM = 140.0
MAX_ADDED_SHARE = 2
FATTY_LIVER_FLOOR_HU = -10.0  # severe steatosis without contrast reaches about -10 to 10 HU
# HU ranges per contrast phase: (low, high) of the class mean.
PHASES: Dict[str, Dict[int, Tuple[float, float]]] = {
    "non-contrast": {LIVER: (45, 75), LIVER_VESSEL: (30, 50), VESSEL: (30, 50), SPLEEN: (35, 55), KIDNEY: (25, 40),
                     HEART: (30, 55), PANCREAS: (30, 50)},
    "arterial": {LIVER: (55, 95), LIVER_VESSEL: (60, 200), VESSEL: (200, 400), SPLEEN: (80, 190), KIDNEY: (150, 260),
                 HEART: (150, 350), PANCREAS: (80, 140)},
    "portal": {LIVER: (90, 170), LIVER_VESSEL: (120, 240), VESSEL: (120, 240), SPLEEN: (90, 160), KIDNEY: (130, 230),
               HEART: (90, 220), PANCREAS: (70, 130)},
}
COMMON: Dict[int, Tuple[float, float]] = {
    AIR: (-1010, -990), BONE: (200, 900), GALLBLADDER: (-5, 35), STOMACH: (-60, 70), LUNG: (-920, -720),
    BOWEL: (-60, 80), MUSCLE: (30, 70), FAT: (-130, -70), BLADDER: (-5, 30), SOFT: (20, 70), BODY: (-100, 60),
}
LIVER_LIKE = (HEART, SPLEEN, KIDNEY, STOMACH, BOWEL, MUSCLE)
# `--bowel_loops`: what a loop holds on abdominal CT, with its share of loops, and the wall around it. The contents
# lie away from the liver's intensity (water-like fluid, gas, positive oral contrast in the cases given it,
# ORAL_CONTRAST_PROBABILITY; mottled faeces, a few % of whose voxels reach it); only the thin wall enhances like
# soft tissue.
BOWEL_CONTENTS = {"fluid": 0.35, "faeces": 0.3, "gas": 0.15, "oral-contrast": 0.2}
ORAL_CONTRAST_PROBABILITY = 0.4
BOWEL_LOOP_MM = 30.0  # about a loop's calibre: one Voronoi cell of the bowel per (this)^3 of its volume
BOWEL_WALL_HU = (40.0, 130.0)  # enhancing wall, one voxel (about 3 mm) thick on the working grid


def random_geometry(labels: np.ndarray, rng: np.random.Generator, order: int = 0, fill=AIR,
                    field_scale: Optional[float] = None) -> np.ndarray:
    """In-plane rotation (+-10 deg), scale (0.85-1.15) and a zoom-out of the field of view (up to 1.3x, air
    outside), the same for every slice; labels by nearest neighbour, images linearly (order 1). `field_scale`
    (output field / input field) replaces the drawn scale and zoom; every draw is made either way, so the
    rotation and shift are those of the same case without it."""
    angle = np.deg2rad(rng.uniform(-10, 10))
    scale = rng.uniform(0.85, 1.15) * rng.uniform(1.0, 1.3)  # output pixel -> input pixels
    if field_scale is not None:
        scale = field_scale
    c, s = np.cos(angle) * scale, np.sin(angle) * scale
    matrix = np.array([[1, 0, 0], [0, c, -s], [0, s, c]])
    centre = np.array(labels.shape, float) / 2
    shift = np.array([0, rng.uniform(-8, 8), rng.uniform(-8, 8)])
    offset = centre - matrix @ centre + shift
    return ndimage.affine_transform(labels, matrix, offset=offset, order=order, mode="constant", cval=fill)


def random_z_range(liver: np.ndarray, rng: np.random.Generator, sk: float) -> Tuple[int, int]:
    """A cranio-caudal field of view: whole; from just above the dome down; or a slab cutting the liver."""
    nz = liver.shape[0]
    rows = np.nonzero(liver.any(axis=(1, 2)))[0]
    top, bottom = int(rows[-1]), int(rows[0])
    mode = rng.choice(["whole", "abdomen", "slab"], p=[0.45, 0.35, 0.2])
    if mode == "whole":
        return 0, nz
    if mode == "abdomen":
        high = min(nz, top + 1 + int(rng.uniform(5, 40) / sk))
        low = max(0, bottom - int(rng.uniform(0, 120) / sk))
        return low, high
    height = top - bottom + 1
    keep = int(height * rng.uniform(0.5, 0.9))
    start = bottom + int(rng.integers(0, height - keep + 1))
    low, high = max(0, start - int(rng.uniform(0, 30) / sk)), min(nz, start + keep + int(rng.uniform(0, 30) / sk))
    return low, high


def slab_z_range(liver: np.ndarray, rng: np.random.Generator, sk: float, ends: str = "both") -> Tuple[int, int]:
    """A slab that holds only the liver's upper part (from above the dome down to a cut through the liver) or only
    its lower part (from a cut down to below its tip), 30-70 % of the liver's height: the fields of a scan planned
    on a region, which the core pads but cannot complete (the whole-series draws of `random_z_range` rarely cut
    this much). `ends`: "both" (either, evenly), "upper" or "lower" only; the draws are the same for all three."""
    nz = liver.shape[0]
    rows = np.nonzero(liver.any(axis=(1, 2)))[0]
    top, bottom = int(rows[-1]), int(rows[0])
    keep = max(1, int(round((top - bottom + 1) * rng.uniform(0.3, 0.7))))
    margin = int(rng.uniform(0, 40) / sk)
    upper = rng.random() < 0.5 if ends == "both" else ends == "upper"
    if upper:
        return max(0, top + 1 - keep), min(nz, top + 1 + margin)
    return max(0, bottom - margin), min(nz, bottom + keep)


def pad_like_the_core(hu: np.ndarray, liver: np.ndarray, sk: float) -> Tuple[np.ndarray, np.ndarray]:
    """A series shorter than MIN_CRANIO_CAUDAL_MM with its first and last slices repeated, evenly, as
    `paddedBox` in field-of-view.ts does (at most MAX_ADDED_SHARE times its own slices). The liver of the
    repeated slices stays labelled: the image shows it there (the core drops what the model marks in them)."""
    length = hu.shape[0]
    wanted = min(int(np.ceil(MIN_CRANIO_CAUDAL_MM / sk)), (1 + MAX_ADDED_SHARE) * length)
    if wanted <= length:
        return hu, liver
    added = wanted - length
    widths = ((added // 2, added - added // 2), (0, 0), (0, 0))
    return np.pad(hu, widths, mode="edge"), np.pad(liver, widths, mode="edge")


def class_means(rng: np.random.Generator) -> np.ndarray:
    phase = rng.choice(list(PHASES), p=[0.15, 0.2, 0.65])
    ranges = {**COMMON, **PHASES[phase]}
    means = np.zeros(N_CLASSES, np.float32)
    for cls, (low, high) in ranges.items():
        means[cls] = rng.uniform(low, high)
    means[TUMOUR] = means[LIVER] + rng.uniform(-90, 30)
    for cls in LIVER_LIKE:
        if rng.random() < 0.35:
            means[cls] = means[LIVER] + rng.normal(0, 10)
    return means


def fill_body(labels: np.ndarray, rng: np.random.Generator, spacing) -> np.ndarray:
    """Unlabelled body -> subcutaneous fat (distance to the skin below a random depth) and smooth random blobs
    of fat, muscle, bowel-like and soft tissue."""
    si, sj, sk = spacing
    labels = labels.copy()
    body = labels > AIR
    depth = ndimage.distance_transform_edt(body, sampling=(sk, sj, si))
    unlabelled = labels == BODY
    labels[unlabelled & (depth < rng.uniform(5, 30))] = FAT
    unlabelled = labels == BODY
    field = smooth_noise(rng, labels.shape, (rng.uniform(1.5, 4), rng.uniform(3, 7), rng.uniform(3, 7)))
    kinds = rng.choice([FAT, MUSCLE, BOWEL, SOFT, BODY], size=int(rng.integers(3, 6)))
    edges = np.quantile(field[unlabelled], np.linspace(0, 1, len(kinds) + 1)[1:-1]) if unlabelled.any() else []
    bins = np.digitize(field, edges)
    labels[unlabelled] = kinds[bins[unlabelled]]
    return labels


def bowel_loops(labels: np.ndarray, rng: np.random.Generator, spacing) -> np.ndarray:
    """HU of the bowel class drawn as bowel (NaN elsewhere): the class split into loops (Voronoi cells of random
    seeds, one per BOWEL_LOOP_MM cube), each filled with one of BOWEL_CONTENTS, and a wall where a loop meets
    anything else. The plain draw paints the class as one tissue, at the liver's intensity in a third of the
    cases, which is nothing like the colon at the liver's tip on patient CT."""
    si, sj, sk = spacing
    bowel = labels == BOWEL
    image = np.full(labels.shape, np.nan, np.float32)
    if not bowel.any():
        return image
    voxels = np.argwhere(bowel)
    n_loops = max(1, int(round(len(voxels) * si * sj * sk / BOWEL_LOOP_MM ** 3)))
    seeds = voxels[rng.choice(len(voxels), size=min(n_loops, len(voxels)), replace=False)]
    seed_image = np.ones(labels.shape, bool)
    seed_image[tuple(seeds.T)] = False
    _, nearest = ndimage.distance_transform_edt(seed_image, sampling=(sk, sj, si), return_indices=True)
    loop_of = np.full(labels.shape, -1, np.int64)
    loop_of[bowel] = np.ravel_multi_index(tuple(n[bowel] for n in nearest), labels.shape)
    wall = np.zeros(labels.shape, bool)
    for axis in range(3):  # between 6-neighbours of two loops, one voxel (the lower loop's); at the border, bowel's
        here, ahead = [slice(None)] * 3, [slice(None)] * 3
        here[axis], ahead[axis] = slice(None, -1), slice(1, None)
        a, b = loop_of[tuple(here)], loop_of[tuple(ahead)]
        wall[tuple(here)] |= (a >= 0) & (a != b) & ((b < 0) | (a < b))
        wall[tuple(ahead)] |= (b >= 0) & (a != b) & ((a < 0) | (b < a))
    _, loop_index = np.unique(loop_of[bowel], return_inverse=True)
    n_found = int(loop_index.max()) + 1  # every seed keeps its own voxel
    share = dict(BOWEL_CONTENTS, **({} if rng.random() < ORAL_CONTRAST_PROBABILITY else {"oral-contrast": 0.0}))
    share_sum = sum(share.values())
    kind = rng.choice(list(share), size=n_found, p=[v / share_sum for v in share.values()])
    level = {"fluid": rng.uniform(-5, 30, n_found), "gas": rng.uniform(-980, -800, n_found),
             "oral-contrast": rng.uniform(150, 500, n_found), "faeces": rng.uniform(-80, 20, n_found)}
    loop_level = np.select([kind == name for name in level], list(level.values()))
    fine = smooth_noise(rng, labels.shape, 0.7)[bowel]
    values = loop_level[loop_index].astype(np.float32)  # per bowel voxel, its loop's level
    faeces = kind[loop_index] == "faeces"  # mottled soft matter with bubbles of gas
    values[faeces] += 25 * fine[faeces]
    values[faeces & (fine > rng.uniform(0.3, 1.0))] = rng.uniform(-950, -500)
    image[bowel] = values
    image[wall] = rng.uniform(*BOWEL_WALL_HU)
    return image


def render(labels: np.ndarray, rng: np.random.Generator, spacing,
           tumour_hu: Optional[Callable[[float], float]] = None, liver_darker_hu: float = 0.0,
           bowel: Optional[np.random.Generator] = None) -> np.ndarray:
    """HU image of a label map: per-class mean, smooth texture, bowel gas, blur, noise. `tumour_hu` (liver mean
    -> tumour mean) replaces the tumour class's own draw. `liver_darker_hu` lowers the liver's parenchyma (not its
    vessels, tumours or the organs drawn like it) after every draw: a fatty liver, darker than the spleen.
    `bowel` (a generator of its own) draws the bowel class as loops (`bowel_loops`) over the plain draw, before
    the bias, blur and noise, so that every other draw stays the same."""
    means = class_means(rng)
    if tumour_hu is not None:
        means[TUMOUR] = tumour_hu(float(means[LIVER]))
    if liver_darker_hu > 0:
        means[LIVER] = max(means[LIVER] - liver_darker_hu, FATTY_LIVER_FLOOR_HU)
    hu = means[labels]
    texture = smooth_noise(rng, labels.shape, rng.uniform(0.7, 2.0))
    amplitude = np.full(N_CLASSES, rng.uniform(3, 12), np.float32)
    amplitude[[BONE, LUNG]] = (80, 40)
    amplitude[[BOWEL, STOMACH, BODY]] = rng.uniform(10, 40)
    hu += texture * amplitude[labels]
    if rng.random() < 0.6:  # gas pockets in bowel and stomach
        gas = (smooth_noise(rng, labels.shape, 1.5) > rng.uniform(1.0, 2.0)) & np.isin(labels, (BOWEL, STOMACH))
        hu[gas] = rng.uniform(-950, -600)
    if bowel is not None:
        loops = bowel_loops(labels, bowel, spacing)
        hu = np.where(np.isnan(loops), hu, loops)
    hu += 20 * rng.uniform(0, 1) * smooth_noise(rng, labels.shape, (4, 20, 20))  # low-frequency bias
    si, sj, sk = spacing
    thickness = rng.uniform(1.0, 5.0)
    hu = ndimage.gaussian_filter(hu, (max(0.3, thickness / sk / 2.355), rng.uniform(0.3, 0.8), rng.uniform(0.3, 0.8)))
    hu += rng.normal(0, rng.uniform(3, 25), hu.shape).astype(np.float32)
    return hu


def to_grid(hu: np.ndarray, liver: np.ndarray, shape=MODEL_SHAPE) -> Tuple[np.ndarray, np.ndarray]:
    """The contract's resize of an LPS (k, j, i) HU volume and its liver mask to the model grid."""
    return resample_half_pixel(hu, shape).astype(np.float16), labels_to_grid(liver, shape)


def synth_case(anatomy: Anatomy, rng: np.random.Generator, chest_probability: float = 0.4,
               heart_beside_dome: bool = False, lesions: Optional[LesionDraw] = None,
               field_mm: Optional[float] = None, liver_darker_hu: float = 0.0,
               slab: Optional[SlabDraw] = None,
               bowel: Optional[np.random.Generator] = None) -> Tuple[np.ndarray, np.ndarray]:
    """One synthetic CT and its liver mask on the model grid. `lesions` (a generator of its own and a
    probability) adds lesions inside the liver without changing any other draw, so a case with lesions is the
    same case as without them, lesions apart. `field_mm` sets the in-plane field (its width, left to right)
    instead of the drawn scale: a narrow field cuts the body's sides, as small-field reconstructions do.
    `liver_darker_hu` makes a fatty liver (`render`). `slab` (a generator of its own and the ends) replaces the
    head-feet field by `slab_z_range`'s, padded as the core pads short series. `bowel` (a generator of its own)
    draws the bowel as loops (`render`)."""
    sk = anatomy.spacing[2]
    chest = rng.uniform(20, 120) if rng.random() < chest_probability else 0.0
    heart = dict(heart_centre=(-0.3, 0.4), pericardial_fat=True) if heart_beside_dome else {}
    completed = add_heart_and_lungs(Anatomy(anatomy.id, anatomy.labels.copy(), anatomy.spacing), rng, chest, **heart)
    tumour_hu = None
    if lesions is not None:
        lesion_rng, probability = lesions
        completed = Anatomy(completed.id, add_lesion_labels(completed.labels, lesion_rng, anatomy.spacing, LIVER, TUMOUR,
                                                            probability), completed.spacing)
        tumour_hu = lambda liver_hu: lesion_hu(lesion_rng, liver_hu)  # noqa: E731
    field_scale = None if field_mm is None else field_mm / (anatomy.labels.shape[2] * anatomy.spacing[0])
    labels = random_geometry(completed.labels, rng, field_scale=field_scale)
    liver = np.isin(labels, LIVER_CLASSES)
    low, high = random_z_range(liver, rng, sk)  # drawn even when a slab replaces it: the later draws stay the same
    if slab is not None:
        low, high = slab_z_range(liver, slab[0], sk, slab[1])
    labels = labels[low:high]
    labels = fill_body(labels, rng, anatomy.spacing)
    hu = render(labels, rng, anatomy.spacing, tumour_hu, liver_darker_hu, bowel)
    liver = np.isin(labels, LIVER_CLASSES)
    if slab is not None:
        hu, liver = pad_like_the_core(hu, liver, sk)
    return to_grid(hu, liver)


def real_variant(ct: np.ndarray, seg: np.ndarray, rng: np.random.Generator, spacing,
                 lesions: Optional[LesionDraw] = None) -> Tuple[np.ndarray, np.ndarray]:
    """totalseg-a's real CT with its pseudo-labels: joint elastic + in-plane affine deformation, a random
    cranio-caudal crop, intensity scale/shift of soft tissue, extra blur and noise; with `lesions`, synthetic
    lesions blended into its liver first (lesions.implant_lesions; the other draws unchanged)."""
    if lesions is not None:
        lesion_rng, probability = lesions
        ct, _ = implant_lesions(ct, seg == TOTALSEG_LIVER, lesion_rng, spacing, probability)
    shape = ct.shape
    displacement = [ndimage.gaussian_filter(rng.standard_normal(shape), 6) for _ in range(3)]
    displacement = [d / (np.abs(d).max() + 1e-6) * rng.uniform(0, 4) for d in displacement]
    grid = np.meshgrid(*[np.arange(n, dtype=np.float32) for n in shape], indexing="ij")
    coords = [g + d for g, d in zip(grid, displacement)]
    liver = ndimage.map_coordinates((seg == TOTALSEG_LIVER).astype(np.float32), coords, order=1) >= 0.5
    image = ndimage.map_coordinates(ct, coords, order=1, mode="nearest")
    seed = int(rng.integers(1 << 31))
    image = random_geometry(image, np.random.default_rng(seed), order=1, fill=-1000.0)
    liver = random_geometry(liver.astype(np.uint8), np.random.default_rng(seed), order=0, fill=0).astype(bool)
    low, high = random_z_range(liver, rng, spacing[2])
    image, liver = image[low:high], liver[low:high]
    return to_grid(jitter_intensities(image, rng), liver)


def jitter_intensities(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A real CT's augmentation: soft-tissue intensity scale/shift, extra blur and noise (float32 HU)."""
    soft = (image > -300) & (image < 400)
    image = np.where(soft, image * rng.uniform(0.85, 1.15) + rng.uniform(-25, 25), image).astype(np.float32)
    image = ndimage.gaussian_filter(image, rng.uniform(0, 0.8))
    image += rng.normal(0, rng.uniform(0, 15), image.shape).astype(np.float32)
    return image


def validation_case(ct_dir: Path) -> Tuple[np.ndarray, np.ndarray]:
    """ct/ircadb-17: the real CT and its manual liver mask (DICOM slices, 255 = liver) on the model grid."""
    from .image_io import load_dicom_series

    image = reorient_to_lps(load_dicom_series(ct_dir / "PATIENT_DICOM"))
    mask = reorient_to_lps(load_dicom_series(ct_dir / "MASKS_DICOM" / "liver"))
    if mask.voxels.shape != image.voxels.shape:
        raise DataError(f"{ct_dir}: mask grid {mask.voxels.shape} differs from the CT's {image.voxels.shape}.")
    return to_grid(image.voxels.astype(np.float32), mask.voxels > 0)


def load_anatomies(mask_dir: Path, cache: Path, ts_labels, ts_spacing):
    anatomies = []
    for zip_path in sorted(mask_dir.glob("3Dircadb1.*-MASKS_DICOM.zip")):
        if f"3Dircadb1.{VALIDATION_PATIENT}-" in zip_path.name:
            continue  # the validation patient: never a training anatomy
        cached = cache / f"{zip_path.stem}.npz"
        if cached.exists():
            stored = np.load(cached)
            anatomies.append(Anatomy(str(stored["id"]), stored["labels"], tuple(stored["spacing"])))
            continue
        anatomy = load_ircadb_anatomy(zip_path)
        transplant_totalseg(anatomy, ts_labels, ts_spacing)
        cache.mkdir(parents=True, exist_ok=True)
        np.savez_compressed(cached, id=anatomy.id, labels=anatomy.labels, spacing=np.array(anatomy.spacing))
        anatomies.append(anatomy)
        print(f"anatomy {anatomy.id}: {anatomy.labels.shape}", flush=True)
    return anatomies


def write_case(out: Path, case_id: str, hu: np.ndarray, mask: np.ndarray) -> None:
    out.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(out / f"{case_id}.npz", hu=hu, mask=mask)


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--out", type=Path, default=Path("var/datasets/synth-ct"))
    parser.add_argument("--variants", type=int, default=12, help="synthetic cases per anatomy")
    parser.add_argument("--real_variants", type=int, default=24, help="augmented copies of totalseg-a")
    parser.add_argument("--first_variant", type=int, default=0, help="append variants from this index on")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--chest_probability", type=float, default=0.4, help="share of cases with a chest slab")
    parser.add_argument("--heart_beside_dome", action="store_true",
                        help="heart low, beside the liver dome, with pericardial fat (as patient CT shows it)")
    parser.add_argument("--narrow_fields", type=float, nargs=2, metavar=("MIN_MM", "MAX_MM"),
                        help="every synthetic case's in-plane field (not the totalseg-a copies') drawn from "
                             "MIN_MM-MAX_MM (a generator of its own, so every other draw is as without it) instead "
                             "of the anatomy's field x 0.85-1.5")
    parser.add_argument("--fatty_liver", type=float, nargs=2, metavar=("MIN_HU", "MAX_HU"),
                        help="every synthetic case's liver parenchyma (not the totalseg-a copies') made MIN_HU-MAX_HU "
                             "darker than its contrast phase's draw (steatosis; a generator of its own, so every "
                             "other draw is as without it)")
    parser.add_argument("--slab_fields", nargs="?", const="both", choices=SLAB_ENDS,
                        help="every synthetic case's head-feet field (not the totalseg-a copies') a slab holding only "
                             "the liver's upper or lower 30-70 %% (both: either; upper, lower: that one), padded as "
                             "the core pads short series (a generator of its own, so every other draw is as without it)")
    parser.add_argument("--bowel_loops", action="store_true",
                        help="every synthetic case's bowel (not the totalseg-a copies') drawn as loops holding "
                             "fluid, faeces with gas, gas or oral contrast inside a thin enhancing wall, contents "
                             "away from the liver's intensity, instead of one tissue (a generator of its own, so "
                             "every other draw is as without it)")
    parser.add_argument("--lesion_probability", type=float, default=0.0,
                        help="share of cases given synthetic liver lesions (lesions.py; drawn from a generator of "
                             "their own, so every other draw is as without them)")
    args = parser.parse_args(argv)
    cases_dir = args.out / "cases"
    ts_dir = args.data / "ct" / "totalseg-a"
    ct, seg, ts_spacing = load_totalseg_reference(ts_dir / "example_ct.nii.gz", ts_dir / "example_seg_fast_force_split.nii.gz")
    anatomies = load_anatomies(args.data / "anatomy" / "ircadb-masks", Path("var/cache/synth-anatomy"), seg, ts_spacing)
    val_id = f"ircadb-{VALIDATION_PATIENT}"
    if not (cases_dir / f"{val_id}.npz").exists():
        write_case(cases_dir, val_id, *validation_case(args.data / "ct" / "ircadb-17"))
    started = time.time()
    for variant in range(args.first_variant, args.first_variant + args.variants):
        for index, anatomy in enumerate(anatomies):
            case_id = f"synth-{anatomy.id}-v{variant:03d}"
            if (cases_dir / f"{case_id}.npz").exists():
                continue
            rng = np.random.default_rng([args.seed, index, variant])
            hu, mask = synth_case(anatomy, rng, args.chest_probability, args.heart_beside_dome,
                                  lesion_draw(args, index, variant), narrow_field_draw(args, index, variant),
                                  fatty_liver_draw(args, index, variant), slab_draw(args, index, variant),
                                  bowel_draw(args, index, variant))
            if mask.sum() < 100:
                continue  # a crop that lost the liver
            write_case(cases_dir, case_id, hu, mask)
        write_split(args.out, val_id)
        print(f"variant {variant} done, {time.time() - started:.0f} s", flush=True)
    for variant in range(args.real_variants):
        case_id = f"totalseg-a-v{variant:03d}"
        if not (cases_dir / f"{case_id}.npz").exists():
            write_case(cases_dir, case_id, *real_variant(ct, seg, np.random.default_rng([args.seed, 999, variant]), ts_spacing,
                                                         lesion_draw(args, 999, variant)))
    write_split(args.out, val_id)


def lesion_draw(args: argparse.Namespace, index: int, variant: int) -> Optional[LesionDraw]:
    if args.lesion_probability <= 0:
        return None
    return np.random.default_rng([args.seed, index, variant, LESION_STREAM]), args.lesion_probability


def uniform_draw(bounds: Optional[Sequence[float]], seed: int, index: int, variant: int, stream: int) -> Optional[float]:
    """A value in `bounds` (None when the option is off) from the case's generator for `stream`, apart from its
    other draws."""
    if bounds is None:
        return None
    low, high = bounds
    return float(np.random.default_rng([seed, index, variant, stream]).uniform(low, high))


def narrow_field_draw(args: argparse.Namespace, index: int, variant: int) -> Optional[float]:
    return uniform_draw(args.narrow_fields, args.seed, index, variant, FIELD_STREAM)


def fatty_liver_draw(args: argparse.Namespace, index: int, variant: int) -> float:
    return uniform_draw(args.fatty_liver, args.seed, index, variant, FATTY_STREAM) or 0.0


def slab_draw(args: argparse.Namespace, index: int, variant: int) -> Optional[SlabDraw]:
    if args.slab_fields is None:
        return None
    return np.random.default_rng([args.seed, index, variant, SLAB_STREAM]), args.slab_fields


def bowel_draw(args: argparse.Namespace, index: int, variant: int) -> Optional[np.random.Generator]:
    return np.random.default_rng([args.seed, index, variant, BOWEL_STREAM]) if args.bowel_loops else None


def write_split(out: Path, val_id: str) -> Dict:
    ids = sorted(p.stem for p in (out / "cases").glob("*.npz"))
    train = [i for i in ids if i != val_id]
    split = {"layout": "grid-npz", "root": str(out), "train": train, "val": [val_id], "test": [val_id],
             "notes": "val = test = ircadb-17 (the one real CT with a manual liver label; its patient's masks are "
                      "excluded from the anatomies). totalseg-a is in train (augmented copies), so not held out."}
    check_disjoint(split)
    (out / "split.json").write_text(json.dumps(split, indent=1) + "\n")
    return split


def patient_of(case_id: str) -> str:
    """The patient a case was made from: synth-ircadb-10-v003 -> ircadb-10, totalseg-a-v001 -> totalseg-a."""
    return case_id.replace("synth-", "").split("-v")[0]


def check_disjoint(split: Dict) -> None:
    """No case and no patient shared between training and validation/test."""
    held = {patient_of(i) for i in split["val"] + split["test"]}
    shared = sorted(i for i in split["train"] if patient_of(i) in held)
    if shared:
        raise DataError(f"Split shares patients between train and val/test: {shared[:5]}.")


if __name__ == "__main__":
    main()
