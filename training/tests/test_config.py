import json

import pytest

from rtliver_train.config import RunConfig, config_from_dict, parse_config
from rtliver_train.errors import TrainingError


def test_defaults_file_and_overrides(tmp_path):
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"steps": 50, "patch": [32, 64, 64], "method": "kd"}))
    config = parse_config([f"--config={path}", "--steps=70", "--kd_temperature=4", "--liver-labels=[1,2]"],
                          preset="teacher")
    assert (config.steps, config.patch, config.method, config.kd_temperature) == (70, (32, 64, 64), "kd", 4.0)
    assert config.preset == "teacher" and config.liver_labels == [1, 2]
    assert config_from_dict(config.to_dict()) == config


def test_bad_keys_and_types_name_the_key():
    with pytest.raises(TrainingError, match="Unknown config key 'stepz'"):
        parse_config(["--stepz=3"])
    with pytest.raises(TrainingError, match="'steps' expects an integer"):
        parse_config(["--steps=many"])
    with pytest.raises(TrainingError, match="'resume' expects true or false"):
        parse_config(["--resume=3"])
    with pytest.raises(TrainingError, match="Cannot parse argument"):
        parse_config(["steps"])


def test_strings_stay_strings():
    config = parse_config(["--out_dir=123", "--teacher_checkpoint=runs/t/ckpt.pt"])
    assert config.out_dir == "123" and config.teacher_checkpoint == "runs/t/ckpt.pt"
    assert RunConfig().grid == (64, 128, 128)
