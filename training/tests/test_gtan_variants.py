"""The GTAN variants of the distillation ablation (training/README.md, "GTAN variants") and the teacher-output
memory that makes whole-volume KD affordable on a CPU."""

import pytest
import torch

from rtliver_train.checkpoint import load_export_model, load_model
from rtliver_train.config import RunConfig
from rtliver_train.engine import FrozenOutputs, gtan_fraction, train
from rtliver_train.errors import TrainingError
from rtliver_train.models import UNet3d, UNetConfig, extract_slice
from tiny import SHAPE, tiny_case, tiny_config


@pytest.fixture(scope="module")
def teacher_checkpoint(tmp_path_factory):
    out = tmp_path_factory.mktemp("teacher")
    return train(tiny_config(out, channels=(6, 8, 10, 12), steps=3), [tiny_case(0), tiny_case(1)], [])


def test_continuous_growth_moves_every_step_and_staged_growth_holds_each_width():
    continuous = RunConfig(gtan_start=0.0, gtan_end=1.0)
    assert [gtan_fraction(continuous, p) for p in (0.0, 0.3, 1.0)] == [0.0, 0.3, 1.0]
    staged = RunConfig(gtan_start=0.0, gtan_end=1.0, gtan_stages=4)
    fractions = [gtan_fraction(staged, step / 99) for step in range(100)]
    assert sorted(set(fractions)) == pytest.approx([0.0, 1 / 3, 2 / 3, 1.0])
    assert fractions[:25] == [0.0] * 25 and fractions[-25:] == [1.0] * 25  # each width a quarter of the run
    shrinking = RunConfig(gtan_start=1.0, gtan_end=0.0, gtan_stages=2)
    assert [gtan_fraction(shrinking, p) for p in (0.0, 0.49, 0.5, 1.0)] == [1.0, 1.0, 0.0, 0.0]


def test_teacher_initialised_assistant_starts_as_the_teacher(tmp_path, teacher_checkpoint):
    config = tiny_config(tmp_path / "shrink", method="gtan", steps=0, channels=(2, 4, 4, 6), gtan_init="teacher",
                         gtan_start=1.0, gtan_end=0.0, teacher_checkpoint=str(teacher_checkpoint))
    network, _ = load_model(train(config, [tiny_case(0)], []))
    teacher, _ = load_export_model(teacher_checkpoint)
    x = torch.from_numpy(tiny_case(2).image)[None, None]
    with torch.no_grad():
        assert torch.allclose(network(x), teacher(x), atol=1e-6)
    # and the student is the teacher's first channels, so it starts from the teacher's filters
    student, _ = load_export_model(train(config, [tiny_case(0)], []))
    sliced = extract_slice(teacher, (2, 4, 4, 6))
    with torch.no_grad():
        assert torch.allclose(student(x), sliced(x), atol=1e-6)


def test_random_initialised_assistant_is_not_the_teacher(tmp_path, teacher_checkpoint):
    config = tiny_config(tmp_path / "grow", method="gtan", steps=0, channels=(2, 4, 4, 6),
                         teacher_checkpoint=str(teacher_checkpoint))
    network, _ = load_model(train(config, [tiny_case(0)], []))
    teacher, _ = load_export_model(teacher_checkpoint)
    x = torch.from_numpy(tiny_case(2).image)[None, None]
    with torch.no_grad():
        assert not torch.allclose(network(x), teacher(x), atol=1e-3)


def test_without_the_assistant_label_loss_the_student_trains_differently(tmp_path, teacher_checkpoint):
    cases = [tiny_case(0), tiny_case(1)]
    common = dict(method="gtan", steps=3, channels=(2, 4, 4, 6), teacher_checkpoint=str(teacher_checkpoint))
    with_labels, _ = load_export_model(train(tiny_config(tmp_path / "a", **common), cases, []))
    without, _ = load_export_model(train(tiny_config(tmp_path / "b", gtan_assistant_seg_weight=0.0, **common), cases, []))
    weights = [torch.cat([p.flatten() for p in m.parameters()]) for m in (with_labels, without)]
    assert not torch.allclose(*weights)


def test_unknown_gtan_init_is_refused_by_name(tmp_path, teacher_checkpoint):
    config = tiny_config(tmp_path / "bad", method="gtan", steps=1, channels=(2, 4, 4, 6), gtan_init="net2net",
                         teacher_checkpoint=str(teacher_checkpoint))
    with pytest.raises(TrainingError, match="gtan_init 'net2net'"):
        train(config, [tiny_case(0)], [])


def test_remembered_teacher_outputs_equal_a_fresh_forward_and_are_computed_once_per_volume():
    torch.manual_seed(0)
    teacher = UNet3d(UNetConfig(channels=(4, 4, 8, 8))).eval()
    calls = []
    original = teacher.forward_with_features
    teacher.forward_with_features = lambda x: (calls.append(x.shape[0]), original(x))[1]
    memory = FrozenOutputs(teacher, remember=True)
    a, b = (torch.from_numpy(tiny_case(seed).image)[None] for seed in (0, 1))
    batch = torch.stack([a, b])
    logits, features = memory(batch)
    again, _ = memory(torch.stack([b, a]))  # the same volumes in another order: nothing recomputed
    with torch.no_grad():
        fresh_logits, fresh_features = original(batch)
    assert torch.allclose(logits, fresh_logits, atol=1e-5)
    assert all(torch.allclose(f, g, atol=1e-5) for f, g in zip(features, fresh_features))
    assert torch.allclose(again, torch.cat([fresh_logits[1:], fresh_logits[:1]]), atol=1e-5)
    assert calls == [1, 1]  # one forward per distinct volume
    assert FrozenOutputs(teacher, remember=False)(batch)[0].shape == fresh_logits.shape
    assert calls == [1, 1, 2]  # without memory the whole batch goes to the network


def test_remembered_teacher_outputs_stay_within_their_budget_and_keep_features_only_when_asked():
    """Unbounded, the teacher's remembered outputs grew to 12.5 GB per run and the machine killed one. Past the
    budget an input is computed afresh (same values, nothing kept); without keep_features only logits are kept."""
    torch.manual_seed(0)
    teacher = UNet3d(UNetConfig(channels=(4, 4, 8, 8))).eval()
    volumes = [torch.from_numpy(tiny_case(seed).image)[None] for seed in range(3)]
    with torch.no_grad():
        one = teacher.forward_with_features(volumes[0][None])
    logits_bytes = one[0].numel() * one[0].element_size()
    memory = FrozenOutputs(teacher, remember=True, keep_features=False, budget_bytes=2 * logits_bytes)
    for volume in volumes:
        logits, features = memory(volume[None])
        with torch.no_grad():
            assert torch.allclose(logits, teacher.forward_with_features(volume[None])[0], atol=1e-5)
        assert features == []
    assert len(memory.memory) == 2 and memory.held_bytes == 2 * logits_bytes
    with_features = FrozenOutputs(teacher, remember=True)
    assert len(with_features(volumes[0][None])[1]) == len(one[1])
    assert with_features.held_bytes > 3 * logits_bytes  # the feature maps are what made it grow


def test_an_isolated_student_slice_is_not_moved_by_the_assistants_loss():
    torch.manual_seed(0)
    network = UNet3d(UNetConfig(channels=(6, 8, 10, 12)))
    student, assistant = (2, 4, 4, 6), (4, 6, 8, 10)
    x = torch.randn(1, 1, *SHAPE)

    def student_output():
        network.set_active_channels(student)
        with torch.no_grad():
            return network(x).clone()

    def assistant_step(isolate):
        """One SGD step on a loss of the assistant's output alone."""
        network.set_active_channels(assistant)
        network.set_frozen_slice(student if isolate else None)
        loss = network(x).pow(2).mean()
        network.set_frozen_slice(None)
        network.zero_grad()
        loss.backward()
        with torch.no_grad():
            for p in network.parameters():
                if p.grad is not None:
                    p -= 0.5 * p.grad

    before = student_output()
    network.set_active_channels(assistant)
    network.set_frozen_slice(student)
    with torch.no_grad():
        frozen_forward = network(x)
    network.set_frozen_slice(None)
    with torch.no_grad():
        assert torch.equal(frozen_forward, network(x))  # freezing changes gradients, not values
    assistant_step(isolate=True)
    torch.testing.assert_close(student_output(), before, rtol=0, atol=0)  # the student's slice did not move
    assistant_step(isolate=False)
    assert not torch.allclose(student_output(), before)  # the default: the assistant's loss moves the shared slice


def test_an_isolated_gtan_run_says_so_and_trains(tmp_path, teacher_checkpoint, capsys):
    config = tiny_config(tmp_path, method="gtan", teacher_checkpoint=str(teacher_checkpoint), channels=(2, 4, 4, 6),
                         gtan_isolate_student=True, steps=2)
    model, _ = load_export_model(train(config, [tiny_case(0)], []))
    assert model.config.channels == (2, 4, 4, 6)
    assert "student slice isolated from the assistant" in capsys.readouterr().out
