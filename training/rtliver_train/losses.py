"""Losses: supervised Dice + cross-entropy, temperature-softened logit distillation (Hinton et al. 2015, as
used voxel-wise by Xu et al. 2021), and optional feature distillation by attention transfer.

All losses are means over the samples of the batch of per-sample values, so a batch split across DDP
processes (whose gradients are averaged) gives the same gradient as the whole batch in one process.
"""

from __future__ import annotations

from typing import Optional, Sequence

import torch
import torch.nn.functional as F


def soft_dice_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    """1 - soft Dice of the liver channel, per sample [N]. logits [N, 2, D, H, W], target [N, D, H, W]."""
    probability = torch.softmax(logits, dim=1)[:, 1]
    target = target.float()
    dims = tuple(range(1, probability.ndim))
    intersection = (probability * target).sum(dims)
    total = probability.sum(dims) + target.sum(dims)
    return 1 - (2 * intersection + eps) / (total + eps)


def cross_entropy_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Voxel-mean cross-entropy per sample [N]."""
    per_voxel = F.cross_entropy(logits, target.long(), reduction="none")  # [N, D, H, W]
    return per_voxel.flatten(1).mean(1)


def masked_mean(per_sample: torch.Tensor, keep: Optional[torch.Tensor]) -> torch.Tensor:
    """Mean over the batch of per-sample values [N], the samples with keep = 0 counted as 0 but still divided by
    N, so the value stays a mean of per-sample values whatever the DDP split."""
    if keep is not None:
        per_sample = per_sample * keep.to(per_sample.dtype)
    return per_sample.mean()


def segmentation_loss(logits: torch.Tensor, target: torch.Tensor, labelled: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Dice + cross-entropy with equal weights (the usual nnU-Net choice), mean over the batch. `labelled` [N]
    (1 or 0) drops the samples without a label (unlabelled CTs learn from the teacher only)."""
    return masked_mean(soft_dice_loss(logits, target) + cross_entropy_loss(logits, target), labelled)


def distillation_loss(student_logits: torch.Tensor, teacher_logits: torch.Tensor, temperature: float,
                      taught: Optional[torch.Tensor] = None) -> torch.Tensor:
    """Voxel-wise KL(softmax(t / T) || softmax(s / T)) * T^2, mean over voxels then samples. The T^2 factor keeps
    gradient magnitudes comparable across temperatures (Hinton et al. 2015). The teacher is not differentiated.
    `taught` [N] (1 or 0), if given, drops the samples the teacher should not teach."""
    t = temperature
    teacher = torch.softmax(teacher_logits.detach() / t, dim=1)
    log_student = torch.log_softmax(student_logits / t, dim=1)
    log_teacher = torch.log_softmax(teacher_logits.detach() / t, dim=1)
    per_voxel = (teacher * (log_teacher - log_student)).sum(dim=1)  # [N, D, H, W]
    return masked_mean(per_voxel.flatten(1).mean(1), taught) * t * t


def attention_map(features: torch.Tensor) -> torch.Tensor:
    """Spatial attention (Zagoruyko & Komodakis, ICLR 2017): channel mean of squared activations, L2-normalised
    per sample. Independent of the channel count, so a narrow student can match a wide teacher."""
    attention = features.pow(2).mean(dim=1).flatten(1)
    return F.normalize(attention, dim=1)


def feature_distillation_loss(student_features: Sequence[torch.Tensor], teacher_features: Sequence[torch.Tensor],
                              taught: Optional[torch.Tensor] = None) -> torch.Tensor:
    losses = [masked_mean((attention_map(s) - attention_map(t.detach())).pow(2).sum(1), taught)
              for s, t in zip(student_features, teacher_features)]
    return torch.stack(losses).mean()
