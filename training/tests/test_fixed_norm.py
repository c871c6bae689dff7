"""norm="fixed": constant normalisation statistics, so what the network marks at a place does not depend on what
else the field holds (models.py, robustness.md)."""

import subprocess
from pathlib import Path

import numpy as np
import onnx
import pytest
import torch

from rtliver_train.checkpoint import load_model, save_checkpoint
from rtliver_train.engine import build_stage, statistics_inputs
from rtliver_train.errors import TrainingError
from rtliver_train.export import check_onnx, export_onnx
from rtliver_train.models import (FixedStatisticsNorm3d, MeanOnlyInstanceNorm3d, UNet3d, UNetConfig,
                                  fix_normalisation_statistics, fold_fixed_normalisation)
from rtliver_train.engine import Runtime
from tiny import tiny_case, tiny_config

CPU = Runtime(torch.device("cpu"), 0, 1)
REPO_ROOT = Path(__file__).resolve().parents[2]

CHANNELS = (2, 3, 4, 5)


def trained_looking(seed=0, channels=CHANNELS):
    """A network whose affine normalisation parameters are not the identity (as after training)."""
    torch.manual_seed(seed)
    model = UNet3d(UNetConfig(channels=channels))
    with torch.no_grad():
        for p in model.parameters():
            if p.ndim == 1:
                p.uniform_(0.5, 1.5)
    return model.eval()


def run_in_onnxruntime_node(path, x, tmp_path):
    """The logits onnxruntime-node (the CLI's runtime) computes from the exported graph at `path` on `x`."""
    x.numpy().astype("<f4").tofile(tmp_path / "x.bin")
    shape = ", ".join(str(n) for n in x.shape)
    script = (f"const ort = require('onnxruntime-node'); const fs = require('fs');"
              f"(async () => {{ const s = await ort.InferenceSession.create('{path}');"
              f"const x = new Float32Array(fs.readFileSync('{tmp_path / 'x.bin'}').buffer.slice(0));"
              f"const r = await s.run({{ ct: new ort.Tensor('float32', x, [{shape}]) }});"
              f"fs.writeFileSync('{tmp_path / 'y.bin'}', Buffer.from(r.logits.data.buffer)); }})();")
    subprocess.run(["node", "-e", script], check=True, cwd=REPO_ROOT)
    return np.fromfile(tmp_path / "y.bin", dtype="<f4").reshape(1, 2, *x.shape[2:])


def test_statistics_of_one_input_reproduce_instance_norm_on_that_input():
    model = trained_looking()
    x = torch.rand(1, 1, 16, 16, 16)
    fixed = fix_normalisation_statistics(model, [x]).eval()
    assert fixed.config.norm == "fixed" and model.config.norm == "instance"
    assert all(isinstance(m, FixedStatisticsNorm3d) for n, m in fixed.named_modules() if n.endswith(".norm"))
    with torch.no_grad():
        torch.testing.assert_close(fixed(x), model(x), rtol=1e-4, atol=1e-4)


def test_pooled_statistics_are_those_of_the_inputs_taken_together():
    model = trained_looking()
    inputs = [torch.rand(1, 1, 16, 16, 16) * s for s in (1.0, 3.0)]
    fixed = fix_normalisation_statistics(model, inputs)
    first = model.encoders[0].first.conv  # the first normalisation sees the first convolution's output
    with torch.no_grad():
        together = torch.cat([first(x) for x in inputs], dim=2)  # one volume of both: its per-channel mean and variance
    norm = fixed.encoders[0].first.norm
    torch.testing.assert_close(norm.mean, together.mean(dim=(0, 2, 3, 4)), rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(norm.var, together.var(dim=(0, 2, 3, 4), unbiased=False), rtol=1e-4, atol=1e-5)


def test_far_away_content_changes_instance_norm_output_but_not_fixed():
    """A 1x8x8x256 strip: content changed at x >= 192 moves InstanceNorm's output at x < 32 (beyond the
    receptive field: only the statistics carry it there), and leaves the fixed network's untouched."""
    model = trained_looking()
    torch.manual_seed(1)
    a = torch.rand(1, 1, 8, 8, 256)
    b = a.clone()
    b[..., 192:] = 1.0  # e.g. much more liver-bright tissue, or air, far away
    fixed = fix_normalisation_statistics(model, [a]).eval()
    with torch.no_grad():
        near_in = (model(a) - model(b))[..., :32].abs().max().item()
        near_fixed = (fixed(a) - fixed(b))[..., :32].abs().max().item()
        far_fixed = (fixed(a) - fixed(b))[..., 192:].abs().max().item()
    assert near_in > 1e-3
    assert near_fixed < 1e-6
    assert far_fixed > 1e-3  # the change itself is seen where it is


def test_folding_into_the_convolutions_is_the_same_function_and_exports_without_normalisation(tmp_path):
    model = trained_looking()
    x = torch.rand(1, 1, 16, 16, 16)
    fixed = fix_normalisation_statistics(model, [torch.rand(1, 1, 16, 16, 16)]).eval()
    folded = fold_fixed_normalisation(fixed)
    with torch.no_grad():
        torch.testing.assert_close(folded(x), fixed(x), rtol=1e-4, atol=1e-5)
    path = tmp_path / "fixed.onnx"
    export_onnx(fixed, path)
    check_onnx(path)
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert ops <= {"Conv", "LeakyRelu", "MaxPool", "Resize", "Add", "Constant"}, ops
    # onnxruntime-node (the CLI's runtime) runs the exported graph to the same output
    with torch.no_grad():
        np.testing.assert_allclose(run_in_onnxruntime_node(path, x, tmp_path), fixed(x).numpy(), rtol=1e-4, atol=1e-4)


def test_a_fixed_network_round_trips_through_a_checkpoint(tmp_path):
    fixed = fix_normalisation_statistics(trained_looking(), [torch.rand(1, 1, 16, 16, 16)])
    path = tmp_path / "ckpt.pt"
    save_checkpoint(path, {"model_args": fixed.config.to_dict(), "model": fixed.state_dict()})
    loaded, _ = load_model(path)
    assert loaded.config.norm == "fixed"
    torch.testing.assert_close(loaded.encoders[2].second.norm.var, fixed.encoders[2].second.norm.var)


@pytest.mark.parametrize("norm", ["fixed", "mean-only"])
def test_a_run_with_constant_statistics_takes_them_from_the_training_images(tmp_path, norm):
    cases = [tiny_case(seed) for seed in range(3)]
    config = tiny_config(tmp_path, norm=norm, norm_statistics_cases=2)
    assert len(statistics_inputs(config, cases)) == 2
    stage = build_stage(config, CPU, cases)
    assert stage.network.config.norm == norm
    assert not torch.allclose(stage.network.encoders[0].first.norm.var, torch.ones(4))  # measured, not the start
    with pytest.raises(TrainingError, match="no"):
        build_stage(config, CPU, [])
    with pytest.raises(TrainingError, match="single network"):
        build_stage(tiny_config(tmp_path, norm=norm, method="gtan", teacher_checkpoint="t.pt"), CPU, cases)
    with pytest.raises(TrainingError, match="Unknown norm"):
        build_stage(tiny_config(tmp_path, norm="batch"), CPU, cases)


@pytest.mark.parametrize("norm", ["fixed", "mean-only"])
def test_reading_a_folded_export_back_is_refused_with_a_clear_error(tmp_path, norm):
    from rtliver_train.onnx_weights import load_onnx_model

    path = tmp_path / f"{norm}.onnx"
    export_onnx(fix_normalisation_statistics(trained_looking(), [torch.rand(1, 1, 16, 16, 16)], norm), path)
    with pytest.raises(TrainingError, match=f"folded.*norm={norm}"):
        load_onnx_model(path)


@pytest.mark.parametrize("norm", ["fixed", "mean-only"])
def test_a_resumed_run_keeps_the_statistics_it_started_with_without_measuring_them_again(tmp_path, monkeypatch, norm):
    from rtliver_train import engine

    cases = [tiny_case(seed) for seed in range(3)]
    straight = engine.train(tiny_config(tmp_path / "straight", norm=norm, steps=4), cases, [])
    engine.train(tiny_config(tmp_path / "resumed", norm=norm, steps=2), cases, [])

    def measured_again(*_args, **_kwargs):
        raise AssertionError("a resumed run measured its normalisation statistics again")

    monkeypatch.setattr(engine, "fix_normalisation_statistics", measured_again)
    resumed = engine.train(tiny_config(tmp_path / "resumed", norm=norm, steps=4, resume=True), cases, [])
    for (name, a), b in zip(load_model(straight)[0].state_dict().items(), load_model(resumed)[0].state_dict().values()):
        torch.testing.assert_close(a, b, msg=name)


# norm="mean-only": each input's own channel means, a constant scale (models.MeanOnlyInstanceNorm3d).

def test_mean_only_statistics_of_one_input_reproduce_instance_norm_on_that_input():
    model = trained_looking()
    x = torch.rand(1, 1, 16, 16, 16)
    centred = fix_normalisation_statistics(model, [x], "mean-only").eval()
    assert centred.config.norm == "mean-only"
    assert all(isinstance(m, MeanOnlyInstanceNorm3d) for n, m in centred.named_modules() if n.endswith(".norm"))
    with torch.no_grad():
        torch.testing.assert_close(centred(x), model(x), rtol=1e-4, atol=1e-4)


def test_mean_only_scale_is_the_mean_of_each_inputs_own_variance_not_the_pooled_one():
    model = trained_looking()
    inputs = [torch.rand(1, 1, 16, 16, 16) * s + o for s, o in ((1.0, 0.0), (3.0, 5.0))]
    centred = fix_normalisation_statistics(model, inputs, "mean-only")
    first = model.encoders[0].first.conv
    with torch.no_grad():
        own = torch.stack([first(x).var(dim=(0, 2, 3, 4), unbiased=False) for x in inputs]).mean(0)
        pooled = torch.cat([first(x) for x in inputs], dim=2).var(dim=(0, 2, 3, 4), unbiased=False)
    torch.testing.assert_close(centred.encoders[0].first.norm.var, own, rtol=1e-4, atol=1e-5)
    assert (pooled - own).abs().max() > 1e-2  # the two differ here: the inputs' means differ


def test_a_mean_only_network_exports_without_instance_normalization_and_runs_the_same_in_onnxruntime(tmp_path):
    centred = fix_normalisation_statistics(trained_looking(), [torch.rand(1, 1, 16, 16, 16)], "mean-only").eval()
    x = torch.rand(1, 1, 16, 16, 16)
    path = tmp_path / "mean-only.onnx"
    export_onnx(centred, path)
    check_onnx(path)
    ops = {n.op_type for n in onnx.load(str(path)).graph.node}
    assert "InstanceNormalization" not in ops and "ReduceMean" in ops, ops
    with torch.no_grad():
        np.testing.assert_allclose(run_in_onnxruntime_node(path, x, tmp_path), centred(x).numpy(), rtol=1e-4, atol=1e-4)
