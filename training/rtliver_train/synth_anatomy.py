"""Real anatomies as label maps for synthesis: 3D-IRCADb-01 organ masks, completed with the organs they lack.

Most 3D-IRCADb-01 patients have only liver, vessels, tumours, bone and skin delineated. A network trained on
those alone never sees the organs it confuses with the liver on patient CT (heart, stomach, spleen, kidneys,
bowel). So each anatomy is completed:

1. the patient's own masks (liver with its tumours, cysts and vessels; bone; body; and, where delineated,
   spleen, stomach, kidneys, lungs, pancreas, gallbladder);
2. the organs of the one real CT with a full label map (`ct/totalseg-a`, TotalSegmentator labels, v2 ids),
   aligned by an axis-wise affine (in-plane: the body's bounding box; cranio-caudal: the liver's), filling
   only voxels the patient's own masks leave unlabelled;
3. a heart above the liver dome and lungs around it (totalseg-a's field of view ends at the dome, and most
   3D-IRCADb-01 series too), and optionally a chest slab above the series' first slice, so that "bright organ
   above the diaphragm" is something the network learns not to call liver.

Everything is on a working grid in LPS index order (k, j, i) with the in-plane 512 matrix pooled to 128, which
is the model grid's in-plane size (models/README.md), so the pre-processing changes nothing in-plane.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, Optional, Tuple

import numpy as np
from scipy import ndimage

from .errors import DataError

# Synthesis classes (rendered with their own intensities; only LIVER is the target).
AIR, BODY, LIVER, TUMOUR, VESSEL, BONE, GALLBLADDER, KIDNEY, SPLEEN, STOMACH, LUNG, PANCREAS, HEART, BOWEL, \
    MUSCLE, FAT, BLADDER, SOFT, LIVER_VESSEL = range(19)
CLASS_NAMES = ["air", "body", "liver", "tumour", "vessel", "bone", "gallbladder", "kidney", "spleen", "stomach",
               "lung", "pancreas", "heart", "bowel", "muscle", "fat", "bladder", "soft", "liver-vessel"]
LIVER_CLASSES = (LIVER, TUMOUR, LIVER_VESSEL)  # the target liver = parenchyma + its tumours + its vessels

VALIDATION_PATIENT = "17"  # ct/ircadb-17: the one real CT with a manual liver label; never in training
IN_PLANE = 128

# 3D-IRCADb-01 structure folder names -> class (regexes; first match wins; order matters).
IRCADB_STRUCTURES = [
    (r"^liver(tumou?rs?\d*|cyst|kyste)?\d*$", None),  # liver and its lesions: handled specially
    (r"^metastasectomie$", TUMOUR),
    (r"^(portalvein\d*|venacava|venoussystem|artery|biliarysystem)$", VESSEL),
    (r"^bone$", BONE),
    (r"^skin$", BODY),
    (r"^gallbladder$", GALLBLADDER),
    (r"^(left|right)?kidneys?$", KIDNEY),
    (r"^spleen$", SPLEEN),
    (r"^stomach$", STOMACH),
    (r"^(left|right)?lungs?$", LUNG),
    (r"^pancreas$", PANCREAS),
    (r"^(left|right)surrenal", SOFT),
]

# TotalSegmentator v2 class ids (what totalseg-a's label map uses; liver = 5) -> synthesis class.
TOTALSEG_TO_CLASS: Dict[int, int] = {
    1: SPLEEN, 2: KIDNEY, 3: KIDNEY, 4: GALLBLADDER, 6: STOMACH, 7: PANCREAS, 8: SOFT, 9: SOFT,
    10: LUNG, 11: LUNG, 12: LUNG, 13: LUNG, 14: LUNG, 15: BOWEL, 18: BOWEL, 19: BOWEL, 20: BOWEL,
    21: BLADDER, 22: SOFT, 51: HEART, 52: VESSEL, 53: VESSEL, 61: HEART, 62: VESSEL, 63: VESSEL, 64: VESSEL,
    65: VESSEL, 66: VESSEL, 67: VESSEL, 68: VESSEL, 79: SOFT,
    **{i: BONE for i in list(range(25, 51)) + list(range(69, 79)) + list(range(91, 118))},
    **{i: MUSCLE for i in range(80, 90)},
}
TOTALSEG_LIVER = 5


@dataclass
class Anatomy:
    id: str
    labels: np.ndarray  # (nz, 128, 128) uint8 synthesis classes, LPS index order
    spacing: Tuple[float, float, float]  # (i, j, k) mm


def _read_slices(archive: zipfile.ZipFile, folder: str):
    import pydicom

    slices = []
    for name in archive.namelist():
        if name.startswith(folder) and not name.endswith("/"):
            ds = pydicom.dcmread(io.BytesIO(archive.read(name)))
            slices.append((float(ds.ImagePositionPatient[2]), ds))
    slices.sort(key=lambda s: s[0])
    return slices


def _pool(mask: np.ndarray, factor: int) -> np.ndarray:
    """(nz, n, n) binary -> (nz, n/f, n/f) by the mean of each f x f block, >= 0.5."""
    nz, ny, nx = mask.shape
    blocks = mask.reshape(nz, ny // factor, factor, nx // factor, factor).astype(np.float32)
    return blocks.mean(axis=(2, 4)) >= 0.5


def load_ircadb_anatomy(zip_path: Path) -> Anatomy:
    """One patient's MASKS_DICOM.zip -> an Anatomy (patient's own structures only)."""
    match = re.search(r"3Dircadb1\.(\d+)", zip_path.name)
    if not match:
        raise DataError(f"{zip_path} is not a 3D-IRCADb-01 MASKS_DICOM archive.")
    patient = match.group(1)
    if patient == VALIDATION_PATIENT:
        raise DataError(f"{zip_path} is patient {VALIDATION_PATIENT}, the validation case (ct/ircadb-17).",
                        "Never train on the validation patient's masks.")
    with zipfile.ZipFile(zip_path) as archive:
        folders = sorted({m.group(1) for n in archive.namelist() if (m := re.match(r"MASKS_DICOM/([^/]+)/.+", n))})
        labels = None
        liver = lesions = None
        first = None
        for folder in folders:
            key = folder.lower()
            target = "skip"
            for pattern, cls in IRCADB_STRUCTURES:
                if re.match(pattern, key):
                    target = cls
                    break
            if target == "skip":
                continue
            slices = _read_slices(archive, f"MASKS_DICOM/{folder}/")
            volume = np.stack([s.pixel_array > 0 for _, s in slices])  # 0/255 in most archives, 0/1 in some
            if first is None:
                first = slices
                factor = volume.shape[1] // IN_PLANE
                labels = np.zeros((volume.shape[0], IN_PLANE, IN_PLANE), np.uint8)
            pooled = _pool(volume, factor)
            if target is None:
                if key == "liver":
                    liver = pooled
                else:
                    lesions = pooled if lesions is None else (lesions | pooled)
            else:
                if target == BODY:
                    pooled = ndimage.binary_fill_holes(pooled, structure=np.ones((1, 3, 3)))
                    labels[pooled & (labels == AIR)] = BODY
                else:
                    labels[pooled] = target
    if liver is None or labels is None:
        raise DataError(f"{zip_path} has no liver mask.")
    body = labels > AIR
    vessels_in_liver = (labels == VESSEL) & liver
    labels[liver & ~vessels_in_liver] = LIVER
    labels[vessels_in_liver] = LIVER_VESSEL
    if lesions is not None:
        labels[lesions & liver] = TUMOUR
    labels[(labels == AIR) & ndimage.binary_fill_holes(body | liver, structure=np.ones((1, 3, 3)))] = BODY
    ds = first[0][1]
    pixel = [float(v) * factor for v in ds.PixelSpacing]  # (row spacing = j, column spacing = i)
    zs = np.array([z for z, _ in first])
    dz = float(np.median(np.diff(zs))) if len(zs) > 1 else float(ds.SliceThickness)
    return Anatomy(f"ircadb-{patient}", labels, (pixel[1], pixel[0], abs(dz)))


def _bbox(mask: np.ndarray) -> np.ndarray:
    """[[k0, k1], [j0, j1], [i0, i1]] of a non-empty mask (inclusive)."""
    where = [np.nonzero(mask.any(axis=tuple(a for a in range(3) if a != axis)))[0] for axis in range(3)]
    return np.array([[w[0], w[-1]] for w in where], float)


def load_totalseg_reference(ct_path: Path, seg_path: Path):
    """totalseg-a's HU volume and label map, both LPS (k, j, i), and the spacing (i, j, k)."""
    from .image_io import load_nifti
    from .preprocess import reorient_to_lps

    ct = reorient_to_lps(load_nifti(ct_path))
    seg = reorient_to_lps(load_nifti(seg_path))
    return ct.voxels.astype(np.float32), np.rint(seg.voxels).astype(np.int32), ct.spacing


def transplant_totalseg(anatomy: Anatomy, ts_labels: np.ndarray, ts_spacing) -> None:
    """Fill the anatomy's unlabelled body voxels with totalseg-a's organs, aligned per axis: in-plane by the
    body's bounding box, cranio-caudally by the liver's (both in mm)."""
    labels = anatomy.labels
    ts_body_plane = (ts_labels > 0).any(axis=0)
    ts_body = np.broadcast_to(ts_body_plane, ts_labels.shape)
    ours_bbox = _bbox(labels > AIR)
    ts_bbox = _bbox(ts_body)
    ours_liver = _bbox(np.isin(labels, LIVER_CLASSES))
    ts_liver = _bbox(ts_labels == TOTALSEG_LIVER)
    sources = []
    for axis in range(3):  # numpy axis 0 = k, 1 = j, 2 = i
        a, b = (ours_liver[axis], ts_liver[axis]) if axis == 0 else (ours_bbox[axis], ts_bbox[axis])
        scale = (b[1] - b[0]) / max(1.0, a[1] - a[0])
        index = np.rint(b[0] + (np.arange(labels.shape[axis]) - a[0]) * scale).astype(int)
        sources.append(index)
    valid = [(s >= 0) & (s < n) for s, n in zip(sources, ts_labels.shape)]
    clipped = [np.clip(s, 0, n - 1) for s, n in zip(sources, ts_labels.shape)]
    moved = ts_labels[np.ix_(*clipped)]
    moved[~(valid[0][:, None, None] & valid[1][None, :, None] & valid[2][None, None, :])] = 0
    lut = np.zeros(max(256, int(ts_labels.max()) + 1), np.uint8)
    for ts_id, cls in TOTALSEG_TO_CLASS.items():
        lut[ts_id] = cls
    mapped = lut[moved]
    # the patient's own structures win; bones and lungs only where the patient's body is
    fill = (labels == BODY) & (mapped > 0)
    labels[fill] = mapped[fill]


def add_heart_and_lungs(anatomy: Anatomy, rng: np.random.Generator, chest_mm: float,
                        heart_centre=(0.2, 0.7), pericardial_fat: bool = False) -> Anatomy:
    """A heart on the diaphragm above the liver dome (left of the midline, anterior), lungs around it above the
    diaphragm, and `chest_mm` of chest above the series' first slice (the body outline of the top slice).

    The heart's centre lies `heart_centre` (a range, in units of its cranio-caudal semi-axis) above the liver's
    top; low values put it beside the dome, over the left lobe, where patient CT shows it. With
    `pericardial_fat`, a 2-6 mm fat rim surrounds it and, half the time, a one-voxel diaphragm (muscle)
    separates it from the liver."""
    labels = anatomy.labels
    si, sj, sk = anatomy.spacing
    extra = int(round(chest_mm / sk))
    if extra > 0:
        top = labels[-1]
        slab = np.where(top > AIR, BODY, AIR).astype(np.uint8)
        slab[top == BONE] = BONE
        labels = np.concatenate([labels, np.repeat(slab[None], extra, axis=0)], axis=0)
    nz = labels.shape[0]
    liver = np.isin(labels, LIVER_CLASSES)
    body = labels > AIR
    liver_box = _bbox(liver)
    body_box = _bbox(body)
    k_top = liver_box[0, 1]
    # heart: ellipsoid, semi-axes about 55 x 45 x 45 mm, centre left of the body's midline and anterior
    semi = np.array([rng.uniform(35, 55), rng.uniform(40, 55), rng.uniform(50, 70)])  # (k, j, i) mm
    centre_i = (body_box[2, 0] + body_box[2, 1]) / 2 + rng.uniform(5, 35) / si
    centre_j = body_box[1, 0] + (body_box[1, 1] - body_box[1, 0]) * rng.uniform(0.3, 0.45)
    centre_k = k_top + rng.uniform(*heart_centre) * semi[0] / sk
    kk, jj, ii = np.ogrid[:nz, :labels.shape[1], :labels.shape[2]]
    r2 = (((kk - centre_k) * sk / semi[0]) ** 2 + ((jj - centre_j) * sj / semi[1]) ** 2
          + ((ii - centre_i) * si / semi[2]) ** 2)
    heart = (r2 <= 1) & (labels == BODY)
    labels[heart] = HEART
    if pericardial_fat:
        rim = ndimage.binary_dilation(heart, iterations=max(1, int(round(rng.uniform(2, 6) / si)))) & ~heart
        labels[rim & (labels == BODY)] = FAT
        if rng.random() < 0.5:
            diaphragm = heart & ndimage.binary_dilation(liver, structure=np.ones((3, 3, 3)))
            labels[diaphragm] = MUSCLE
    # diaphragm height per column: the highest abdominal organ voxel, smoothed; lungs above it
    abdominal = np.isin(labels, LIVER_CLASSES + (SPLEEN, STOMACH, HEART))
    has = abdominal.any(axis=0)
    height = np.where(has, nz - 1 - np.argmax(abdominal[::-1], axis=0), k_top - 15 / sk).astype(np.float32)
    height = ndimage.grey_dilation(height, size=(5, 5))
    height = ndimage.gaussian_filter(height, 3)
    wall = ndimage.distance_transform_edt(body, sampling=(sk, sj, si)) > rng.uniform(15, 30)
    mid_i = (body_box[2, 0] + body_box[2, 1]) / 2
    posterior = body_box[1, 0] + 0.6 * (body_box[1, 1] - body_box[1, 0])
    spine = (np.abs(ii - mid_i) * si < 30) & (jj > posterior)
    lung = (labels == BODY) & wall & ~spine & (kk > height[None] + 2)
    labels[lung] = LUNG
    return Anatomy(anatomy.id, labels, anatomy.spacing)
