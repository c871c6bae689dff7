"""norm="regional": each voxel's normalisation statistics over the region around it (models.RegionalInstanceNorm3d),
so what the field holds far away no longer moves the mask, while each region is still re-centred on its own."""

import numpy as np
import onnx
import pytest
import torch

from rtliver_train.checkpoint import load_model
from rtliver_train.engine import Runtime, build_stage, regional_locality
from rtliver_train.errors import TrainingError
from rtliver_train.contract import NORMALISATION_METADATA_KEY
from rtliver_train.export import export_onnx
from rtliver_train.models import RegionalInstanceNorm3d, set_locality, with_regional_normalisation
from test_fixed_norm import run_in_onnxruntime_node, trained_looking
from tiny import tiny_case, tiny_config

CPU = Runtime(torch.device("cpu"), 0, 1)


def test_at_locality_zero_it_is_the_instance_norm_network_it_came_from_and_at_one_it_is_not():
    model = trained_looking()
    regional = with_regional_normalisation(model).eval()
    assert regional.config.norm == "regional" and model.config.norm == "instance"
    assert all(isinstance(m, RegionalInstanceNorm3d) for n, m in regional.named_modules() if n.endswith(".norm"))
    x = torch.rand(1, 1, 32, 32, 32)
    with torch.no_grad():
        set_locality(regional, 0.0)
        torch.testing.assert_close(regional(x), model(x), rtol=1e-4, atol=1e-4)
        set_locality(regional, 1.0)
        assert (regional(x) - model(x)).abs().max() > 1e-2
    with pytest.raises(ValueError, match="locality"):
        set_locality(regional, 1.5)
    with pytest.raises(ValueError, match="already"):
        with_regional_normalisation(regional)


def test_one_normalisation_sees_only_the_blocks_next_to_a_voxel():
    """Level 0 averages blocks of 16 voxels: content changed 32 or more voxels away leaves a voxel's output as
    it was, content in its own block does not; a uniform region comes out at the affine shift."""
    norm = RegionalInstanceNorm3d(1, level=0)
    with torch.no_grad():
        norm.weight.fill_(2.0)
        norm.bias.fill_(0.5)
    torch.manual_seed(0)
    a = torch.rand(1, 1, 16, 16, 128)
    far, near = a.clone(), a.clone()
    far[..., 48:] = 5.0
    near[..., 8:16] = 5.0
    with torch.no_grad():
        assert (norm(far) - norm(a))[..., :16].abs().max() < 1e-6
        assert (norm(near) - norm(a))[..., :16].abs().max() > 1e-2
        torch.testing.assert_close(norm(torch.full((1, 1, 16, 16, 64), 3.0)), torch.full((1, 1, 16, 16, 64), 0.5))


def test_far_away_content_moves_instance_norm_but_not_the_regional_network():
    """A 1x16x16x512 strip: content changed at x >= 384 moves InstanceNorm's output at x < 64 and leaves the regional
    network's untouched there (beyond its receptive field and its statistics' reach), while still seen where it is."""
    model = trained_looking()
    regional = with_regional_normalisation(model).eval()
    torch.manual_seed(1)
    a = torch.rand(1, 1, 16, 16, 512)
    b = a.clone()
    b[..., 384:] = 1.0
    with torch.no_grad():
        assert (model(a) - model(b))[..., :64].abs().max() > 1e-3
        assert (regional(a) - regional(b))[..., :64].abs().max() < 1e-6
        assert (regional(a) - regional(b))[..., 384:].abs().max() > 1e-3


def test_a_regional_network_exports_to_the_webgpu_safe_set_runs_the_same_in_onnxruntime_and_is_not_read_back(tmp_path):
    from rtliver_train.onnx_weights import load_onnx_model

    regional = with_regional_normalisation(trained_looking()).eval()
    set_locality(regional, 0.25)  # export is of the regional function, whatever a run last set
    path = tmp_path / "regional.onnx"
    export_onnx(regional, path)  # check_onnx inside: contract names and the WebGPU-safe operator set
    graph = onnx.load(str(path))
    assert {p.key: p.value for p in graph.metadata_props}[NORMALISATION_METADATA_KEY] == "regional"
    assert "ReduceMean" not in {n.op_type for n in graph.graph.node}  # no whole-input statistic left
    x = torch.rand(1, 1, 16, 32, 32)
    set_locality(regional, 1.0)
    with torch.no_grad():
        np.testing.assert_allclose(run_in_onnxruntime_node(path, x, tmp_path), regional(x).numpy(), rtol=1e-4, atol=1e-4)
    with pytest.raises(TrainingError, match="norm=regional"):
        load_onnx_model(path)


def test_a_regional_run_ramps_from_the_whole_inputs_statistics_and_resumes_where_it_stopped(tmp_path):
    from rtliver_train import engine

    config = tiny_config(tmp_path, norm="regional", steps=10, regional_ramp=0.4)
    assert [regional_locality(config, s) for s in (0, 2, 4, 9)] == [0.0, 0.5, 1.0, 1.0]
    assert regional_locality(tiny_config(tmp_path, norm="instance"), 0) == 1.0
    cases = [tiny_case(seed) for seed in range(3)]
    assert build_stage(config, CPU, cases).network.config.norm == "regional"
    with pytest.raises(TrainingError, match="single network"):
        build_stage(tiny_config(tmp_path, norm="regional", method="gtan", teacher_checkpoint="t.pt"), CPU, cases)
    with pytest.raises(TrainingError, match="regional_ramp"):
        build_stage(tiny_config(tmp_path, norm="regional", regional_ramp=1.5), CPU, cases)
    straight = engine.train(tiny_config(tmp_path / "straight", norm="regional", steps=4), cases, [])
    engine.train(tiny_config(tmp_path / "resumed", norm="regional", steps=2), cases, [])
    resumed = engine.train(tiny_config(tmp_path / "resumed", norm="regional", steps=4, resume=True), cases, [])
    assert load_model(resumed)[0].config.norm == "regional"
    for (name, a), b in zip(load_model(straight)[0].state_dict().items(), load_model(resumed)[0].state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)
