import json
from pathlib import Path

import pytest
import torch

from layouts import make_msd
from rtliver_train.ablation import plan_ablation, run_ablation
from rtliver_train.checkpoint import load_checkpoint
from rtliver_train.errors import TrainingError
from rtliver_train.datasets import discover, write_split


def test_ablation_runs_every_method_and_writes_tables(tmp_path):
    root = make_msd(tmp_path / "msd", n=4)
    write_split(discover("msd", root), tmp_path / "split.json", val=0.0, test=0.25, seed=0, meta={})
    tiny = {"steps": 2, "batch_size": 2, "patch": [16, 16, 16], "grid": [16, 24, 24], "log_every": 1,
            "eval_every": 0, "checkpoint_every": 100, "cache_dir": str(tmp_path / "cache")}
    spec = {
        "out_root": str(tmp_path / "ablation"),
        "base": {"data_layout": "msd", "data_root": str(root), "split_file": str(tmp_path / "split.json"), **tiny},
        "seeds": [0],
        "teacher": {"channels": [6, 8, 10, 12]},
        "runs": [{"name": name, "method": method, "channels": [2, 4, 4, 6], "assistant_preset": "student-30k"}
                 for name, method in [("s-none", "none"), ("s-kd", "kd"), ("s-takd", "takd"), ("s-gtan", "gtan")]],
        "time_onnx": False,
    }
    result = run_ablation(spec)
    assert set(result["summary"]) == {"teacher", "s-none", "s-kd", "s-takd", "s-gtan"}
    gtan = result["summary"]["s-gtan"]
    assert gtan["parameters"] == result["summary"]["s-none"]["parameters"] < result["summary"]["teacher"]["parameters"]
    assert gtan["n_cases"] == 1 and 0.0 <= gtan["dice_mean"] <= 1.0
    table = (tmp_path / "ablation" / "ablation.md").read_text()
    assert "| s-gtan |" in table and "Dice mean" in table
    assert json.loads((tmp_path / "ablation" / "ablation.json").read_text())["summary"]["teacher"]["n_cases"] == 1


def _runs(dice_by_seed):
    return [{"seed": seed, "checkpoint": "/nonexistent/ckpt.pt",
             "test": {"cases": [{"id": f"c{i}", "dice": d} for i, d in enumerate(values)]}}
            for seed, values in dice_by_seed.items()]


def test_paired_difference_pairs_by_seed_and_case_and_brackets_the_mean():
    from rtliver_train.ablation_report import paired_difference

    first = _runs({0: [0.80, 0.90], 1: [0.70, 0.75], 2: [0.85, 0.80]})
    second = _runs({0: [0.78, 0.85], 1: [0.72, 0.70], 2: [0.80, 0.80], 3: [0.1, 0.1]})  # seed 3 has no pair
    d = paired_difference(first, second, draws=2000)
    assert d["seeds"] == [0, 1, 2] and d["n_cases"] == 6
    assert d["per_seed"] == pytest.approx([0.035, 0.015, 0.025])
    assert d["mean"] == pytest.approx(0.025) and d["wins"] == 3
    assert d["low"] <= d["mean"] <= d["high"] and d["high"] - d["low"] < 0.1
    same = paired_difference(first, first, draws=100)
    assert same["mean"] == 0 and same["low"] == same["high"] == 0 and same["wins"] == 0


def test_the_report_compares_each_arm_with_what_it_claims_to_beat():
    from rtliver_train.ablation_report import comparisons

    names = ["teacher", "student-30k-none", "student-30k-kd", "student-30k-kd-ramp", "student-30k-gtan", "student-30k-gtan-shrink"]
    pairs = comparisons(names)
    assert ("student-30k-kd", "student-30k-none") in pairs
    assert {("student-30k-kd-ramp", "student-30k-none"), ("student-30k-kd-ramp", "student-30k-kd")} <= set(pairs)
    assert {("student-30k-gtan-shrink", "student-30k-none"), ("student-30k-gtan-shrink", "student-30k-kd"),
            ("student-30k-gtan-shrink", "student-30k-gtan")} <= set(pairs)
    assert all(a in names and b in names for a, b in pairs)  # nothing compared with an arm that was not run
    assert ("student-100k-kd-ramp", "student-100k-none") not in pairs


def test_plateau_measures_the_rise_over_the_last_quarter():
    from rtliver_train.ablation_report import plateau

    rising = [(s, s / 100) for s in range(0, 100, 10)]
    flat = [(s, 0.8) for s in range(0, 100, 10)]
    assert plateau(rising)["rise"] > 0.1
    assert plateau(flat)["rise"] == pytest.approx(0.0)
    assert plateau([(0, 0.5)]) is None


def test_report_writes_the_published_schema_and_the_plots(tmp_path):
    from rtliver_train.ablation_report import report

    runs = {"student-30k-none": _runs({0: [0.7, 0.8]}), "student-30k-kd": _runs({0: [0.75, 0.8]}),
            "student-30k-gtan": _runs({0: [0.72, 0.81]})}
    summary = {name: {"parameters": 30188, "flops": 1e8, "dice_mean": 0.75, "dice_sd": 0.05, "hd95_mean": 10.0,
                      "n_cases": 2, "seeds": [0], "dice_per_seed": [0.75]} for name in runs}
    published = report({"spec": {"seeds": [0], "base": {}}, "summary": summary, "runs": runs}, "toy", "toy", tmp_path)
    assert published["dataset"] == "toy" and published["seeds"] == [0]
    assert {r["name"] for r in published["rows"]} == set(runs)
    assert set(published["rows"][0]) >= {"name", "params", "flops", "dice_mean", "dice_sd", "hd95_mean", "n"}
    pairs = {(d["first"], d["second"]) for d in published["paired_differences"]}
    assert ("student-30k-kd", "student-30k-none") in pairs and ("student-30k-gtan", "student-30k-kd") in pairs
    assert (tmp_path / "ablation" / "toy-curves.png").stat().st_size > 0


def test_students_trained_in_parallel_processes_give_the_same_results(tmp_path):
    root = make_msd(tmp_path / "msd", n=4)
    write_split(discover("msd", root), tmp_path / "split.json", val=0.0, test=0.25, seed=0, meta={})
    tiny = {"steps": 3, "batch_size": 2, "patch": [16, 16, 16], "grid": [16, 24, 24], "log_every": 1, "threads": 1,
            "eval_every": 0, "checkpoint_every": 100, "cache_dir": str(tmp_path / "cache")}
    runs = [{"name": name, "method": method, "channels": [2, 4, 4, 6]} for name, method in [("s-none", "none"), ("s-kd", "kd")]]

    def ablation(out: str, jobs: int):
        return run_ablation({"out_root": str(tmp_path / out), "seeds": [0, 1], "jobs": jobs, "runs": runs,
                             "base": {"data_layout": "msd", "data_root": str(root), "split_file": str(tmp_path / "split.json"), **tiny},
                             "teacher": {"channels": [6, 8, 10, 12]}, "time_onnx": False})

    alone, together = ablation("one-at-a-time", 1), ablation("two-at-once", 2)

    def weights(run):
        return load_checkpoint(Path(run["checkpoint"]))["model"]

    for name in ("s-none", "s-kd"):
        assert [r["seed"] for r in together["runs"][name]] == [0, 1]
        for a, b in zip(alone["runs"][name], together["runs"][name]):
            assert b["checkpoint"].endswith(f"two-at-once/{name}-seed{b['seed']}/ckpt.pt")
            assert a["checkpoint"] != b["checkpoint"]
            wa, wb = weights(a), weights(b)  # same seed, same data: the same student, bit for bit
            assert wa.keys() == wb.keys() and all(torch.equal(wa[k], wb[k]) for k in wa)
    # the two seeds' students differ, so the comparison above could fail
    w0, w1 = (weights(run) for run in together["runs"]["s-none"])
    assert not all(torch.equal(w0[k], w1[k]) for k in w0)


def test_latencies_are_not_timed_while_runs_train_side_by_side(tmp_path):
    with pytest.raises(TrainingError, match="time_onnx needs jobs = 1"):
        run_ablation({"out_root": str(tmp_path / "never"), "jobs": 2, "base": {}})
    assert not (tmp_path / "never").exists()


CONFIGS = Path(__file__).resolve().parents[1] / "configs"


@pytest.mark.parametrize("config", sorted(CONFIGS.glob("ablation-*.json")), ids=lambda path: path.name)
def test_every_committed_ablation_config_resolves_before_anything_trains(config):
    spec = json.loads(config.read_text())
    plan = plan_ablation(spec)
    out_dirs = [run.config.out_dir for run in plan.students]
    assert len(out_dirs) == len(set(out_dirs)) == sum(len(r.get("seeds", spec["seeds"])) for r in spec["runs"])
    assert all(run.config.teacher_checkpoint == str(Path(plan.teacher.out_dir) / "ckpt.pt") for run in plan.students)
    assert plan.teacher.preset == "teacher" and plan.teacher.steps == spec["teacher"]["steps"]


def test_a_misspelt_key_in_one_arm_fails_the_plan_naming_it(tmp_path):
    spec = {"out_root": str(tmp_path / "never"), "seeds": [0, 1],
            "runs": [{"name": "ok", "method": "none"}, {"name": "typo", "method": "gtan", "gtan_inti": "teacher"}]}
    with pytest.raises(TrainingError, match="Unknown config key 'gtan_inti'"):
        plan_ablation(spec)
    assert not (tmp_path / "never").exists()
