#!/usr/bin/python3
"""Independent check of a DICOM SEG with pydicom and numpy only (none of the project's TypeScript).

  check_seg.py mask --seg SEG --ct-dir DIR --mask MASK.u8 --geometry MASK.json [--pgm-dir DIR]
      Every frame of SEG is placed by its own ImagePositionPatient/ImageOrientationPatient/PixelSpacing
      into the grid described by MASK.json (dimensions, origin, spacing, direction in LPS; voxel
      (i, j, k) at byte i + j*nx + k*nx*ny of MASK.u8) and must equal the mask there; together the
      frames must rebuild the whole mask. Each frame must reference, by SOPInstanceUID and SOP class,
      the CT file in DIR that lies at the frame position. With --pgm-dir, DCMTK's dcm2pnm rendering of
      each frame (DIR/f.<n>.pgm) must show the same pixels as pydicom's decoding.

  check_seg.py mask --seg SEG --ct-dir DIR --nifti MASK.nii.gz
      The same, with the mask read by nibabel from a NIfTI file (its RAS affine turned into LPS here).

  check_seg.py compare --seg SEG --reference REF
      Both SEGs must hold the same non-empty frames: same positions, orientation, spacing, referenced
      source images and pixels (empty frames are left out on both sides: we omit them, dcmqi may not).

Prints one JSON object {"ok": bool, "errors": [...], ...} and exits 0 (1 when not ok).
Run with Debian's /usr/bin/python3 (pydicom 2.3, numpy).
"""
import argparse
import json
import os
import sys

import numpy as np
import pydicom

TOLERANCE_VOXELS = 0.05


def frame_geometry(ds, index):
    """IPP, IOP and PixelSpacing of frame `index`, per-frame groups first, then shared ones."""
    per_frame = ds.PerFrameFunctionalGroupsSequence[index]
    shared = ds.SharedFunctionalGroupsSequence[0] if "SharedFunctionalGroupsSequence" in ds else None

    def group(name):
        if name in per_frame:
            return getattr(per_frame, name)[0]
        if shared is not None and name in shared:
            return getattr(shared, name)[0]
        return None

    position = np.array([float(v) for v in group("PlanePositionSequence").ImagePositionPatient])
    orientation = np.array([float(v) for v in group("PlaneOrientationSequence").ImageOrientationPatient])
    spacing = np.array([float(v) for v in group("PixelMeasuresSequence").PixelSpacing])
    segment = int(group("SegmentIdentificationSequence").ReferencedSegmentNumber)
    source = None
    derivation = group("DerivationImageSequence")
    if derivation is not None:
        item = derivation.SourceImageSequence[0]
        frame = int(item.ReferencedFrameNumber) if "ReferencedFrameNumber" in item else None
        source = (str(item.ReferencedSOPClassUID), str(item.ReferencedSOPInstanceUID), frame)
    return position, orientation, spacing, segment, source


def seg_frames(ds):
    """pydicom's own decoding: (frames, rows, columns)."""
    pixels = ds.pixel_array
    if int(ds.get("NumberOfFrames", 1)) == 1:
        pixels = pixels[np.newaxis]
    return pixels


def check_against_mask(args):
    errors = []
    seg = pydicom.dcmread(args.seg)
    mask, origin, axes = load_nifti_mask(args.nifti) if args.nifti else load_raw_mask(args.mask, args.geometry)
    nz, ny, nx = mask.shape
    world_to_index = np.linalg.inv(axes)

    ct_by_position = ct_images(args.ct_dir)

    for keyword, expected in (("SOPClassUID", "1.2.840.10008.5.1.4.1.1.66.4"), ("Modality", "SEG"),
                              ("SegmentationType", "BINARY"), ("BitsAllocated", 1)):
        if seg.get(keyword) != expected:
            errors.append(f"{keyword} is {seg.get(keyword)!r}, expected {expected!r}")
    if seg.file_meta.TransferSyntaxUID != "1.2.840.10008.1.2.1":
        errors.append(f"transfer syntax {seg.file_meta.TransferSyntaxUID}, expected Explicit VR Little Endian")

    errors.extend(check_identity(seg, args.ct_dir))
    frames = seg_frames(seg)
    rows, columns = int(seg.Rows), int(seg.Columns)
    rebuilt = np.zeros_like(mask)
    for index in range(frames.shape[0]):
        position, orientation, spacing, segment, source = frame_geometry(seg, index)
        if segment != 1:
            errors.append(f"frame {index + 1}: segment {segment}, expected 1")
        # World position of every pixel centre: IPP + c * dc * row_dir + r * dr * col_dir.
        r, c = np.meshgrid(np.arange(rows), np.arange(columns), indexing="ij")
        world = (position[:, None, None] + orientation[:3, None, None] * (c * spacing[1])[None]
                 + orientation[3:, None, None] * (r * spacing[0])[None])
        continuous = np.tensordot(world_to_index, world - origin[:, None, None], axes=1)
        voxel = np.rint(continuous).astype(int)
        if np.abs(continuous - voxel).max() > TOLERANCE_VOXELS:
            errors.append(f"frame {index + 1}: pixels fall between voxel centres of the mask grid")
            continue
        inside = all((voxel[a] >= 0).all() and (voxel[a] < (nx, ny, nz)[a]).all() for a in range(3))
        if not inside:
            errors.append(f"frame {index + 1}: lies outside the mask grid")
            continue
        expected = mask[voxel[2], voxel[1], voxel[0]]
        got = frames[index].astype(np.uint8)
        if not np.array_equal(got != 0, expected != 0):
            errors.append(f"frame {index + 1}: {int(np.sum((got != 0) != (expected != 0)))} pixels differ from the mask")
        if not got.any():
            errors.append(f"frame {index + 1}: empty frame written")
        rebuilt[voxel[2], voxel[1], voxel[0]] |= (got != 0)
        # The referenced source image must be the CT file at this frame's position.
        at_position = [ct for ct in ct_by_position if np.linalg.norm(ct[0] - position) < 1e-3]
        if len(at_position) != 1:
            errors.append(f"frame {index + 1}: {len(at_position)} CT files at position {position.tolist()}")
        elif source != tuple(at_position[0][1:]):
            errors.append(f"frame {index + 1}: references {source}, the CT file at its position is {at_position[0][1:]}")

    if not np.array_equal(rebuilt != 0, mask != 0):
        errors.append(f"the frames rebuild {int(rebuilt.sum())} voxels; the mask has {int((mask != 0).sum())}")

    if args.pgm_dir:
        for index in range(frames.shape[0]):
            path = os.path.join(args.pgm_dir, f"f.{index}.pgm")
            if not os.path.exists(path):
                errors.append(f"DCMTK rendered no image for frame {index + 1}")
                continue
            dcmtk = read_pgm(path)
            if dcmtk.shape != frames[index].shape or not np.array_equal(dcmtk != 0, frames[index] != 0):
                errors.append(f"frame {index + 1}: DCMTK and pydicom decode different pixels")

    return {"ok": not errors, "errors": errors, "frames": int(frames.shape[0]), "voxels": int((mask != 0).sum())}


def check_identity(seg, ct_dir):
    """The segment and provenance the issue asks for, and the link to the source study."""
    errors = []
    ct = pydicom.dcmread(os.path.join(ct_dir, sorted(os.listdir(ct_dir))[0]), stop_before_pixels=True)
    for keyword in ("StudyInstanceUID", "FrameOfReferenceUID", "PatientID"):
        if seg.get(keyword) != ct.get(keyword):
            errors.append(f"{keyword} {seg.get(keyword)!r} differs from the CT's {ct.get(keyword)!r}")
    if seg.SeriesInstanceUID == ct.SeriesInstanceUID:
        errors.append("the SEG reuses the CT's SeriesInstanceUID")
    for keyword in ("Manufacturer", "ManufacturerModelName", "SoftwareVersions", "DeviceSerialNumber", "SeriesDescription"):
        if not seg.get(keyword):
            errors.append(f"{keyword} is missing")
    if seg.get("ContentQualification") not in ("RESEARCH", "PRODUCT"):
        errors.append(f"ContentQualification is {seg.get('ContentQualification')!r}")
    segments = seg.SegmentSequence
    if len(segments) != 1:
        errors.append(f"{len(segments)} segments, expected 1")
    segment = segments[0]
    category = segment.SegmentedPropertyCategoryCodeSequence[0]
    kind = segment.SegmentedPropertyTypeCodeSequence[0]
    if (category.CodeValue, category.CodingSchemeDesignator) != ("123037004", "SCT"):
        errors.append(f"segment category {category.CodeValue} {category.CodingSchemeDesignator}")
    if (kind.CodeValue, kind.CodingSchemeDesignator) != ("10200004", "SCT"):
        errors.append(f"segment type {kind.CodeValue} {kind.CodingSchemeDesignator}")
    if segment.SegmentAlgorithmType not in ("AUTOMATIC", "SEMIAUTOMATIC"):
        errors.append(f"SegmentAlgorithmType {segment.SegmentAlgorithmType}")
    algorithm = segment.SegmentationAlgorithmIdentificationSequence[0] if "SegmentationAlgorithmIdentificationSequence" in segment else None
    if not segment.get("SegmentAlgorithmName") or algorithm is None or not algorithm.get("AlgorithmName") or not algorithm.get("AlgorithmVersion"):
        errors.append("the algorithm is not identified (name, version)")
    if len(segment.get("RecommendedDisplayCIELabValue", [])) != 3:
        errors.append("no RecommendedDisplayCIELabValue")
    return errors


def ct_images(folder):
    """(position, SOP class, SOP instance, frame number or None) of every CT image plane in `folder`."""
    images = []
    for name in sorted(os.listdir(folder)):
        ct = pydicom.dcmread(os.path.join(folder, name), stop_before_pixels=True)
        if "PerFrameFunctionalGroupsSequence" in ct:
            shared = ct.SharedFunctionalGroupsSequence[0] if "SharedFunctionalGroupsSequence" in ct else {}
            for index, frame in enumerate(ct.PerFrameFunctionalGroupsSequence):
                plane = frame.PlanePositionSequence[0] if "PlanePositionSequence" in frame else shared.PlanePositionSequence[0]
                position = np.array([float(v) for v in plane.ImagePositionPatient])
                images.append((position, str(ct.SOPClassUID), str(ct.SOPInstanceUID), index + 1))
        else:
            position = np.array([float(v) for v in ct.ImagePositionPatient])
            images.append((position, str(ct.SOPClassUID), str(ct.SOPInstanceUID), None))
    return images


def load_raw_mask(mask_path, geometry_path):
    """Raw bytes (i fastest) + {dimensions, origin, spacing, direction} in LPS -> mask[k, j, i], origin, axes."""
    with open(geometry_path) as handle:
        geometry = json.load(handle)
    nx, ny, nz = geometry["dimensions"]
    mask = np.fromfile(mask_path, dtype=np.uint8).reshape(nz, ny, nx)
    origin = np.array(geometry["origin"], dtype=float)
    # Columns of `axes` are the index axes in world space (direction times spacing).
    axes = np.stack([np.array(d, dtype=float) * s for d, s in zip(geometry["direction"], geometry["spacing"])], axis=1)
    return mask, origin, axes


def load_nifti_mask(path):
    """A NIfTI mask (nibabel, RAS world) -> mask[k, j, i], LPS origin and index axes."""
    import nibabel

    image = nibabel.load(path)
    affine = image.affine
    ras_to_lps = np.diag([-1.0, -1.0, 1.0])
    data = np.asarray(image.dataobj)
    mask = np.ascontiguousarray(np.transpose(data != 0, (2, 1, 0))).astype(np.uint8)
    return mask, ras_to_lps @ affine[:3, 3], ras_to_lps @ affine[:3, :3]


def check_compare(args):
    errors = []
    ours = pydicom.dcmread(args.seg)
    reference = pydicom.dcmread(args.reference)
    if (ours.Rows, ours.Columns) != (reference.Rows, reference.Columns):
        errors.append(f"matrix {ours.Columns}x{ours.Rows} against {reference.Columns}x{reference.Rows}")
        return {"ok": False, "errors": errors}

    def by_position(ds):
        frames = seg_frames(ds)
        table = {}
        for index in range(frames.shape[0]):
            if not frames[index].any():
                continue
            position, orientation, spacing, _segment, source = frame_geometry(ds, index)
            table[tuple(np.round(position, 3))] = (orientation, spacing, source, frames[index] != 0)
        return table

    a, b = by_position(ours), by_position(reference)
    if sorted(a) != sorted(b):
        errors.append(f"frame positions differ: {sorted(a)} against {sorted(b)}")
    for key in sorted(set(a) & set(b)):
        oa, sa, ra, pa = a[key]
        ob, sb, rb, pb = b[key]
        if not np.allclose(oa, ob, atol=1e-4) or not np.allclose(sa, sb, atol=1e-4):
            errors.append(f"frame at {key}: orientation or spacing differ")
        if ra[1] != rb[1]:
            errors.append(f"frame at {key}: references {ra[1]}, the reference SEG {rb[1]}")
        if not np.array_equal(pa, pb):
            errors.append(f"frame at {key}: {int(np.sum(pa != pb))} pixels differ")
    return {"ok": not errors, "errors": errors, "frames": len(a), "referenceFrames": len(b)}


def read_pgm(path):
    """Binary PGM (P5) as written by dcm2pnm: header, then 8- or 16-bit samples."""
    with open(path, "rb") as handle:
        data = handle.read()
    fields, offset = [], 0
    while len(fields) < 4:
        while data[offset:offset + 1].isspace():
            offset += 1
        if data[offset:offset + 1] == b"#":
            offset = data.index(b"\n", offset) + 1
            continue
        end = offset
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[offset:end])
        offset = end
    offset += 1
    width, height, maximum = int(fields[1]), int(fields[2]), int(fields[3])
    dtype = np.uint8 if maximum < 256 else np.dtype(">u2")
    return np.frombuffer(data[offset:], dtype=dtype, count=width * height).reshape(height, width)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="mode", required=True)
    mask = sub.add_parser("mask")
    mask.add_argument("--seg", required=True)
    mask.add_argument("--ct-dir", required=True)
    mask.add_argument("--mask")
    mask.add_argument("--geometry")
    mask.add_argument("--nifti")
    mask.add_argument("--pgm-dir")
    compare = sub.add_parser("compare")
    compare.add_argument("--seg", required=True)
    compare.add_argument("--reference", required=True)
    args = parser.parse_args()
    if args.mode == "mask" and not args.nifti and not (args.mask and args.geometry):
        parser.error("mask mode needs --nifti, or --mask and --geometry")
    try:
        report = check_against_mask(args) if args.mode == "mask" else check_compare(args)
    except Exception as error:  # report, do not hide: the test prints it
        report = {"ok": False, "errors": [f"{type(error).__name__}: {error}"]}
    print(json.dumps(report))
    sys.exit(0 if report["ok"] else 1)


if __name__ == "__main__":
    main()
