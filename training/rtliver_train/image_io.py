"""Reading images and label maps into LPS `Volume`s: NIfTI (nibabel), DICOM series and DICOM SEG (pydicom),
PNG mask stacks (CHAOS). Every failure is a DataError that names the file."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable, List, Optional, Sequence

import numpy as np

from .errors import DataError
from .volume import Volume

RAS_TO_LPS = np.diag([-1.0, -1.0, 1.0])
SCT_LIVER = "10200004"


def volume_from_affine(data_ijk: np.ndarray, affine_ras: np.ndarray) -> Volume:
    """nibabel array indexed [i, j, k] + RAS affine -> Volume with (nz, ny, nx) voxels and LPS geometry."""
    matrix = RAS_TO_LPS @ np.asarray(affine_ras, float)[:3, :3]
    spacing = np.linalg.norm(matrix, axis=0)
    if np.any(spacing <= 0):
        raise ValueError("affine has a zero-length axis")
    direction = tuple(tuple(float(c) for c in matrix[:, a] / spacing[a]) for a in range(3))
    origin = tuple(float(c) for c in RAS_TO_LPS @ np.asarray(affine_ras, float)[:3, 3])
    voxels = np.ascontiguousarray(np.asarray(data_ijk).transpose(2, 1, 0))
    return Volume(voxels, tuple(float(s) for s in spacing), origin, direction)  # type: ignore[arg-type]


def load_nifti(path: Path, dtype=None) -> Volume:
    """A 3-D NIfTI (scaling applied) as an LPS Volume. A 4-D file with one volume is accepted."""
    import nibabel as nib

    path = Path(path)
    if not path.is_file():
        raise DataError(f"{path} does not exist.", "Check the dataset layout and paths.")
    try:
        image = nib.load(str(path))
        data = np.asanyarray(image.dataobj)
    except Exception as error:
        raise DataError(f"{path} could not be read as NIfTI: {error}.") from error
    if data.ndim == 4 and data.shape[3] == 1:
        data = data[..., 0]
    if data.ndim != 3:
        raise DataError(f"{path} has {data.ndim} dimensions {data.shape}; a 3-D volume is expected.")
    if dtype is not None:
        data = data.astype(dtype)
    return volume_from_affine(data, image.affine)


def load_image(path: Path) -> Volume:
    """A DICOM series folder or a NIfTI file."""
    return load_dicom_series(path) if Path(path).is_dir() else load_nifti(path)


def _dicom_files(folder: Path) -> List[Path]:
    return sorted(p for p in Path(folder).rglob("*") if p.is_file() and not p.name.startswith("."))


def load_dicom_series(folder: Path) -> Volume:
    """One CT series from a folder of DICOM files, in HU (slope/intercept applied), slices sorted along their
    normal. Several series in one folder are refused, naming the folder."""
    import pydicom

    folder = Path(folder)
    datasets = []
    for path in _dicom_files(folder):
        try:
            dataset = pydicom.dcmread(str(path))
        except Exception:
            continue  # not DICOM (e.g. a README); files that are DICOM but broken fail below
        if "PixelData" in dataset and "ImagePositionPatient" in dataset:
            datasets.append(dataset)
    if not datasets:
        raise DataError(f"{folder} holds no DICOM images.", "Point to the folder of one CT series.")
    series = {d.SeriesInstanceUID for d in datasets}
    if len(series) > 1:
        raise DataError(f"{folder} holds {len(series)} series.", "Give one folder per series.")
    orientation = np.asarray(datasets[0].ImageOrientationPatient, float)
    row, column = orientation[:3], orientation[3:]
    normal = np.cross(row, column)
    datasets.sort(key=lambda d: float(np.dot(normal, np.asarray(d.ImagePositionPatient, float))))
    positions = np.array([np.asarray(d.ImagePositionPatient, float) for d in datasets])
    slices = [d.pixel_array.astype(np.float32) * float(getattr(d, "RescaleSlope", 1)) + float(getattr(d, "RescaleIntercept", 0))
              for d in datasets]
    if len({s.shape for s in slices}) != 1:
        raise DataError(f"{folder}: slices have different sizes.")
    if len(datasets) > 1:
        steps = np.diff(positions, axis=0)
        step = np.median(np.linalg.norm(steps, axis=1))
        k_direction = (positions[-1] - positions[0]) / np.linalg.norm(positions[-1] - positions[0])
    else:
        step = float(getattr(datasets[0], "SliceThickness", 1.0) or 1.0)
        k_direction = normal
    row_spacing, column_spacing = (float(v) for v in datasets[0].PixelSpacing)
    voxels = np.stack(slices).astype(np.int16 if all(np.all(np.mod(s, 1) == 0) for s in slices[:1]) else np.float32)
    return Volume(voxels, (column_spacing, row_spacing, float(step)), tuple(float(v) for v in positions[0]),
                  (tuple(row), tuple(column), tuple(float(c) for c in k_direction)))  # type: ignore[arg-type]


def load_png_mask_stack(folder: Path, like: Volume) -> np.ndarray:
    """CHAOS-style masks: one 8-bit PNG per slice, sorted by file name, slice n matching the n-th slice of the
    series as sorted along its normal (`like`). Non-zero = liver (CHAOS CT masks hold only the liver)."""
    from PIL import Image

    folder = Path(folder)
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() == ".png")
    nz, ny, nx = like.voxels.shape
    if len(files) != nz:
        raise DataError(f"{folder} has {len(files)} PNG masks but the CT series has {nz} slices.",
                        "Each slice needs exactly one mask.")
    masks = []
    for path in files:
        mask = np.asarray(Image.open(path).convert("L"))
        if mask.shape != (ny, nx):
            raise DataError(f"{path} is {mask.shape[1]}x{mask.shape[0]}, the CT slices are {nx}x{ny}.")
        masks.append(mask > 0)
    return np.stack(masks).astype(np.uint8)


def load_dicom_seg_mask(path: Path, like: Volume, segment: Optional[int] = None) -> np.ndarray:
    """A BINARY DICOM SEG resampled to nothing: each frame is placed on the slice of `like` at its
    ImagePositionPatient. The liver segment is `segment`, else the one coded SCT 10200004 or labelled 'liver'."""
    import pydicom

    path = Path(path)
    try:
        dataset = pydicom.dcmread(str(path))
    except Exception as error:
        raise DataError(f"{path} could not be read as DICOM: {error}.") from error
    if getattr(dataset, "SOPClassUID", "") != "1.2.840.10008.5.1.4.1.1.66.4":
        raise DataError(f"{path} is not a DICOM Segmentation.")
    if segment is None:
        for item in dataset.SegmentSequence:
            codes = [c.CodeValue for c in getattr(item, "SegmentedPropertyTypeCodeSequence", [])]
            if SCT_LIVER in codes or "liver" in str(getattr(item, "SegmentLabel", "")).lower():
                segment = int(item.SegmentNumber)
                break
    if segment is None:
        raise DataError(f"{path} has no liver segment (SCT {SCT_LIVER} or label 'liver').",
                        "Name the segment number in the pairs list ('segment').")
    frames = dataset.pixel_array.reshape(-1, dataset.Rows, dataset.Columns)
    nz, ny, nx = like.voxels.shape
    if (dataset.Rows, dataset.Columns) != (ny, nx):
        raise DataError(f"{path} frames are {dataset.Columns}x{dataset.Rows}, the image is {nx}x{ny}.")
    mask = np.zeros((nz, ny, nx), np.uint8)
    inverse = np.linalg.inv(like.index_to_world_matrix())
    for frame, group in zip(frames, dataset.PerFrameFunctionalGroupsSequence):
        number = int(group.SegmentIdentificationSequence[0].ReferencedSegmentNumber)
        if number != segment:
            continue
        position = np.asarray(group.PlanePositionSequence[0].ImagePositionPatient, float)
        index = inverse @ (position - np.asarray(like.origin))
        k = int(round(index[2]))
        if not 0 <= k < nz or abs(index[2] - k) > 0.1:
            raise DataError(f"{path}: a frame at {position.tolist()} lies on no image slice.")
        mask[k] |= (frame > 0).astype(np.uint8)
    return mask


def liver_mask(labels: np.ndarray, liver_values: Iterable[int]) -> np.ndarray:
    return np.isin(labels, list(liver_values)).astype(np.uint8)


def check_same_grid(image: Volume, label: Volume, label_path: Path, tolerance_mm: float = 1e-2) -> None:
    """A label map must share its image's grid: same dimensions, and voxel-to-world mappings within 0.01 mm."""
    if image.voxels.shape != label.voxels.shape:
        raise DataError(f"{label_path} has dimensions {list(label.dimensions)} but its image has "
                        f"{list(image.dimensions)}.", "The label map must be on the image's grid.")
    corners = [(0, 0, 0), tuple(d - 1 for d in image.dimensions)]
    for corner in corners + [(image.dimensions[0] - 1, 0, 0), (0, image.dimensions[1] - 1, 0)]:
        if np.linalg.norm(image.index_to_world(corner) - label.index_to_world(corner)) > tolerance_mm:
            raise DataError(f"{label_path} has an affine (position/orientation/spacing) that differs from its image's.",
                            "Resample the label map onto the image grid, or fix its header.")


def require_liver(mask: np.ndarray, label_path: Path, liver_values: Sequence[int]) -> None:
    if not mask.any():
        raise DataError(f"{label_path} contains no liver voxels (label value(s) {list(liver_values)}).",
                        "Check the dataset layout's liver label, or set 'liverLabels' in the pairs list.")
