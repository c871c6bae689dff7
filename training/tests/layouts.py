"""Small generated datasets in each public layout (a few KB each), for the reader tests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Tuple

import nibabel as nib
import numpy as np

SHAPE_IJK = (20, 18, 10)  # nx, ny, nz
AFFINE_RAS = np.array([[-1.5, 0, 0, 30.0], [0, -1.5, 0, 20.0], [0, 0, 3.0, -40.0], [0, 0, 0, 1]])  # an LPS-stored file


def phantom(seed: int = 0, shape_ijk=SHAPE_IJK) -> Tuple[np.ndarray, np.ndarray]:
    """(hu, labels) indexed [i, j, k] as nibabel stores them: an ellipsoid 'liver' (1) with a 'tumour' (2)."""
    rng = np.random.default_rng(seed)
    nx, ny, nz = shape_ijk
    i, j, k = np.meshgrid(np.arange(nx), np.arange(ny), np.arange(nz), indexing="ij")
    centre = np.array([nx * 0.4, ny * 0.5, nz * 0.5]) + rng.uniform(-1, 1, 3)
    radius = np.array([nx * 0.3, ny * 0.3, nz * 0.35])
    inside = ((i - centre[0]) / radius[0]) ** 2 + ((j - centre[1]) / radius[1]) ** 2 + ((k - centre[2]) / radius[2]) ** 2 <= 1
    tumour = ((i - centre[0]) ** 2 + (j - centre[1]) ** 2 + (k - centre[2]) ** 2) <= 4
    labels = np.where(inside, np.where(tumour, 2, 1), 0).astype(np.uint8)
    hu = np.where(inside, 60, -80) + np.where(tumour, -30, 0) + rng.normal(0, 10, inside.shape)
    return hu.astype(np.int16), labels


def save_nifti(path: Path, data: np.ndarray, affine=AFFINE_RAS) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data, affine), str(path))
    return path


def make_msd(root: Path, n: int = 3) -> Path:
    for index in range(n):
        hu, labels = phantom(index)
        save_nifti(root / "imagesTr" / f"liver_{index}.nii.gz", hu)
        save_nifti(root / "labelsTr" / f"liver_{index}.nii.gz", labels)
    (root / "imagesTr" / "._liver_0.nii.gz").write_bytes(b"resource fork")
    (root / "dataset.json").write_text(json.dumps({"name": "Liver", "labels": {"0": "background", "1": "liver", "2": "cancer"}}))
    return root


def make_lits(root: Path, n: int = 2) -> Path:
    for index in range(n):
        hu, labels = phantom(index)
        save_nifti(root / "batch1" / f"volume-{index}.nii", hu)
        save_nifti(root / "batch1" / f"segmentation-{index}.nii", labels)
    return root


def make_ct_org(root: Path, n: int = 2) -> Path:
    for index in range(n):
        hu, labels = phantom(index)
        organs = np.where(labels > 0, 1, 0).astype(np.uint8)
        organs[:3] = np.where(organs[:3] == 0, 5, organs[:3])  # a 'bone' label beside the liver
        save_nifti(root / f"volume-{index}.nii.gz", hu)
        save_nifti(root / f"labels-{index}.nii.gz", organs)
    return root


def make_totalseg(root: Path, n: int = 2) -> Path:
    for index in range(n):
        hu, labels = phantom(index)
        save_nifti(root / f"s{index:04d}" / "ct.nii.gz", hu)
        save_nifti(root / f"s{index:04d}" / "segmentations" / "liver.nii.gz", (labels > 0).astype(np.uint8))
    return root


def make_chaos_ct(root: Path, n: int = 1) -> Path:
    """CHAOS CT: DICOM_anon/*.dcm (one file per slice) + Ground/*.png (one mask per slice)."""
    from PIL import Image

    for index in range(n):
        hu, labels = phantom(index)
        case = root / "Train_Sets" / "CT" / str(index + 1)
        write_dicom_series(case / "DICOM_anon", hu)
        (case / "Ground").mkdir(parents=True, exist_ok=True)
        for k in range(hu.shape[2]):
            # PNG rows are j, columns i, like a DICOM slice.
            Image.fromarray(((labels[:, :, k] > 0) * 255).astype(np.uint8).T).save(case / "Ground" / f"liver_GT_{k:03d}.png")
    return root


def write_dicom_series(folder: Path, hu_ijk: np.ndarray, spacing=(1.5, 1.5, 3.0), origin=(-30.0, -20.0, -40.0)) -> Path:
    """Axial CT slices (LPS, head-first supine) with pydicom; int16 stored with slope 1, intercept -1024."""
    import pydicom
    from pydicom.dataset import FileDataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    folder.mkdir(parents=True, exist_ok=True)
    series, study, frame = generate_uid(), generate_uid(), generate_uid()
    nx, ny, nz = hu_ijk.shape
    for k in range(nz):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.2"
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = FileDataset(str(folder / f"{k:03d}.dcm"), {}, file_meta=meta, preamble=b"\0" * 128)
        ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.FrameOfReferenceUID = "CT", study, series, frame
        ds.InstanceNumber = nz - k  # reversed numbering: the reader must sort by position, not number
        ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
        ds.ImagePositionPatient = [origin[0], origin[1], origin[2] + k * spacing[2]]
        ds.PixelSpacing = [spacing[1], spacing[0]]
        ds.SliceThickness = spacing[2]
        ds.Rows, ds.Columns = ny, nx
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
        ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
        ds.PixelData = (hu_ijk[:, :, k].T.astype(np.int32) + 1024).astype(np.int16).tobytes()
        ds.is_little_endian, ds.is_implicit_VR = True, False
        pydicom.dcmwrite(str(folder / f"{k:03d}.dcm"), ds, write_like_original=False)
    return folder


def make_pairs(root: Path, liver_label: int = 5) -> Path:
    hu, labels = phantom(7)
    multilabel = np.where(labels > 0, liver_label, 0).astype(np.uint8)
    save_nifti(root / "img" / "a.nii.gz", hu)
    save_nifti(root / "lab" / "a.nii.gz", multilabel)
    listing = {"liverLabels": [liver_label], "cases": [{"id": "a", "image": "img/a.nii.gz", "label": "lab/a.nii.gz"}]}
    (root / "pairs.json").write_text(json.dumps(listing))
    return root / "pairs.json"
