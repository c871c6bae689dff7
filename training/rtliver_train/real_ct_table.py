"""The real-CT results table: one row per model from `rtliver_train.overlays` summaries.

    python -m rtliver_train.real_ct_table --tags shipped-student-100k real-ct-student-100k ... \
        --out training/results/real-ct.md

Copies each summary to training/results/real-ct-<tag>.json (numbers only, no images) and writes the table.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Optional, Sequence

REPO_ROOT = Path(__file__).resolve().parents[2]


def row(tag: str, summary: dict) -> str:
    cases = {c["case"]: c for c in summary["cases"]}
    ircadb, totalseg = cases.get("ircadb-17", {}), cases.get("totalseg-a", {})
    inside = totalseg.get("liver_ml_inside", {})
    volumes = " / ".join(f"{cases[c]['volume_ml']:.0f}" for c in ("crlm-ct-1004", "crlm-ct-1006", "pancreas-ct-cb-001") if c in cases)
    organs = ", ".join(f"{k} {v:.0f}" for k, v in inside.items())
    return (f"| {tag} | {ircadb.get('dice', float('nan')):.3f} | {ircadb.get('hd95_mm', float('nan')):.1f} | "
            f"{ircadb.get('volume_ml', float('nan')):.0f} / {ircadb.get('reference_ml', float('nan')):.0f} | {volumes} | "
            f"{totalseg.get('dice', float('nan')):.3f} | {totalseg.get('volume_ml', float('nan')):.0f} / "
            f"{totalseg.get('reference_ml', float('nan')):.0f} | {organs} |")


def metrics_files(tag: str, summary: dict, out_dir: Path) -> None:
    """rtliver_train.evaluate-style metric files for `export --metrics`: ircadb-17 (manual) and totalseg-a."""
    cases = {c["case"]: c for c in summary["cases"]}
    sources = {
        "ircadb-17": "ct/ircadb-17, manual liver label, n = 1; the validation case, also used to choose the "
                     "checkpoint: not held out",
        "totalseg-a": "ct/totalseg-a, TotalSegmentator pseudo-label, n = 1; augmented copies are in the training "
                      "data: not held out",
    }
    for case, data in sources.items():
        result = cases[case]
        metric = {key: {"mean": result[key], "sd": 0.0, "n": 1, "data": data} for key in ("dice", "hd95_mm")}
        metric["volume_ml"] = {"mean": result["volume_ml"], "reference": result["reference_ml"], "n": 1, "data": data}
        (out_dir / f"real-ct-{tag}.{case}.metrics.json").write_text(json.dumps(metric, indent=1) + "\n")


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tags", nargs="+", required=True)
    parser.add_argument("--overlays", type=Path, default=REPO_ROOT / "var" / "overlays")
    parser.add_argument("--out", type=Path, default=REPO_ROOT / "training" / "results" / "real-ct.md")
    args = parser.parse_args(argv)
    lines = [
        "| model | ircadb-17 Dice (manual, n = 1) | HD95 mm | mL / reference | crlm-1004 / crlm-1006 / pancreas mL "
        "(no labels) | totalseg-a Dice (pseudo-label) | mL / pseudo-label | totalseg-a: mask mL inside organs (pseudo-labels) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for tag in args.tags:
        summary = json.loads((args.overlays / tag / "summary.json").read_text())
        (args.out.parent / f"real-ct-{tag}.json").write_text(json.dumps(summary, indent=1) + "\n")
        lines.append(row(tag, summary))
        if all(c in {r["case"] for r in summary["cases"]} for c in ("ircadb-17", "totalseg-a")):
            metrics_files(tag, summary, args.out.parent)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
