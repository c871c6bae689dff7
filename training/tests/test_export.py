import json

import numpy as np
import onnx
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
    assert "ConvTranspose" not in {n.op_type for n in graph.node}


def test_manifest_entry_and_update(tmp_path):
    model = UNet3d(UNetConfig(channels=(2, 3, 4, 5)))
    path = tmp_path / "m.onnx"
    export_onnx(model, path)
    entry = manifest_entry(model, "m", path, placeholder=True, description="d", training={}, metrics={}, card=None)
    assert entry["sha256"] == sha256_of(path) and entry["input"]["huWindow"] == [-200.0, 300.0]
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
