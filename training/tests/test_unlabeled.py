"""Unlabelled CTs in distillation: views written and read back, samples drawn from them carry no label loss,
and runs without them draw exactly what they drew before."""

from dataclasses import replace

import numpy as np
import pytest
import torch

from layouts import phantom, save_nifti
from rtliver_train.checkpoint import load_checkpoint, load_export_model
from rtliver_train.datasets import PreparedCase
from rtliver_train.engine import Runtime, build_stage, sample_batch, train
from rtliver_train.errors import TrainingError
from rtliver_train.losses import segmentation_loss
from rtliver_train.preprocess import MODEL_SHAPE
from rtliver_train.unlabeled import load_unlabeled_cases, write_views
from tiny import SHAPE, tiny_case, tiny_config

CPU = Runtime(torch.device("cpu"), 0, 1)


def unlabelled(case: PreparedCase, mask_value: int = 0) -> PreparedCase:
    return PreparedCase(f"{case.id}-u", case.image, np.full_like(case.mask, mask_value), labelled=False)


def test_label_loss_of_an_unlabelled_sample_is_zero_and_the_mean_keeps_the_batch_size():
    torch.manual_seed(0)
    logits, target = torch.randn(2, 2, 3, 4, 5), torch.randint(0, 2, (2, 3, 4, 5))
    first = segmentation_loss(logits[:1], target[:1])
    assert segmentation_loss(logits, target, torch.tensor([1.0, 0.0])).item() == pytest.approx(first.item() / 2)
    assert segmentation_loss(logits, target, torch.tensor([0.0, 0.0])).item() == 0.0


def test_views_are_written_on_the_model_grid_and_read_back_without_labels(tmp_path):
    hu, _ = phantom(0)
    source = save_nifti(tmp_path / "ct.nii.gz", hu.astype(np.float32))
    ids = write_views([source], tmp_path / "views", views=3, seed=0)
    assert ids == ["ct-u000", "ct-u001", "ct-u002"]
    stored = [np.load(tmp_path / "views" / "cases" / f"{i}.npz")["hu"] for i in ids]
    assert all(s.shape == MODEL_SHAPE for s in stored)
    assert not np.array_equal(stored[0], stored[1])  # an augmented view differs from the series as it is
    cases = load_unlabeled_cases(tmp_path / "views", SHAPE, (-200.0, 300.0))
    assert [c.shape for c in (cases[0].image, cases[0].mask)] == [SHAPE, SHAPE]
    assert not any(c.labelled for c in cases) and not any(c.mask.any() for c in cases)
    assert all(-1.0 <= c.image.min() and c.image.max() <= 1.0 for c in cases)


def test_samples_come_from_both_pools_and_runs_without_unlabelled_cts_draw_as_before(tmp_path):
    cases, pool = [tiny_case(0), tiny_case(1)], [unlabelled(tiny_case(2))]
    config = tiny_config(tmp_path, batch_size=8, unlabeled_fraction=0.5)
    flags = torch.cat([sample_batch(cases, config, step, CPU, pool)[2] for step in range(5)])
    assert 0 < flags.sum() < len(flags)  # both pools drawn
    before = sample_batch(cases, replace(config, unlabeled_fraction=0.0), 3, CPU)
    now = sample_batch(cases, config, 3, CPU)  # no unlabelled pool: the fraction draws nothing
    assert all(torch.equal(a, b) for a, b in zip(before, now)) and now[2].eq(1).all()


def test_an_unlabelled_cts_mask_never_reaches_the_loss(tmp_path):
    teacher = train(tiny_config(tmp_path / "teacher", channels=(6, 8, 10, 12), steps=3), [tiny_case(0)], [])
    kd = dict(method="kd", teacher_checkpoint=str(teacher), steps=3, channels=(2, 4, 4, 6), unlabeled_fraction=0.5)
    cases = [tiny_case(0), tiny_case(1)]

    def student(name, pool):
        model, _ = load_export_model(train(tiny_config(tmp_path / name, **kd), cases, [], unlabeled_cases=pool))
        return torch.cat([p.detach().flatten() for p in model.parameters()])

    empty_masks, full_masks = student("a", [unlabelled(tiny_case(2), 0)]), student("b", [unlabelled(tiny_case(2), 1)])
    assert torch.equal(empty_masks, full_masks)  # whatever an unlabelled case's mask holds, only KD teaches on it
    assert not torch.equal(empty_masks, student("c", []))  # ... and it does teach
    assert load_checkpoint(tmp_path / "a" / "ckpt.pt")["training_summary"]["n_unlabeled"] == 1


def test_unlabelled_cts_without_a_teacher_are_refused(tmp_path):
    config = tiny_config(tmp_path, method="none", unlabeled_fraction=0.5)
    with pytest.raises(TrainingError, match="need a teacher"):
        train(config, [tiny_case(0)], [], unlabeled_cases=[unlabelled(tiny_case(1))])
    with pytest.raises(TrainingError, match="no unlabeled_root"):
        train(replace(config, method="kd", teacher_checkpoint="x.pt"), [tiny_case(0)], [])


def test_kd_on_unlabelled_samples_only_leaves_the_labelled_ones_to_their_labels(tmp_path):
    teachers = [train(tiny_config(tmp_path / f"t{seed}", channels=(6, 8, 10, 12), steps=2, seed=seed), [tiny_case(0)], [])
                for seed in (0, 1)]
    case = tiny_case(1)
    x, y = torch.from_numpy(case.image)[None, None], torch.from_numpy(case.mask)[None]

    def losses(kd_samples):
        """The loss of one sample, labelled and then unlabelled, under each teacher (same student weights)."""
        values = []
        for teacher in teachers:
            config = tiny_config(tmp_path / "s", method="kd", teacher_checkpoint=str(teacher), channels=(2, 4, 4, 6),
                                 unlabeled_fraction=0.5, kd_samples=kd_samples, patch=SHAPE)
            stage = build_stage(config, CPU)
            values.append([stage.objective(stage.module, x, y, torch.tensor([flag]), 0.0)[0].item() for flag in (1.0, 0.0)])
        return values

    (labelled_a, unlabelled_a), (labelled_b, unlabelled_b) = losses("unlabeled")
    assert labelled_a == labelled_b  # a labelled sample learns from its label alone, whoever the teacher is
    assert unlabelled_a != unlabelled_b and unlabelled_a > 0  # an unlabelled one still learns from the teacher
    (labelled_a, _), (labelled_b, _) = losses("all")
    assert labelled_a != labelled_b  # the default: the teacher teaches every sample


def test_kd_on_unlabelled_samples_needs_unlabelled_samples(tmp_path):
    config = tiny_config(tmp_path, method="kd", teacher_checkpoint="x.pt", kd_samples="unlabeled")
    with pytest.raises(TrainingError, match="teacher would teach nothing"):
        train(config, [tiny_case(0)], [])
    with pytest.raises(TrainingError, match="Unknown kd_samples"):
        build_stage(replace(config, kd_samples="labelled"), CPU)
