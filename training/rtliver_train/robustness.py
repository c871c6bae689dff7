"""How the shipped model holds up when the same patient is scanned differently: the one real CT with a manual
liver mask (ct/ircadb-17) re-made as other scanners, protocols and fields of view would have made it, each run
through `rt-liver segment` as a user would and scored against the manual mask carried through the same change.

    python -m rtliver_train.robustness [--model student-30k] [--models-dir models] [--tag T] [--out var/robustness]
    python -m rtliver_train.robustness --table TAG [TAG ...]      # Dice / volume error side by side
    python -m rtliver_train.robustness --single-pass ...          # rt-liver segment --single-pass (long series)
    python -m rtliver_train.robustness --whole-field ...          # rt-liver segment --whole-field (wide fields)
    python -m rtliver_train.robustness --unpadded ...             # rt-liver segment --unpadded (short series)

Patient CT at other sites differs from ircadb-17 (1.6 mm slices, 512 matrix, 190 mm cranio-caudal field of view,
portal venous phase) in slice thickness, matrix, noise, reconstruction kernel and how much of the body is in
the series. Each variant below changes one of those, as a scanner would (thick slices are averages of thin ones,
as a scanner's thicker reconstruction is; a cropped field of view is a crop; noise is added in HU), never using the
label to make the image, except where the change is to the liver itself (implanted lesions, a fatty liver). The
reference mask is transformed alongside (averaged and thresholded at 0.5 for thicker slices or a coarser matrix;
cropped with the image). ircadb-17's anatomy is never in training (its masks are
refused as a synthetic anatomy), but it chose the shipped checkpoints, so these are stress tests of one patient,
not a held-out test set: they show where the model breaks, not how good it is on average.

A field of view longer than any labelled CT here has is made by stitching another patient's CT under ircadb-17
(`CONSTRUCTED`: a construct with a seam, named as such in every table).

Writes `<out>/<tag>/<variant>.png` (axial, coronal, sagittal; mask red, manual outline green), the variant's CT and
reference as NIfTI (var/ only: the data's license forbids committing them) and `<out>/<tag>/summary.json`.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
from scipy import ndimage

from .image_io import load_nifti
from .lesions import implant
from .metrics import dice_score, hd95
from .overlays import REPO_ROOT, load_lps, overlay_png, run_cli
from .preprocess import reorient_to_lps
from .volume import Volume

Case = Tuple[Volume, np.ndarray]  # CT in HU (LPS) and its reference liver mask on the same grid
Variant = Callable[[Volume, np.ndarray, np.random.Generator], Case]


def save_nifti(volume: Volume, path: Path, dtype=np.int16) -> None:
    """An LPS Volume as NIfTI (RAS affine), the inverse of image_io.volume_from_affine."""
    import nibabel as nib

    matrix = np.diag([-1.0, -1.0, 1.0]) @ volume.index_to_world_matrix()
    affine = np.eye(4)
    affine[:3, :3] = matrix
    affine[:3, 3] = np.diag([-1.0, -1.0, 1.0]) @ np.asarray(volume.origin, float)
    data = np.ascontiguousarray(volume.voxels.transpose(2, 1, 0)).astype(dtype)
    path.parent.mkdir(parents=True, exist_ok=True)
    nib.save(nib.Nifti1Image(data, affine), str(path))


def _average_blocks(values: np.ndarray, factors: Tuple[int, int, int]) -> np.ndarray:
    """Mean over non-overlapping blocks of (fz, fy, fx) voxels; a remainder at the end of an axis is dropped."""
    fz, fy, fx = factors
    nz, ny, nx = (n - n % f for n, f in zip(values.shape, factors))
    blocks = values[:nz, :ny, :nx].astype(np.float32).reshape(nz // fz, fz, ny // fy, fy, nx // fx, fx)
    return blocks.mean(axis=(1, 3, 5))


def coarser_grid(factors_zyx: Tuple[int, int, int]) -> Variant:
    """Thicker slices or a coarser matrix: each new voxel is the mean of a block of old ones (a scanner's
    thicker reconstruction averages the same photons), the reference the block's majority."""
    def make(ct: Volume, reference: np.ndarray, rng: np.random.Generator) -> Case:
        fz, fy, fx = factors_zyx
        hu = np.rint(_average_blocks(ct.voxels, factors_zyx)).astype(np.int16)
        mask = _average_blocks(reference, factors_zyx) >= 0.5
        spacing = (ct.spacing[0] * fx, ct.spacing[1] * fy, ct.spacing[2] * fz)
        # the new voxel (0, 0, 0) is the centre of the old block's first voxels
        origin = tuple(float(v) for v in ct.index_to_world(((fx - 1) / 2, (fy - 1) / 2, (fz - 1) / 2)))
        return Volume(hu, spacing, origin, ct.direction), mask  # type: ignore[arg-type]
    return make


def _crop(ct: Volume, reference: np.ndarray, z: slice, y: slice = slice(None), x: slice = slice(None)) -> Case:
    start = [s.start or 0 for s in (x, y, z)]
    origin = tuple(float(v) for v in ct.index_to_world(start))
    return replace(ct, voxels=np.ascontiguousarray(ct.voxels[z, y, x]), origin=origin), reference[z, y, x]


def _liver_rows(reference: np.ndarray) -> Tuple[int, int]:
    rows = np.nonzero(reference.any(axis=(1, 2)))[0]
    return int(rows[0]), int(rows[-1])


def cranio_caudal_field(position: str) -> Variant:
    """A series that covers part of the abdomen (k increases towards the head in LPS order):
    'middle' the liver's middle 60 % (dome and tip cut off: a slab); 'upper' from 20 mm above the dome to the
    liver's middle (the lower liver cut off); 'lower' from the liver's middle to 30 mm below its tip (the dome
    cut off). (ircadb-17's own series already ends a few mm beyond the liver, a liver protocol.)"""
    def make(ct: Volume, reference: np.ndarray, rng: np.random.Generator) -> Case:
        low, high = _liver_rows(reference)
        middle = (low + high) // 2
        margin = lambda mm: int(round(mm / ct.spacing[2]))  # noqa: E731
        fifth = (high - low) // 5
        ranges = {"middle": (low + fifth, high + 1 - fifth), "upper": (middle, high + 1 + margin(20)),
                  "lower": (low - margin(30), middle + 1)}
        start, stop = ranges[position]
        return _crop(ct, reference, slice(max(0, start), min(ct.voxels.shape[0], stop)))
    return make


def in_plane_field(width_mm: float) -> Variant:
    """A smaller reconstruction field of view, centred on the image (large patients' sides cut off)."""
    def make(ct: Volume, reference: np.ndarray, rng: np.random.Generator) -> Case:
        _, ny, nx = ct.voxels.shape
        wy, wx = (min(n, int(round(width_mm / s))) for n, s in ((ny, ct.spacing[1]), (nx, ct.spacing[0])))
        y0, x0 = (ny - wy) // 2, (nx - wx) // 2
        return _crop(ct, reference, slice(None), slice(y0, y0 + wy), slice(x0, x0 + wx))
    return make


def wider_field(width_mm: float) -> Variant:
    """A larger reconstruction field of view, centred: the same pixels with air (-1000 HU) around them, as a
    scanner reconstructing a wider field at the same pixel size would show."""
    def make(ct: Volume, reference: np.ndarray, rng: np.random.Generator) -> Case:
        _, ny, nx = ct.voxels.shape
        wy, wx = (max(n, int(round(width_mm / s))) for n, s in ((ny, ct.spacing[1]), (nx, ct.spacing[0])))
        y0, x0 = (wy - ny) // 2, (wx - nx) // 2
        pad = ((0, 0), (y0, wy - ny - y0), (x0, wx - nx - x0))
        hu = np.pad(ct.voxels, pad, constant_values=-1000)
        origin = tuple(float(v) for v in ct.index_to_world((-x0, -y0, 0)))
        return Volume(hu, ct.spacing, origin, ct.direction), np.pad(reference, pad)  # type: ignore[arg-type]
    return make


def added_noise(sigma_hu: float) -> Variant:
    """Lower dose: quantum noise of about `sigma_hu` HU with a little in-plane correlation (as a filtered
    back-projection gives), added inside the body only (air outside stays air)."""
    def make(ct: Volume, reference: np.ndarray, rng: np.random.Generator) -> Case:
        noise = ndimage.gaussian_filter(rng.standard_normal(ct.voxels.shape).astype(np.float32), (0, 0.7, 0.7))
        noise *= sigma_hu / max(float(noise.std()), 1e-6)
        body = ct.voxels > -500
        hu = ct.voxels.astype(np.float32) + noise * body
        return ct.with_voxels(np.rint(hu).astype(np.int16)), reference
    return make


def smoother_kernel(sigma_mm: float) -> Variant:
    """A softer reconstruction kernel: in-plane Gaussian blur of `sigma_mm`."""
    def make(ct: Volume, reference: np.ndarray, rng: np.random.Generator) -> Case:
        sigma = (0, sigma_mm / ct.spacing[1], sigma_mm / ct.spacing[0])
        hu = ndimage.gaussian_filter(ct.voxels.astype(np.float32), sigma)
        return ct.with_voxels(np.rint(hu).astype(np.int16)), reference
    return make


def unchanged(ct: Volume, reference: np.ndarray, rng: np.random.Generator) -> Case:
    return ct, reference


def _body_centre_mm(voxels: np.ndarray, spacing) -> np.ndarray:
    """In-plane (row, column) centre of the body (voxels above -500 HU) in mm from voxel (0, 0)."""
    rows, columns = np.nonzero((voxels > -500).any(axis=0))
    return np.array([rows.mean() * spacing[1], columns.mean() * spacing[0]])


def stacked_below(ct: Volume, reference: np.ndarray, lower: Volume) -> Case:
    """`lower` (another axial series, LPS, its slices all below that patient's liver) resampled linearly onto
    `ct`'s pixels and slice spacing, bodies centred on each other, and put under `ct`'s first slice: a longer
    series whose added slices hold no liver (the reference gets zeros there)."""
    sk = ct.spacing[2]
    n_added = int(round(lower.voxels.shape[0] * lower.spacing[2] / sk))
    _, ny, nx = ct.voxels.shape
    shift = _body_centre_mm(lower.voxels, lower.spacing) - _body_centre_mm(ct.voxels, ct.spacing)
    z = np.minimum(np.arange(n_added) * sk / lower.spacing[2], lower.voxels.shape[0] - 1)  # no air after the last slice
    y = (np.arange(ny) * ct.spacing[1] + shift[0]) / lower.spacing[1]
    x = (np.arange(nx) * ct.spacing[0] + shift[1]) / lower.spacing[0]
    grid = np.meshgrid(z, y, x, indexing="ij")
    added = ndimage.map_coordinates(lower.voxels.astype(np.float32), grid, order=1, cval=-1000.0)
    hu = np.concatenate([np.rint(added).astype(np.int16), ct.voxels.astype(np.int16)])
    mask = np.concatenate([np.zeros(added.shape, bool), reference])
    origin = tuple(float(v) for v in ct.index_to_world((0, 0, -n_added)))
    return Volume(hu, ct.spacing, origin, ct.direction), mask  # type: ignore[arg-type]


def totalseg_pelvis(data: Path) -> Volume:
    """totalseg-a's slices from its pelvis up to 12 mm below its liver (TotalSegmentator's liver label, 5)."""
    ct = load_lps(data / "ct/totalseg-a/example_ct.nii.gz")
    labels = load_lps(data / "ct/totalseg-a/example_seg_fast_force_split.nii.gz").voxels
    lowest_liver = int(np.nonzero((labels == 5).any(axis=(1, 2)))[0][0])
    stop = lowest_liver - int(np.ceil(12.0 / ct.spacing[2]))
    return replace(ct, voxels=np.ascontiguousarray(ct.voxels[:stop]))


def abdomen_pelvis_field(ct: Volume, reference: np.ndarray, data: Path) -> Case:
    return stacked_below(ct, reference, totalseg_pelvis(data))


# Lesions implanted for an evaluation: the reference (liver with its lesions, as LiTS and 3D-IRCADb label it) is
# unchanged, and the lesions' own mask says how much of them the model keeps (LESION_MASKS, by variant name).
LESION_MASKS: Dict[str, np.ndarray] = {}


def implanted_lesions(name: str, count: int, below_liver_hu: Tuple[float, float],
                      radius_mm: Tuple[float, float] = (5.0, 45.0)) -> Variant:
    """`count` lesions of `radius_mm` (half of them reaching the capsule) blended into the liver, each
    `below_liver_hu` darker than the liver's median (hypodense metastases in the portal venous phase)."""
    def make(ct: Volume, reference: np.ndarray, rng: np.random.Generator) -> Case:
        intensity = lambda r, liver_hu: liver_hu - r.uniform(*below_liver_hu)  # noqa: E731
        hu, lesions = implant(ct.voxels, reference, rng, ct.spacing, count, intensity, radius_mm)
        LESION_MASKS[name] = lesions
        return ct.with_voxels(np.rint(hu).astype(np.int16)), reference
    return make


def fatty_liver(darker_hu: float) -> Variant:
    """Steatosis: the liver's parenchyma `darker_hu` darker, as fat in the hepatocytes makes it (common after
    chemotherapy, so in patients planned for liver surgery), its vessels left as they are, so that they stand out
    and the liver is darker than the spleen. Made with the reference mask (as the lesions are), blurred by 1 mm
    so that the liver's edge keeps a partial-volume ramp; voxels brighter than the liver's median + 40 HU (the
    vessels) are lowered less, down to not at all at + 100 HU."""
    def make(ct: Volume, reference: np.ndarray, rng: np.random.Generator) -> Case:
        hu = ct.voxels.astype(np.float32)
        median = float(np.median(hu[reference]))
        sigma = tuple(1.0 / s for s in reversed(ct.spacing))
        inside = ndimage.gaussian_filter(reference.astype(np.float32), sigma)
        parenchyma = np.clip((median + 100.0 - hu) / 60.0, 0.0, 1.0)
        return ct.with_voxels(np.rint(hu - darker_hu * inside * parenchyma).astype(np.int16)), reference
    return make


# name -> (what changes, how it is made)
VARIANTS: Dict[str, Tuple[str, Variant]] = {
    "original": ("as acquired: 0.74 mm x 512, 1.6 mm slices, 190 mm field, liver-only protocol", unchanged),
    "slices-3.2mm": ("3.2 mm slices (2 averaged)", coarser_grid((2, 1, 1))),
    "slices-4.8mm": ("4.8 mm slices (3 averaged)", coarser_grid((3, 1, 1))),
    "matrix-256": ("256 x 256 matrix (1.5 mm pixels)", coarser_grid((1, 2, 2))),
    "field-middle": ("slab: the liver's middle 60 %", cranio_caudal_field("middle")),
    "field-upper": ("dome + 20 mm down to mid-liver", cranio_caudal_field("upper")),
    "field-lower": ("mid-liver down to tip - 30 mm", cranio_caudal_field("lower")),
    "field-300mm": ("in-plane field 300 mm (sides cut)", in_plane_field(300.0)),
    "field-500mm": ("in-plane field 500 mm (air around)", wider_field(500.0)),
    "noise-25hu": ("low dose: +25 HU noise", added_noise(25.0)),
    "smooth-1mm": ("soft kernel: 1 mm blur", smoother_kernel(1.0)),
    "lesions-hypodense": ("6 implanted lesions, 5-45 mm radius, 40-90 HU below the liver",
                          implanted_lesions("lesions-hypodense", 6, (40, 90))),
    "lesions-large": ("3 implanted lesions, 25-45 mm radius, 40-90 HU below the liver",
                      implanted_lesions("lesions-large", 3, (40, 90), (25.0, 45.0))),
    "fatty-40hu": ("steatosis: liver parenchyma 40 HU darker (vessels unchanged)", fatty_liver(40.0)),
    "fatty-70hu": ("severe steatosis: liver parenchyma 70 HU darker (vessels unchanged)", fatty_liver(70.0)),
}


# Made with another patient's CT as well (name -> (what changes, how, given the data folder)): constructs,
# not acquisitions, for fields of view that no labelled CT here has.
CONSTRUCTED: Dict[str, Tuple[str, Callable[[Volume, np.ndarray, Path], Case]]] = {
    "field-abdomen-pelvis": ("abdomen-pelvis field (386 mm): totalseg-a's lower abdomen and pelvis (another patient) "
                             "stitched below", abdomen_pelvis_field),
}
ALL_VARIANTS = [*VARIANTS, *CONSTRUCTED]


def describe(name: str) -> str:
    return (VARIANTS.get(name) or CONSTRUCTED[name])[0]


def load_ircadb17(data: Path) -> Case:
    ct = load_lps(data / "ct/ircadb-17/PATIENT_DICOM")
    reference = load_lps(data / "ct/ircadb-17/MASKS_DICOM/liver").voxels > 0
    if reference.shape != ct.voxels.shape:
        raise RuntimeError(f"ircadb-17: mask grid {reference.shape} differs from the CT's {ct.voxels.shape}")
    return ct, reference


def measure_variant(name: str, case: Case, model: str, models_dir: Path, out_dir: Path,
                    cli_args: Sequence[str] = (), patient: str = "ircadb-17") -> Dict:
    """One version of `patient`'s CT through `rt-liver segment`, scored against its reference; writes an overlay."""
    ct, reference = case
    ct_path, mask_path = out_dir / "cases" / f"{name}.nii.gz", out_dir / "cases" / f"{name}-mask.nii.gz"
    save_nifti(ct, ct_path)
    mask_path.unlink(missing_ok=True)
    report = run_cli(model, models_dir, ct_path, mask_path, cli_args)
    mask = reorient_to_lps(load_nifti(mask_path)).voxels > 0
    if mask.shape != reference.shape:
        raise RuntimeError(f"{name}: mask grid {mask.shape} differs from the CT's {reference.shape}")
    ml = ct.voxel_volume_ml()
    volume, reference_volume = float(mask.sum()) * ml, float(reference.sum()) * ml
    result = {
        "variant": name, "change": describe(name), "grid": list(ct.dimensions),
        "spacing_mm": [round(s, 3) for s in ct.spacing],
        "dice": round(dice_score(mask, reference), 4),
        "hd95_mm": round(hd95(mask, reference, tuple(reversed(ct.spacing))), 2),
        "volume_ml": round(volume, 1), "reference_ml": round(reference_volume, 1),
        "volume_error_percent": round(100.0 * (volume - reference_volume) / reference_volume, 1),
        "warnings": report.get("warnings", []),
        "narrowed_field": report.get("narrowed_field"),
    }
    if name in LESION_MASKS:  # the share of the implanted lesions' voxels inside the mask
        lesions = LESION_MASKS[name]
        result["lesion_ml"] = round(float(lesions.sum()) * ml, 1)
        result["lesion_recall"] = round(float(mask[lesions].mean()), 3)
    title = f"{model} {patient} {name}: Dice {result['dice']:.3f}, {volume:.0f} / {reference_volume:.0f} mL"
    overlay_png(ct, mask, reference, out_dir / f"{name}.png", title)
    return result


def markdown_table(model: str, results: Sequence[Dict]) -> str:
    lines = [f"ircadb-17 (manual liver mask, n = 1 patient), model `{model}`, through `rt-liver segment`:", "",
             "| variant | change | grid | Dice | HD95 mm | mL / manual | volume error |", "|---|---|---|---|---|---|---|"]
    for r in results:
        grid = "x".join(str(n) for n in r["grid"])
        lines.append(f"| {r['variant']} | {r['change']} | {grid} | {r['dice']:.3f} | {r['hd95_mm']:.1f} | "
                     f"{r['volume_ml']:.0f} / {r['reference_ml']:.0f} | {r['volume_error_percent']:+.1f} % |")
    return "\n".join(lines) + "\n"


def comparison_table(out: Path, tags: Sequence[str]) -> str:
    """Dice / volume error per variant (rows) and run (columns), from each tag's summary.json."""
    runs = {tag: {r["variant"]: r for r in json.loads((out / tag / "summary.json").read_text())["variants"]}
            for tag in tags}
    names = [name for name in ALL_VARIANTS if any(name in rows for rows in runs.values())]
    lines = ["| variant | " + " | ".join(f"{tag}: Dice / volume error" for tag in tags) + " |",
             "|---|" + "---|" * len(tags)]
    for name in names:
        cells = [f"{runs[t][name]['dice']:.3f} / {runs[t][name]['volume_error_percent']:+.1f} %" if name in runs[t]
                 else "-" for t in tags]
        lines.append(f"| {name} ({describe(name)}) | " + " | ".join(cells) + " |")
    dice = {t: [runs[t][n]["dice"] for n in names if n in runs[t]] for t in tags}
    lines.append("| mean / worst Dice | " + " | ".join(f"{np.mean(d):.3f} / {min(d):.3f}" for d in dice.values()) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=None, help="a model of the manifest (default: the manifest's default)")
    parser.add_argument("--models-dir", type=Path, default=REPO_ROOT / "models")
    parser.add_argument("--data", type=Path, default=REPO_ROOT / ".." / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "var" / "robustness")
    parser.add_argument("--variants", nargs="*", default=ALL_VARIANTS, choices=ALL_VARIANTS)
    parser.add_argument("--single-pass", action="store_true",
                        help="pass --single-pass to rt-liver segment (no second pass on a long series' liver slices)")
    parser.add_argument("--whole-field", action="store_true",
                        help="pass --whole-field to rt-liver segment (no crop of the air around the body)")
    parser.add_argument("--unpadded", action="store_true",
                        help="pass --unpadded to rt-liver segment (a short series not padded to the model's shortest field)")
    parser.add_argument("--tag", default="", help="folder name under --out (default: the model name)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the added noise")
    parser.add_argument("--table", nargs="+", metavar="TAG", help="only print the comparison of these runs' summaries")
    parser.add_argument("--write-cases", type=Path, metavar="DIR",
                        help="only write each variant's CT and reference as DIR/<variant>.nii and "
                             "DIR/<variant>-reference.nii (uncompressed; no model run; for tests)")
    args = parser.parse_args(argv)
    if args.table:
        print(comparison_table(args.out, args.table))
        return
    if not (args.data / "ct" / "ircadb-17").exists():
        sys.exit(f"error: {args.data / 'ct' / 'ircadb-17'} does not exist; this evaluation needs the real CT of "
                 "../shared/data (pass --data).")
    models_dir = args.models_dir.resolve()
    model = args.model or json.loads((models_dir / "manifest.json").read_text())["default"]
    out_dir = (args.out / (args.tag or model)).resolve()  # the CLI runs in the repository root
    ct, reference = load_ircadb17(args.data)
    results: List[Dict] = []
    for name in args.variants:
        rng = np.random.default_rng(args.seed)
        case = (VARIANTS[name][1](ct, reference, rng) if name in VARIANTS
                else CONSTRUCTED[name][1](ct, reference, args.data))
        if args.write_cases:
            save_nifti(case[0], args.write_cases / f"{name}.nii")
            save_nifti(replace(case[0], voxels=case[1].astype(np.uint8)), args.write_cases / f"{name}-reference.nii",
                       np.uint8)
            continue
        cli_args = ["--single-pass"] * args.single_pass + ["--whole-field"] * args.whole_field + ["--unpadded"] * args.unpadded
        result = measure_variant(name, case, model, models_dir, out_dir, cli_args)
        print(json.dumps(result), flush=True)
        results.append(result)
    if args.write_cases:
        return
    summary_path = out_dir / "summary.json"
    if summary_path.exists():  # a run of some variants replaces those rows and keeps the others
        done = {r["variant"] for r in results}
        kept = [r for r in json.loads(summary_path.read_text())["variants"]
                if r["variant"] not in done and r["variant"] in ALL_VARIANTS]
        results = sorted(kept + results, key=lambda r: ALL_VARIANTS.index(r["variant"]))
    summary_path.write_text(json.dumps({"model": model, "models_dir": str(models_dir), "seed": args.seed,
                                        "single_pass": args.single_pass, "whole_field": args.whole_field,
                                        "unpadded": args.unpadded,
                                        "variants": results}, indent=1) + "\n")
    print(markdown_table(model, results))


if __name__ == "__main__":
    main()
