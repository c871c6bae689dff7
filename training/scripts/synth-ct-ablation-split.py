"""Write training/splits/synth-ct-ablation.json: a patient-level split of the synthetic CTs (var/datasets/
synth-ct-abl, written by `python -m rtliver_train.synth`) for the distillation ablation.

    PYTHONPATH=training python3 training/scripts/synth-ct-ablation-split.py

Every synthetic case of one 3D-IRCADb-01 patient lands in the same part; 3 patients (random.Random(0)) are test,
2 validation, the rest and the totalseg-a copies training. ircadb-17 (the real CT with its manual label, whose
anatomy is in no synthetic case) is added to test. The split is checked disjoint by patient.
"""

import json
import random
import sys
from pathlib import Path

from rtliver_train.synth import check_disjoint, patient_of as patient

ROOT = Path("var/datasets/synth-ct-abl")
OUT = Path("training/splits/synth-ct-ablation.json")


def main() -> None:
    ids = sorted(path.stem for path in (ROOT / "cases").glob("*.npz"))
    if not ids:
        sys.exit(f"error: no cases under {ROOT}/cases; run python -m rtliver_train.synth --out {ROOT} first.")
    anatomies = sorted({patient(i) for i in ids if i.startswith("synth-ircadb-")}, key=lambda p: int(p.split("-")[1]))
    random.Random(0).shuffle(anatomies)
    test, val = set(anatomies[:3]), set(anatomies[3:5])
    split = {
        "layout": "grid-npz", "root": str(ROOT), "seed": 0,
        "rule": "patient-level: 3 IRCADb anatomies test (+ ircadb-17, real CT), 2 validation, the rest + totalseg-a training",
        "test": sorted(i for i in ids if patient(i) in test or i == "ircadb-17"),
        "val": sorted(i for i in ids if patient(i) in val),
        "train": sorted(i for i in ids if patient(i) not in test | val and i != "ircadb-17"),
    }
    check_disjoint(split)
    OUT.write_text(json.dumps(split, indent=1) + "\n")
    print(f"{OUT}: train {len(split['train'])}, val {len(split['val'])}, test {len(split['test'])}; "
          f"test patients {sorted(test)}, validation {sorted(val)}")


if __name__ == "__main__":
    main()
