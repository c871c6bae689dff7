import json

from layouts import make_msd
from rtliver_train.ablation import run_ablation
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
