import json

import numpy as np
import onnx
import pytest
import torch

from rtliver_train.export import (INPUT_NAME, OUTPUT_NAME, PARITY_DIR, check_onnx, export_onnx, manifest_entry,
                                  parity_input, sha256_of, update_manifest)
from rtliver_train.models import UNet3d, UNetConfig


def test_export_is_a_valid_webgpu_safe_graph_with_dynamic_axes(tmp_path):
    torch.manual_seed(0)
    model = UNet3d(UNetConfig(channels=(2, 3, 4, 5)))
    path = tmp_path / "m.onnx"
    export_onnx(model, path)
    check_onnx(path)  # raises on names or operators outside the contract
    graph = onnx.load(str(path)).graph
    dims = [d.dim_param or d.dim_value for d in graph.input[0].type.tensor_type.shape.dim]
    assert graph.input[0].name == INPUT_NAME and graph.output[0].name == OUTPUT_NAME
    assert dims[1:] == [1, "D", "H", "W"]
    ops = {n.op_type for n in graph.node}
    assert "ConvTranspose" not in ops and "Concat" not in ops  # the decoder joins by two convs summed


def test_manifest_entry_and_update(tmp_path):
    model = UNet3d(UNetConfig(channels=(2, 3, 4, 5)))
    path = tmp_path / "m.onnx"
    export_onnx(model, path)
    entry = manifest_entry(model, "m", path, placeholder=True, description="d", training={}, metrics={}, card=None)
    assert entry["sha256"] == sha256_of(path) and entry["input"]["huWindow"] == [-200.0, 300.0]
    assert "caution" not in entry  # only written when given
    manifest = update_manifest(entry, tmp_path / "manifest.json")
    assert manifest["default"] == "m" and [m["name"] for m in manifest["models"]] == ["m"]


def test_committed_parity_fixture_matches_the_committed_model():
    description = json.loads((PARITY_DIR / "fixture.json").read_text())
    model_file = PARITY_DIR.parents[2] / description["modelFile"]
    assert sha256_of(model_file) == description["sha256"]
    x = np.fromfile(PARITY_DIR / "input.f32.bin", dtype="<f4").reshape(description["input"]["shape"])
    np.testing.assert_array_equal(x, parity_input(description["input"]["shape"]))
    manifest = json.loads((model_file.parent / "manifest.json").read_text())
    assert description["model"] in {m["name"] for m in manifest["models"]}


def test_export_from_a_gtan_checkpoint_ships_the_student_slice_with_card_and_metrics(tmp_path):
    from rtliver_train.engine import train
    from rtliver_train.export import main as export_main
    from tiny import tiny_case, tiny_config

    cases = [tiny_case(0)]
    teacher = train(tiny_config(tmp_path / "teacher", channels=(6, 8, 10, 12), steps=1), cases, [])
    student = train(tiny_config(tmp_path / "gtan", method="gtan", channels=(2, 4, 4, 6), steps=1,
                                teacher_checkpoint=str(teacher)), cases, [])
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"dice": {"mean": 0.5, "sd": 0.1, "n": 3, "data": "phantom"}, "cases": [1, 2, 3]}))
    real = tmp_path / "real.json"
    real.write_text(json.dumps({"dice": {"mean": 0.4, "sd": 0.0, "n": 1, "data": "pseudo-label"}}))
    out = tmp_path / "models"
    out.mkdir()
    export_main(["--checkpoint", str(student), "--name", "s", "--out", str(out), "--metrics", str(metrics),
                 f"real (pseudo-label)={real}", "--caution", "Phantoms only."])
    entry = json.loads((out / "manifest.json").read_text())["models"][0]
    assert entry["caution"] == "Phantoms only."
    assert entry["architecture"]["channels"] == [2, 4, 4, 6] and entry["placeholder"] is False
    assert entry["training"]["method"] == "gtan" and "cases" not in entry["metrics"]
    assert entry["metrics"]["real (pseudo-label)"]["dice"]["mean"] == 0.4
    card = (out / "s.md").read_text()
    assert "Not validated for" in card and "pseudo-label" in card and entry["sha256"] in card


def test_new_pytorch_is_asked_for_the_torchscript_exporter():
    from rtliver_train.export import torchscript_exporter_options

    def export_with_dynamo(model, args, f, dynamo=True, **kwargs):  # PyTorch 2.9 and later
        pass

    def export_without_dynamo(model, args, f, opset_version=None, **kwargs):  # Debian's 1.13
        pass

    assert torchscript_exporter_options(export_with_dynamo) == {"dynamo": False}
    assert torchscript_exporter_options(export_without_dynamo) == {}


def test_a_training_checkpoint_loads_where_pytorch_reads_only_weights_by_default(tmp_path, monkeypatch):
    """PyTorch 2.6 and later default to weights_only=True, which refuses the numpy generator state a checkpoint
    holds; emulate that default on this PyTorch and read a checkpoint written by the engine's writer."""
    from rtliver_train import checkpoint as checkpoint_module

    path = tmp_path / "ckpt.pt"
    generator_state = np.random.RandomState(7).get_state()  # ('MT19937', uint32 array, ...), as the engine saves
    checkpoint_module.save_checkpoint(path, {"model": {"w": torch.zeros(2)}, "step": 3, "lr": 0.5,
                                             "rng": {"numpy": generator_state}})
    real_load = torch.load

    def load_as_pytorch_2_6(f, *args, weights_only=None, **kwargs):
        return real_load(f, *args, weights_only=True if weights_only is None else weights_only, **kwargs)

    monkeypatch.setattr(torch, "load", load_as_pytorch_2_6)
    with pytest.raises(Exception):  # the emulated default does refuse it
        torch.load(path, map_location="cpu")
    loaded = checkpoint_module.load_checkpoint(path)
    assert loaded["step"] == 3 and loaded["lr"] == 0.5
    assert np.array_equal(loaded["rng"]["numpy"][1], generator_state[1])
