"""Dataset layouts users have, split files, and cases prepared on the model grid.

Layouts (`--layout`):
  msd        Medical Segmentation Decathlon Task03_Liver: imagesTr/liver_N.nii.gz + labelsTr/liver_N.nii.gz;
             1 liver, 2 tumour -> both liver.
  lits       LiTS: volume-N.nii + segmentation-N.nii (any folder depth); 1 liver, 2 tumour -> both liver.
  totalseg   TotalSegmentator: <subject>/ct.nii.gz + <subject>/segmentations/liver.nii.gz (binary).
  chaos-ct   CHAOS CT: <id>/DICOM_anon/*.dcm + <id>/Ground/*.png (one mask per slice, non-zero = liver).
  ct-org     CT-ORG: volume-N.nii.gz + labels-N.nii.gz; liver = 1.
  pairs      a JSON list: {"liverLabels": [1], "cases": [{"id", "image", "label", "liverLabels"?, "segment"?}]};
             image = NIfTI file or DICOM series folder, label = NIfTI or DICOM SEG file; relative paths are
             resolved against the list's folder.
  grid-npz   cases already on the model grid (written by `python -m rtliver_train.synth`): <root>/cases/<id>.npz
             holding hu (HU, LPS, model grid) and mask (liver); the HU window is applied when read.
  npz        cases of any layout packed on their own grid by `python -m rtliver_train.pack`: <root>/cases/<id>.npz
             holding image, mask (LPS), spacing, origin and direction. Read with numpy alone, for machines that
             have no NIfTI or DICOM reader; scored on that grid exactly as the source layout would be.

Splits are files (JSON: {"train": [ids], "val": [ids], "test": [ids]}), written once by
`python -m rtliver_train.split` and named in the run configuration, never seeds hidden in code.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import re
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

from .errors import DataError
from .image_io import (check_same_grid, liver_mask, load_dicom_seg_mask, load_image, load_nifti,
                       load_png_mask_stack, require_liver)
from .preprocess import HU_WINDOW, MODEL_SHAPE, apply_hu_window, labels_to_grid, reorient_to_lps, resample_half_pixel
from .volume import Volume

LAYOUTS = ("msd", "lits", "totalseg", "chaos-ct", "ct-org", "pairs", "grid-npz", "npz")


@dataclass(frozen=True)
class CaseRef:
    """Where one case's image and label live and how to read them."""

    id: str
    image: Path
    label: Path
    label_format: str = "nifti"  # nifti | png-stack | dicom-seg
    liver_values: Tuple[int, ...] = (1,)
    segment: Optional[int] = None


def _number(path: Path) -> int:
    digits = re.findall(r"\d+", path.name)
    return int(digits[-1]) if digits else -1


def _nifti_stem(path: Path) -> str:
    return re.sub(r"\.nii(\.gz)?$", "", path.name)


def discover(layout: str, root: Path, liver_labels: Optional[Sequence[int]] = None) -> List[CaseRef]:
    """All cases of a dataset, sorted by id. An empty result is an error naming the folder."""
    root = Path(root)
    if layout not in LAYOUTS:
        raise DataError(f"Unknown dataset layout '{layout}'.", f"Use one of: {', '.join(LAYOUTS)}.")
    if not root.exists():
        raise DataError(f"Dataset {root} does not exist.", "Check --data-root (or 'data.root' in the config).")
    cases: List[CaseRef] = []
    if layout == "msd":
        values = tuple(liver_labels or (1, 2))
        for image in sorted((root / "imagesTr").glob("*.nii*")):
            if image.name.startswith("._"):
                continue  # macOS resource forks shipped inside the official tarball
            cases.append(CaseRef(_nifti_stem(image), image, root / "labelsTr" / image.name, liver_values=values))
    elif layout == "lits":
        values = tuple(liver_labels or (1, 2))
        for image in sorted(root.rglob("volume-*.nii*"), key=_number):
            label = image.with_name(image.name.replace("volume-", "segmentation-"))
            cases.append(CaseRef(f"lits-{_number(image)}", image, label, liver_values=values))
    elif layout == "ct-org":
        values = tuple(liver_labels or (1,))
        for image in sorted(root.rglob("volume-*.nii*"), key=_number):
            label = image.with_name(image.name.replace("volume-", "labels-"))
            cases.append(CaseRef(f"ct-org-{_number(image)}", image, label, liver_values=values))
    elif layout == "totalseg":
        for ct in sorted(root.glob("*/ct.nii*")):
            label = next(iter(sorted((ct.parent / "segmentations").glob("liver.nii*"))),
                         ct.parent / "segmentations" / "liver.nii.gz")
            cases.append(CaseRef(ct.parent.name, ct, label, liver_values=tuple(liver_labels or (1,))))
    elif layout == "chaos-ct":
        for dicom in sorted(root.rglob("DICOM_anon")):
            if dicom.is_dir():
                cases.append(CaseRef(f"chaos-{dicom.parent.name}", dicom, dicom.parent / "Ground", "png-stack"))
    elif layout == "pairs":
        cases = _pairs(root, liver_labels)
    elif layout in ("grid-npz", "npz"):
        for path in sorted((root / "cases").glob("*.npz")):
            cases.append(CaseRef(path.stem, path, path, layout))
    if not cases:
        raise DataError(f"No cases found in {root} for layout '{layout}'.",
                        "Check the layout name and the folder (see training/README.md for each layout).")
    return sorted(cases, key=lambda c: c.id)


def _pairs(list_file: Path, liver_labels: Optional[Sequence[int]]) -> List[CaseRef]:
    if list_file.is_dir():
        list_file = list_file / "pairs.json"
    try:
        listing = json.loads(list_file.read_text())
    except (OSError, ValueError) as error:
        raise DataError(f"Pairs list {list_file} could not be read: {error}.") from error
    default_values = tuple(liver_labels or listing.get("liverLabels", [1]))
    cases = []
    for index, entry in enumerate(listing.get("cases", [])):
        image, label = (list_file.parent / entry["image"]), (list_file.parent / entry["label"])
        label_format = "dicom-seg" if label.suffix.lower() == ".dcm" or label.is_dir() else "nifti"
        cases.append(CaseRef(str(entry.get("id", f"case-{index}")), image, label, label_format,
                             tuple(entry.get("liverLabels", default_values)), entry.get("segment")))
    return cases


def load_case(case: CaseRef) -> Tuple[Volume, np.ndarray]:
    """Image (HU) and binary liver mask on the image's grid, both LPS-reoriented; checked for grid match and
    a non-empty liver. A grid-npz case has no physical grid of its own (it was made on the model grid): it
    comes back on that grid with a nominal 1 mm spacing, so its HD95 is in grid voxels."""
    if case.label_format == "grid-npz":
        stored = np.load(case.image)
        mask = stored["mask"].astype(bool)
        require_liver(mask, case.image, (1,))
        return Volume(stored["hu"].astype(np.float32), spacing=(1.0, 1.0, 1.0), origin=(0.0, 0.0, 0.0),
                      direction=((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))), mask
    if case.label_format == "npz":
        return load_packed_case(case.image)
    image = load_image(case.image)
    if not case.label.exists():
        raise DataError(f"Label {case.label} for case {case.id} does not exist.", "Each image needs its label map.")
    if case.label_format == "png-stack":
        mask = load_png_mask_stack(case.label, image)
    elif case.label_format == "dicom-seg":
        mask = load_dicom_seg_mask(case.label, image, case.segment)
    else:
        labels = load_nifti(case.label)
        check_same_grid(image, labels, case.label)
        mask = liver_mask(np.rint(labels.voxels).astype(np.int32), case.liver_values)
    require_liver(mask, case.label, case.liver_values)
    image_lps = reorient_to_lps(image)
    mask_lps = reorient_to_lps(image.with_voxels(mask)).voxels
    return image_lps, mask_lps


PACKED_KEYS = ("image", "mask", "spacing", "origin", "direction")


def load_packed_case(path: Path) -> Tuple[Volume, np.ndarray]:
    """A case written by rtliver_train.pack: its LPS image and liver mask on their own grid."""
    try:
        stored = np.load(path)
        missing = [key for key in PACKED_KEYS if key not in stored]
    except (OSError, ValueError, zipfile.BadZipFile) as error:
        raise DataError(f"{path} could not be read as a packed case: {error}.", "Pack the dataset again (python -m rtliver_train.pack).") from error
    if missing:
        raise DataError(f"{path} lacks {', '.join(missing)}: it is not a packed case.",
                        "Pack the dataset with python -m rtliver_train.pack (a model-grid case is layout grid-npz).")
    image = Volume(stored["image"].astype(np.float32), spacing=tuple(float(v) for v in stored["spacing"]),
                   origin=tuple(float(v) for v in stored["origin"]),
                   direction=tuple(tuple(float(v) for v in row) for row in stored["direction"]))
    mask = stored["mask"].astype(bool)
    if mask.shape != image.voxels.shape:
        raise DataError(f"{path} holds an image of {image.voxels.shape} and a mask of {mask.shape}.", "Pack the dataset again.")
    require_liver(mask, path, (1,))
    return image, mask


@dataclass
class PreparedCase:
    id: str
    image: np.ndarray  # (D, H, W) float32 in [-1, 1], model grid
    mask: np.ndarray  # (D, H, W) uint8
    source: Optional[Tuple[Volume, np.ndarray]] = field(default=None, repr=False)  # LPS image + mask, for evaluation
    labelled: bool = True  # False: an unlabelled real CT (unlabeled.py), whose only target is the teacher's output


def prepare_case(case: CaseRef, shape: Sequence[int] = MODEL_SHAPE, hu_window: Sequence[float] = HU_WINDOW,
                 keep_source: bool = False) -> PreparedCase:
    if case.label_format == "grid-npz":
        return _prepare_grid_case(case, shape, hu_window)
    image, mask = load_case(case)
    x = apply_hu_window(resample_half_pixel(image.voxels.astype(np.float32), shape), hu_window)
    y = labels_to_grid(mask, shape)
    return PreparedCase(case.id, x, y, (image, mask) if keep_source else None)


def _prepare_grid_case(case: CaseRef, shape: Sequence[int], hu_window: Sequence[float]) -> PreparedCase:
    stored = np.load(case.image)
    hu, mask = stored["hu"].astype(np.float32), stored["mask"].astype(np.uint8)
    if mask.shape != hu.shape:
        raise DataError(f"{case.image} holds an image of {hu.shape} and a mask of {mask.shape}.",
                        "Regenerate the cases (python -m rtliver_train.synth).")
    require_liver(mask.astype(bool), case.image, (1,))
    if tuple(hu.shape) != tuple(shape):  # a run on another grid (e.g. a coarse CPU ablation): the contract's resampling
        hu, mask = resample_half_pixel(hu, shape), labels_to_grid(mask, shape)
    return PreparedCase(case.id, apply_hu_window(hu, hu_window), mask)


def prepare_cases(cases: Sequence[CaseRef], shape: Sequence[int] = MODEL_SHAPE,
                  hu_window: Sequence[float] = HU_WINDOW, cache_dir: Optional[Path] = None) -> List[PreparedCase]:
    """Prepare every case, caching model-grid arrays under cache_dir (keyed by paths, sizes, times, grid)."""
    prepared = []
    for case in cases:
        cache_file = None
        if cache_dir is not None:
            key = json.dumps([str(case.image), str(case.label), _stat(case.image), _stat(case.label),
                              list(shape), list(hu_window), list(case.liver_values)])
            cache_file = Path(cache_dir) / f"{case.id}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
            if cache_file.exists():
                stored = np.load(cache_file)
                prepared.append(PreparedCase(case.id, stored["image"], stored["mask"]))
                continue
        item = prepare_case(case, shape, hu_window)
        if cache_file is not None:  # atomic: concurrent runs may share the cache
            cache_file.parent.mkdir(parents=True, exist_ok=True)
            temporary = cache_file.with_name(f"{cache_file.stem}.{os.getpid()}.tmp.npz")
            np.savez(temporary, image=item.image, mask=item.mask)
            os.replace(temporary, cache_file)
        prepared.append(item)
    return prepared


def _stat(path: Path) -> List[float]:
    stat = path.stat()
    return [stat.st_size, stat.st_mtime]


# ---- split files -----------------------------------------------------------------------------------------
def write_split(cases: Sequence[CaseRef], out: Path, val: float, test: float, seed: int, meta: Dict) -> Dict:
    ids = [c.id for c in cases]
    random.Random(seed).shuffle(ids)
    n_test, n_val = int(round(test * len(ids))), int(round(val * len(ids)))
    split = {**meta, "seed": seed, "test": sorted(ids[:n_test]), "val": sorted(ids[n_test:n_test + n_val]),
             "train": sorted(ids[n_test + n_val:])}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(split, indent=1) + "\n")
    return split


def select_split(cases: Sequence[CaseRef], split_file: Path, part: str) -> List[CaseRef]:
    """The cases of one part ('train', 'val', 'test') of a split file; an empty part or an unknown id is an
    error naming the split file."""
    try:
        split = json.loads(Path(split_file).read_text())
    except (OSError, ValueError) as error:
        raise DataError(f"Split file {split_file} could not be read: {error}.",
                        "Write one with python -m rtliver_train.split.") from error
    ids = split.get(part, [])
    if not ids:
        raise DataError(f"Split file {split_file} has no cases in '{part}'.", "Write a split with cases in every part.")
    by_id = {c.id: c for c in cases}
    missing = [i for i in ids if i not in by_id]
    if missing:
        raise DataError(f"Split file {split_file} names cases that are not in the dataset: {missing[:5]}.",
                        "Use the split written for this dataset.")
    return [by_id[i] for i in ids]


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description="Write a split file (train/val/test ids) for a dataset.")
    parser.add_argument("--layout", choices=LAYOUTS, required=True)
    parser.add_argument("--root", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--val", type=float, default=0.2)
    parser.add_argument("--test", type=float, default=0.2)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    cases = discover(args.layout, args.root)
    split = write_split(cases, args.out, args.val, args.test, args.seed,
                        {"layout": args.layout, "root": str(args.root)})
    print(f"{args.out}: train {len(split['train'])}, val {len(split['val'])}, test {len(split['test'])}")


if __name__ == "__main__":
    main()
