"""The published ablation (models/ablation.json) holds together: the schema readers rely on, row counts that match
the split and seeds, means that are the means of the per-seed values, and intervals that contain their mean.
A hand edit or a half-merged report fails here rather than in a reader's spreadsheet."""

import json
import math
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
PUBLISHED = json.loads((REPO / "models" / "ablation.json").read_text())
ROW_KEYS = {"name": str, "params": int, "flops": float, "dice_mean": float, "dice_sd": float, "hd95_mean": float, "n": int}


@pytest.fixture(params=range(len(PUBLISHED)), ids=[d["dataset"] for d in PUBLISHED])
def dataset(request):
    return PUBLISHED[request.param]


def runs_of(row, dataset) -> int:
    """The teacher is trained once (seed = seeds[0]); every student once per seed."""
    return 1 if row["name"] == "teacher" else len(dataset["seeds"])


def test_every_dataset_is_named_once():
    names = [d["dataset"] for d in PUBLISHED]
    assert len(names) == len(set(names)), names


def test_schema(dataset):
    assert {"dataset", "split", "seeds", "rows"} <= dataset.keys()
    assert (REPO / dataset["split"]).is_file(), f"{dataset['split']}: the split file the rows were measured on"
    for row in dataset["rows"]:
        for key, kind in ROW_KEYS.items():
            assert isinstance(row[key], (int, float) if kind is float else kind), (row["name"], key, row[key])
        assert 0.0 <= row["dice_mean"] <= 1.0 and row["params"] > 0


def test_counts_match_split_and_seeds(dataset):
    test_cases = len(json.loads((REPO / dataset["split"]).read_text())["test"])
    assert dataset["split_sizes"]["test"] == test_cases
    for row in dataset["rows"]:
        assert row["n"] == runs_of(row, dataset) * test_cases, row["name"]


def test_means_are_means_of_the_seeds(dataset):
    for row in dataset["rows"]:
        per_seed = row["dice_per_seed"]
        assert len(per_seed) == runs_of(row, dataset), row["name"]
        assert row["dice_mean"] == pytest.approx(sum(per_seed) / len(per_seed), abs=6e-4), row["name"]


def test_paired_differences_hold_together(dataset):
    names = {row["name"] for row in dataset["rows"]}
    for diff in dataset["paired_differences"]:
        label = f"{diff['first']} - {diff['second']}"
        assert {diff["first"], diff["second"]} <= names, label
        per_seed = diff["per_seed"]
        assert len(per_seed) == len(dataset["seeds"]), label
        assert diff["mean"] == pytest.approx(sum(per_seed) / len(per_seed), abs=1e-9), label
        assert diff["low"] <= diff["mean"] <= diff["high"], label
        assert diff["wins"] == sum(value > 0 for value in per_seed), label
        assert not any(math.isnan(value) for value in per_seed), label
