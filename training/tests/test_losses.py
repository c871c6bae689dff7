import math

import pytest
import torch

from rtliver_train.losses import (attention_map, cross_entropy_loss, distillation_loss, feature_distillation_loss,
                                  segmentation_loss, soft_dice_loss)


def logits_of(pairs):
    """[N=1, 2, 1, 1, V] from a list of (background, liver) logits."""
    return torch.tensor(pairs, dtype=torch.float64).T.reshape(1, 2, 1, 1, len(pairs))


def test_kd_loss_matches_hand_computed_values():
    student, teacher, T = logits_of([(0.0, 1.0), (2.0, 0.0)]), logits_of([(0.0, 3.0), (0.0, 0.0)]), 2.0
    expected = 0.0
    for (s0, s1), (t0, t1) in [((0.0, 1.0), (0.0, 3.0)), ((2.0, 0.0), (0.0, 0.0))]:
        p = [math.exp(t0 / T) / (math.exp(t0 / T) + math.exp(t1 / T)), math.exp(t1 / T) / (math.exp(t0 / T) + math.exp(t1 / T))]
        q = [math.exp(s0 / T) / (math.exp(s0 / T) + math.exp(s1 / T)), math.exp(s1 / T) / (math.exp(s0 / T) + math.exp(s1 / T))]
        expected += sum(pi * math.log(pi / qi) for pi, qi in zip(p, q))
    expected = expected / 2 * T * T  # mean over the 2 voxels, times T^2
    assert distillation_loss(student, teacher, T).item() == pytest.approx(expected, rel=1e-9)
    # by hand: voxel 1 p = (0.1824, 0.8176), q = (0.3775, 0.6225); voxel 2 p = (0.5, 0.5), q = (0.7311, 0.2689)
    by_hand = 0.5 * 4 * (0.18242552 * math.log(0.18242552 / 0.37754067) + 0.81757448 * math.log(0.81757448 / 0.62245933)
                         + 0.5 * math.log(0.5 / 0.73105858) + 0.5 * math.log(0.5 / 0.26894142))
    assert expected == pytest.approx(by_hand, rel=1e-6)
    assert by_hand == pytest.approx(0.42070538, rel=1e-6)


def test_kd_loss_is_zero_for_identical_logits_and_does_not_train_the_teacher():
    teacher = logits_of([(0.3, -1.0), (2.0, 1.0)]).requires_grad_()
    student = teacher.detach().clone().requires_grad_()
    loss = distillation_loss(student, teacher, 4.0)
    assert loss.item() == pytest.approx(0.0, abs=1e-12)
    distillation_loss(student * 0.5, teacher, 4.0).backward()
    assert teacher.grad is None and student.grad is not None


def test_high_temperature_limit_is_logit_matching():
    # For two classes and T -> infinity, T^2 KL -> (d_s - d_t)^2 / 8 with d the logit differences (Hinton et al.):
    # the T^2 factor keeps the loss finite instead of vanishing as 1/T^2.
    s, t = logits_of([(0.0, 1.0)]), logits_of([(0.0, 2.0)])
    assert distillation_loss(s, t, 100.0).item() == pytest.approx(1 / 8, rel=1e-3)


def test_dice_and_cross_entropy_hand_values():
    logits = logits_of([(0.0, 10.0), (10.0, 0.0), (0.0, 0.0)])
    target = torch.tensor([1, 0, 1]).reshape(1, 1, 1, 3)
    p = torch.softmax(logits, 1)[0, 1].flatten()
    dice = (2 * (p[0] + p[2]) + 1) / (p.sum() + 2 + 1)
    assert soft_dice_loss(logits, target).item() == pytest.approx(1 - dice.item())
    ce = -(math.log(p[0].item()) + math.log(1 - p[1].item()) + math.log(0.5)) / 3
    assert cross_entropy_loss(logits, target).item() == pytest.approx(ce, rel=1e-6)
    assert segmentation_loss(logits, target).item() == pytest.approx(1 - dice.item() + ce, rel=1e-6)


def test_losses_are_means_of_per_sample_values():
    torch.manual_seed(0)
    logits, target = torch.randn(2, 2, 2, 3, 4), torch.randint(0, 2, (2, 2, 3, 4))
    whole = segmentation_loss(logits, target)
    halves = (segmentation_loss(logits[:1], target[:1]) + segmentation_loss(logits[1:], target[1:])) / 2
    assert whole.item() == pytest.approx(halves.item(), rel=1e-6)


def test_distillation_can_leave_samples_out_and_still_divides_by_the_batch():
    torch.manual_seed(0)
    student, teacher = torch.randn(2, 2, 2, 3, 4), torch.randn(2, 2, 2, 3, 4)
    first = distillation_loss(student[:1], teacher[:1], 2.0)
    assert distillation_loss(student, teacher, 2.0, torch.tensor([1.0, 0.0])).item() == pytest.approx(first.item() / 2)
    features_s, features_t = [torch.randn(2, 3, 2, 3, 4)], [torch.randn(2, 5, 2, 3, 4)]
    first = feature_distillation_loss([features_s[0][:1]], [features_t[0][:1]])
    taught = feature_distillation_loss(features_s, features_t, torch.tensor([1.0, 0.0]))
    assert taught.item() == pytest.approx(first.item() / 2)


def test_feature_distillation_ignores_channel_count():
    torch.manual_seed(0)
    wide = torch.randn(1, 16, 4, 4, 4)
    assert attention_map(wide).shape == (1, 64)
    narrow = wide[:, :3]
    assert feature_distillation_loss([narrow], [wide]).item() > 0
    assert feature_distillation_loss([wide.repeat(1, 2, 1, 1, 1)], [wide]).item() == pytest.approx(0.0, abs=1e-10)
