"""Run a model on every real CT in ../shared/data exactly as users do (`rt-liver segment`), and write axial,
coronal and sagittal overlay PNGs through the liver, with the measurements that matter on patient CT.

    python -m rtliver_train.overlays --model student-100k [--models-dir models] [--out var/overlays]

Per CT: the liver volume (mL); against ct/ircadb-17's manual mask, Dice and the reference volume; against
ct/totalseg-a's TotalSegmentator labels (pseudo-labels), Dice and the mask's voxels inside spleen, kidneys,
stomach, bowel and heart. The mask is red; a reference liver outline (where there is one) is green. Writes
`<out>/<model>/<case>.png` (the three planes side by side) and `<out>/<model>/summary.json`.
Only the CC BY CTs (crlm-ct-*, pancreas-ct-cb-001) may be committed; ircadb-17 and totalseg-a stay in var/.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, Optional, Sequence

import numpy as np
from scipy import ndimage

from .image_io import load_image, load_nifti
from .metrics import dice_score, hd95
from .preprocess import reorient_to_lps

REPO_ROOT = Path(__file__).resolve().parents[2]
CLI = REPO_ROOT / "node_modules" / ".bin" / "rt-liver"

# case -> (input for rt-liver segment, reference loader key)
CASES = {
    "crlm-ct-1004": ("ct/crlm-ct-1004/dicom", None),
    "crlm-ct-1006": ("ct/crlm-ct-1006/dicom", None),
    "pancreas-ct-cb-001": ("ct/pancreas-ct-cb-001/dicom", None),
    "ircadb-17": ("ct/ircadb-17/PATIENT_DICOM", "ircadb"),
    "totalseg-a": ("ct/totalseg-a/example_ct.nii.gz", "totalseg"),
}
# TotalSegmentator v2 ids in totalseg-a's label map (its own class map; liver = 5)
TOTALSEG_ORGANS = {"spleen": (1,), "kidneys": (2, 3), "stomach": (6,), "bowel": (18, 19, 20), "heart": (51,)}


def load_lps(path: Path):
    return reorient_to_lps(load_image(path))


def run_cli(model: str, models_dir: Path, source: Path, mask_out: Path, extra_args: Sequence[str] = ()) -> Dict:
    command = [str(CLI), "segment", str(source), "--mask", str(mask_out), "--json", "-q", "--model", model,
               "--models-dir", str(models_dir), "--threads", "2", *extra_args]
    done = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed ({done.returncode}): {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout)


def _plane_image(ct: np.ndarray, mask: np.ndarray, reference: Optional[np.ndarray], aspect: float) -> np.ndarray:
    """One plane (rows, cols) -> RGB uint8, rows stretched by `aspect` (row mm / col mm)."""
    from PIL import Image

    grey = np.clip((ct + 200.0) / 500.0, 0, 1)
    rgb = np.stack([grey] * 3, axis=-1)
    rgb[mask] = rgb[mask] * 0.55 + np.array([1.0, 0.0, 0.0]) * 0.45
    edge = mask & ~ndimage.binary_erosion(mask)
    rgb[edge] = (1.0, 0.2, 0.2)
    if reference is not None:
        ref_edge = reference & ~ndimage.binary_erosion(reference)
        rgb[ref_edge] = (0.1, 1.0, 0.1)
    image = Image.fromarray((rgb * 255).astype(np.uint8))
    rows, cols = mask.shape
    return np.asarray(image.resize((cols, max(1, int(round(rows * aspect)))), Image.BILINEAR))


def overlay_png(ct_lps, mask: np.ndarray, reference: Optional[np.ndarray], out: Path, title: str) -> None:
    """Axial, coronal and sagittal planes through the mask's centre (the volume's centre if empty)."""
    from PIL import Image, ImageDraw

    voxels = ct_lps.voxels.astype(np.float32)
    target = mask if mask.any() else (reference if reference is not None and reference.any() else None)
    centre = (np.array(ndimage.center_of_mass(target)).round().astype(int) if target is not None
              else np.array(voxels.shape) // 2)
    k, j, i = centre
    si, sj, sk = ct_lps.spacing
    ref = (lambda index: None if reference is None else reference[index])
    axial = _plane_image(voxels[k], mask[k], ref(k), sj / si)
    coronal = _plane_image(voxels[::-1, j, :], mask[::-1, j, :], None if reference is None else reference[::-1, j, :], sk / si)
    sagittal = _plane_image(voxels[::-1, :, i], mask[::-1, :, i], None if reference is None else reference[::-1, :, i], sk / sj)
    height = 384
    panels = []
    for panel in (axial, coronal, sagittal):
        scale = height / panel.shape[0]
        panels.append(np.asarray(Image.fromarray(panel).resize((max(1, int(panel.shape[1] * scale)), height), Image.BILINEAR)))
    canvas = Image.fromarray(np.concatenate(panels, axis=1))
    ImageDraw.Draw(canvas).text((6, 6), title, fill=(255, 255, 0))
    out.parent.mkdir(parents=True, exist_ok=True)
    canvas.save(out)


def measure_case(case: str, data: Path, model: str, models_dir: Path, out_dir: Path) -> Dict:
    source_rel, reference_kind = CASES[case]
    source = data / source_rel
    out_dir.mkdir(parents=True, exist_ok=True)
    mask_path = out_dir / f"{case}.nii.gz"
    report = run_cli(model, models_dir, source, mask_path)
    ct = load_lps(source)
    mask = reorient_to_lps(load_nifti(mask_path)).voxels > 0
    if mask.shape != ct.voxels.shape:
        raise RuntimeError(f"{case}: mask grid {mask.shape} differs from the CT's {ct.voxels.shape}")
    ml = ct.voxel_volume_ml()
    result: Dict = {"case": case, "volume_ml": round(float(mask.sum()) * ml, 1), "cli_volume_ml": report.get("volume_ml"),
                    "warnings": report.get("warnings")}
    reference = None
    if reference_kind == "ircadb":
        reference = load_lps(data / "ct/ircadb-17/MASKS_DICOM/liver").voxels > 0
        result.update(dice=round(dice_score(mask, reference), 4), reference_ml=round(float(reference.sum()) * ml, 1),
                      reference="manual")
    elif reference_kind == "totalseg":
        labels = np.rint(load_lps(data / "ct/totalseg-a/example_seg_fast_force_split.nii.gz").voxels).astype(int)
        reference = labels == 5
        result.update(dice=round(dice_score(mask, reference), 4), reference_ml=round(float(reference.sum()) * ml, 1),
                      reference="TotalSegmentator pseudo-label",
                      liver_ml_inside={name: round(float((mask & np.isin(labels, ids)).sum()) * ml, 1)
                                       for name, ids in TOTALSEG_ORGANS.items()})
    if reference is not None:
        result["hd95_mm"] = round(float(hd95(mask, reference, tuple(reversed(ct.spacing)))), 2)
    title = f"{model} {case}: {result['volume_ml']:.0f} mL" + (f", Dice {result['dice']:.3f}" if "dice" in result else "")
    overlay_png(ct, mask, reference, out_dir / f"{case}.png", title)
    return result


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", required=True)
    parser.add_argument("--models-dir", type=Path, default=REPO_ROOT / "models")
    parser.add_argument("--data", type=Path, default=REPO_ROOT / ".." / "shared" / "data")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "var" / "overlays")
    parser.add_argument("--cases", nargs="*", default=list(CASES))
    parser.add_argument("--tag", default="", help="folder name under --out (default: the model name)")
    args = parser.parse_args(argv)
    if not args.data.exists():
        sys.exit(f"error: {args.data} does not exist; the overlays need the real CTs of ../shared/data.")
    out_dir = args.out / (args.tag or args.model)
    results = []
    for case in args.cases:
        result = measure_case(case, args.data, args.model, args.models_dir.resolve(), out_dir)
        print(json.dumps(result), flush=True)
        results.append(result)
    summary_path = out_dir / "summary.json"
    if summary_path.exists():  # a run on some cases updates those rows and keeps the others
        done = {r["case"] for r in results}
        results = [r for r in json.loads(summary_path.read_text())["cases"] if r["case"] not in done] + results
        results.sort(key=lambda r: list(CASES).index(r["case"]))
    summary_path.write_text(json.dumps({"model": args.model, "models_dir": str(args.models_dir),
                                        "cases": results}, indent=1) + "\n")


if __name__ == "__main__":
    main()
