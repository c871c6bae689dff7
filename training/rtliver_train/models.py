"""The rt-liver 3-D U-Net family: one width-parametrised, width-slimmable network.

Only operators that onnxruntime-web runs on WebGPU are used (FINDINGS.md): Conv (3-D), InstanceNormalization,
LeakyRelu, MaxPool (3-D), Resize (trilinear) and Add. There is no ConvTranspose 3-D: the decoder projects
channels with a 1x1x1 convolution at the coarse level and then upsamples with trilinear Resize. A 1x1x1
convolution commutes with trilinear interpolation (both are linear and the interpolation weights sum to 1), so
"project, then upsample" equals "upsample, then project" but costs 8x fewer multiply-adds.

Nor is there a Concat: a decoder's first convolution reads [skip, upsampled] as two convolutions that are
summed, conv(cat(a, b), [W_a, W_b]) = conv(a, W_a) + conv(b, W_b). The function and the weights are those of
the concatenating U-Net, but inference never holds the concatenation, which at full resolution is the largest
tensor: onnxruntime's peak during a 64x128x128 run drops from 93 to 75 MB for the students and from 345 to
273 MB for the teacher (docs/cli.md, Peak memory).

Shapes: input [N, 1, D, H, W] (D, H, W multiples of 8, three pooling levels), output logits [N, 2, D, H, W].

Every convolution and normalisation can run on a *slice* of its channels: the first c channels of every layer
(Yu et al., "Slimmable Neural Networks", ICLR 2019). The growing teacher assistant (GTAN, see README.md) trains
one network at several widths at once; its narrowest slice is the student. InstanceNorm normalises each sample
and channel on its own, so unlike BatchNorm it needs no per-width ("switchable") statistics: a slice's
normalisation is exactly that of a standalone network of that width.

Normalisation: InstanceNorm (the default, as nnU-Net) takes each channel's mean and variance over the whole
input, so what the network marks at one place depends on what else the field holds. Measured on ircadb-17
(training/results/robustness.md): the same slices of the lower liver came out at +12.6 % volume when the series
ended at the liver's middle and at -2.3 % with the real anatomy above in view; a slab of the upper liver -7.5 %,
a 300 mm field -7.3 %. With `norm="fixed"` every normalisation uses constant statistics instead
(`FixedStatisticsNorm3d`, set once from training inputs by `fix_normalisation_statistics`, as a BatchNorm at
inference or torchvision's FrozenBatchNorm2d), and the network becomes local: a voxel's output depends only
on its receptive field. Fixed statistics also lose what InstanceNorm gave for free: a darker (fatty) liver is
re-centred per series. `norm="mean-only"` keeps that half: each input's own channel means are subtracted, but
the scale is a constant (`MeanOnlyInstanceNorm3d`; mean-only normalisation, Salimans & Kingma, "Weight
Normalization", NeurIPS 2016), because the variance is what a field with little liver in it shrinks, and
dividing by it amplifies tissue that is only partly liver-like (the body wall, the colon at the liver's tip).
Measured, it does not pay: a lower slab's over-segmentation shrinks by less than the seeds' spread, and a field
holding more liver (an upper slab, a narrow in-plane field) under-segments more (training/results/robustness.md).
`norm="regional"` keeps both statistics but takes them per region, over the blocks around each voxel
(`RegionalInstanceNorm3d`): re-centred per region, blind to what lies far away. Measured, it empties the
interior of large organs (a channel that marks the liver is near-constant over it, and regional statistics
subtract it there): kept as a documented dead end, off by default.
"""

from __future__ import annotations

import copy
import math
from dataclasses import asdict, dataclass, field, replace
from typing import Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F

from .contract import MODEL_SHAPE

LEVELS = 4  # resolution levels: full, 1/2, 1/4, 1/8 -> input sizes must be multiples of 8
SIZE_DIVISOR = 2 ** (LEVELS - 1)
NEGATIVE_SLOPE = 0.01
NORMS = ("instance", "fixed", "mean-only", "regional")
CONSTANT_STATISTICS_NORMS = ("fixed", "mean-only")  # set from training inputs by fix_normalisation_statistics


@dataclass(frozen=True)
class UNetConfig:
    """Channels at each resolution level, full resolution first (e.g. (16, 32, 64, 96))."""

    channels: Tuple[int, int, int, int]
    in_channels: int = 1
    out_channels: int = 2
    norm: str = "instance"  # instance | fixed | mean-only | regional (module docstring)

    def __post_init__(self) -> None:
        if len(self.channels) != LEVELS or any(int(c) < 1 for c in self.channels):
            raise ValueError(f"UNetConfig.channels must be {LEVELS} positive integers, got {self.channels}")
        if self.norm not in NORMS:
            raise ValueError(f"UNetConfig.norm must be one of {NORMS}, got {self.norm!r}")
        object.__setattr__(self, "channels", tuple(int(c) for c in self.channels))

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(values: dict) -> "UNetConfig":
        return UNetConfig(channels=tuple(values["channels"]), in_channels=values.get("in_channels", 1),
                          out_channels=values.get("out_channels", 2), norm=values.get("norm", "instance"))


# The family. Students keep the full-resolution width at 4 channels: inference time is dominated by the
# full-resolution level (FINDINGS.md), so their parameters are spent at the coarse levels, where they are cheap.
PRESETS: Dict[str, UNetConfig] = {
    "teacher": UNetConfig(channels=(16, 32, 64, 120)),
    "student-100k": UNetConfig(channels=(4, 8, 16, 40)),
    "student-30k": UNetConfig(channels=(4, 8, 10, 12)),
    # TAKD's fixed-size assistant (Mirzadeh et al. 2020): about the geometric mean of teacher and 30 k student.
    "assistant-takd": UNetConfig(channels=(6, 12, 24, 48)),
}
# Parameter budgets (issue 5): teacher 1.1-1.5 M, students 100 k and 30 k within 5 %.
BUDGETS: Dict[str, Tuple[int, int]] = {
    "teacher": (1_100_000, 1_500_000),
    "student-100k": (95_000, 105_000),
    "student-30k": (28_500, 31_500),
}


def without_gradient_in(tensor: torch.Tensor, out: int, in_ranges: Sequence[Tuple[int, int]] = ()) -> torch.Tensor:
    """`tensor` with the block [:out, in_ranges] (a 1-D tensor: [:out]) cut from the gradient; values unchanged."""
    mask = torch.zeros(tensor.shape, dtype=torch.bool, device=tensor.device)
    if tensor.dim() == 1:
        mask[:out] = True
    for start, stop in in_ranges:
        mask[:out, start:stop] = True
    return torch.where(mask, tensor.detach(), tensor)


class SlimmableConv3d(nn.Conv3d):
    """A Conv3d that can run on its first `active_in` input and `active_out` output channels. With `frozen`
    (out, in) set, the block of its first `out` outputs and `in` inputs gets no gradient from this forward
    (GTAN's isolated student slice, UNet3d.set_frozen_slice)."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, bias: bool = True) -> None:
        super().__init__(in_channels, out_channels, kernel_size, padding=kernel_size // 2, bias=bias)
        self.active_out = out_channels
        self.frozen: Optional[Tuple[int, int]] = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [N, c_in_active, D, H, W]
        c_in, c_out = x.shape[1], self.active_out
        if c_in == self.in_channels and c_out == self.out_channels:
            weight, bias = self.weight, self.bias  # full width: plain Conv in ONNX
        else:
            weight = self.weight[:c_out, :c_in]
            bias = None if self.bias is None else self.bias[:c_out]
        if self.frozen:
            out, inputs = self.frozen
            weight = without_gradient_in(weight, out, [(0, inputs)])
            bias = None if bias is None else without_gradient_in(bias, out)
        return F.conv3d(x, weight, bias, padding=self.padding)


class ConcatInputConv3d(SlimmableConv3d):
    """The first conv of a decoder, reading a skip and an upsampled branch of c channels each as if they were
    concatenated (skip first): the weight's input axis is [skip 0..C-1, up 0..C-1] at full width C, and a
    slice of width c takes [0..c-1] and [C..C+c-1]. Computed as two convolutions summed (module docstring)."""

    def forward(self, skip: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
        # Python ints, not traced sizes: the ONNX export then folds both halves into constant weights.
        c_out, half_full = self.active_out, self.in_channels // 2
        c_skip, c_up = int(skip.shape[1]), int(up.shape[1])
        weight_skip = self.weight[:c_out, :c_skip]
        weight_up = self.weight[:c_out, half_full:half_full + c_up]
        bias = None if self.bias is None else self.bias[:c_out]
        if self.frozen:  # the same block in each half
            out, inputs = self.frozen
            weight_skip, weight_up = (without_gradient_in(w, out, [(0, inputs)]) for w in (weight_skip, weight_up))
            bias = None if bias is None else without_gradient_in(bias, out)
        return F.conv3d(skip, weight_skip, bias, padding=self.padding) + F.conv3d(up, weight_up, None, padding=self.padding)


class SlimmableInstanceNorm3d(nn.Module):
    """Affine InstanceNorm whose scale and shift are sliced to the active channel count."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.eps = 1e-5
        self.frozen = 0  # the first `frozen` channels' scale and shift get no gradient (UNet3d.set_frozen_slice)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        if c == self.weight.shape[0] and not self.frozen:
            return F.instance_norm(x, weight=self.weight, bias=self.bias, eps=self.eps)
        weight, bias = self.weight[:c], self.bias[:c]
        if self.frozen:
            weight, bias = without_gradient_in(weight, self.frozen), without_gradient_in(bias, self.frozen)
        return F.instance_norm(x, weight=weight, bias=bias, eps=self.eps)


class FixedStatisticsNorm3d(nn.Module):
    """Normalisation with constant per-channel statistics (buffers `mean`, `var`), then the affine scale and shift
    of the InstanceNorm it replaces (same parameter names, so a checkpoint's weights carry over). The statistics
    are set by `fix_normalisation_statistics` and stay fixed in training: only the affine and the convolutions
    learn, as with torchvision's FrozenBatchNorm2d."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("mean", torch.zeros(channels))
        self.register_buffer("var", torch.ones(channels))
        self.eps = 1e-5

    def scale_and_shift(self) -> Tuple[torch.Tensor, torch.Tensor]:
        """The constant per-channel affine this normalisation amounts to: y = x * scale + shift."""
        scale = self.weight * torch.rsqrt(self.var + self.eps)
        return scale, self.bias - self.mean * scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        scale, shift = self.scale_and_shift()
        return x * scale[:c].view(1, c, 1, 1, 1) + shift[:c].view(1, c, 1, 1, 1)


class MeanOnlyInstanceNorm3d(nn.Module):
    """Each input's own per-channel mean subtracted (as InstanceNorm), then divided by a constant per-channel
    standard deviation (buffer `var`, the mean within-input variance over training inputs, set by
    `fix_normalisation_statistics`), then the affine scale and shift of the InstanceNorm it replaces."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.register_buffer("var", torch.ones(channels))
        self.eps = 1e-5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = x.shape[1]
        # Mean over W, then H, then D: the same three ReduceMeans as the exported InstanceNorm (onnx_norm.py),
        # so float32 sums stay short on a million voxels and every runtime computes the same.
        mean = x.mean(dim=4, keepdim=True).mean(dim=3, keepdim=True).mean(dim=2, keepdim=True)
        scale, shift = self.weight * torch.rsqrt(self.var + self.eps), self.bias
        if c != scale.shape[0]:  # a slice; a whole network traces to constants, without Slice or Reshape
            scale, shift = scale[:c], shift[:c]
        return (x - mean) * scale[None, :, None, None, None] + shift[None, :, None, None, None]


REGIONAL_BLOCK = 16  # full-resolution voxels per side of the blocks RegionalInstanceNorm3d averages over


def regional_average(x: torch.Tensor, halvings: int) -> torch.Tensor:
    """Each voxel's trilinear blend of the means of the blocks of 2^halvings voxels per side around it.

    Halving with half-pixel trilinear Resize averages each 2x2x2 block exactly (even sizes), and Resize is in
    the WebGPU-safe operator set, where a grouped or pooling 3-D operator may not be (FINDINGS.md)."""
    y = x
    for _ in range(halvings):
        y = F.interpolate(y, scale_factor=0.5, mode="trilinear", align_corners=False)
    return F.interpolate(y, size=x.shape[2:], mode="trilinear", align_corners=False)


class RegionalInstanceNorm3d(nn.Module):
    """InstanceNorm whose mean and variance are each voxel's *regional* statistics: those of the blocks of
    REGIONAL_BLOCK full-resolution voxels per side around it (48 mm at the usual 3 mm grid spacing), blended
    trilinearly, so that what the field holds far away (the part of the patient a slab lacks, the sides a narrow
    field cuts) does not move the normalisation; then the affine scale and shift of the InstanceNorm it
    replaces (same parameter names, so an InstanceNorm network's weights carry over).

    `locality` in [0, 1] blends the whole input's statistics (0: InstanceNorm) with the regional ones (1), so a
    run can start from an InstanceNorm network's function and move to regional statistics gradually (engine);
    it is not part of the state and is 1 unless a training run sets it."""

    def __init__(self, channels: int, level: int) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.halvings = max(1, int(math.log2(REGIONAL_BLOCK)) - level)
        self.locality = 1.0
        self.eps = 1e-5

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c, block = x.shape[1], 2 ** self.halvings
        if any(int(n) % block for n in x.shape[2:]):
            raise ValueError(f"regional normalisation needs sizes divisible by {block} at this level, got "
                             f"{list(x.shape[2:])}: a network input's D, H, W must be multiples of {REGIONAL_BLOCK}")
        mean, square = regional_average(x, self.halvings), regional_average(x * x, self.halvings)
        if self.locality < 1.0:
            a = self.locality
            mean = a * mean + (1 - a) * x.mean(dim=(2, 3, 4), keepdim=True)
            square = a * square + (1 - a) * (x * x).mean(dim=(2, 3, 4), keepdim=True)
        var = F.relu(square - mean * mean)  # >= 0 but for rounding (a blend of block moments: Jensen); Relu is WebGPU-safe
        weight, bias = self.weight, self.bias
        if c != weight.shape[0]:
            weight, bias = weight[:c], bias[:c]
        return (x - mean) / torch.sqrt(var + self.eps) * weight[None, :, None, None, None] + bias[None, :, None, None, None]


NORM_MODULES = {"instance": SlimmableInstanceNorm3d, "fixed": FixedStatisticsNorm3d, "mean-only": MeanOnlyInstanceNorm3d}


def make_norm(norm: str, channels: int, level: int) -> nn.Module:
    """The normalisation `norm` for `channels` at resolution `level` (only the regional one depends on it)."""
    return RegionalInstanceNorm3d(channels, level) if norm == "regional" else NORM_MODULES[norm](channels)


class ConvNormAct(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, concat_input: bool = False, norm: str = "instance",
                 level: int = 0) -> None:
        super().__init__()
        conv_class = ConcatInputConv3d if concat_input else SlimmableConv3d
        # No bias: the normalisation subtracts each channel's mean, so a bias would only receive rounding noise.
        self.conv = conv_class(in_channels, out_channels, 3, bias=False)
        self.norm = make_norm(norm, out_channels, level)

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:  # one tensor, or (skip, up) for a decoder
        return F.leaky_relu(self.norm(self.conv(*inputs)), NEGATIVE_SLOPE)


class DoubleConv(nn.Module):
    def __init__(self, in_channels: int, out_channels: int, concat_input: bool = False, norm: str = "instance",
                 level: int = 0) -> None:
        super().__init__()
        self.first = ConvNormAct(in_channels, out_channels, concat_input, norm, level)
        self.second = ConvNormAct(out_channels, out_channels, norm=norm, level=level)

    def set_width(self, out_channels: int) -> None:
        self.first.conv.active_out = out_channels
        self.second.conv.active_out = out_channels

    def set_frozen(self, block: Optional[Tuple[int, int]]) -> None:
        """The (out, in) slice of the first conv that gets no gradient (None: every weight learns); the second conv
        and both normalisations freeze the same `out` channels."""
        self.first.conv.frozen = block
        self.second.conv.frozen = block and (block[0], block[0])
        for part in (self.first, self.second):
            if isinstance(part.norm, SlimmableInstanceNorm3d):
                part.norm.frozen = block[0] if block else 0

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:  # one tensor, or (skip, up) for a decoder
        return self.second(self.first(*inputs))


class UNet3d(nn.Module):
    """Encoder (DoubleConv + MaxPool) x 3, bottleneck, decoder (1x1x1 projection, trilinear x2, skip joined as
    if concatenated, DoubleConv) x 3, 1x1x1 head. See the module docstring for the operator choices."""

    def __init__(self, config: UNetConfig) -> None:
        super().__init__()
        self.config = config
        c = config.channels
        self.encoders = nn.ModuleList(
            [DoubleConv(config.in_channels if level == 0 else c[level - 1], c[level], norm=config.norm, level=level)
             for level in range(LEVELS)]
        )
        # Decoder level l (l = 2, 1, 0) receives level l+1 and the skip of level l.
        self.projections = nn.ModuleList([SlimmableConv3d(c[level + 1], c[level], 1) for level in range(LEVELS - 1)])
        self.decoders = nn.ModuleList([DoubleConv(2 * c[level], c[level], concat_input=True, norm=config.norm, level=level)
                                       for level in range(LEVELS - 1)])
        self.head = SlimmableConv3d(c[0], config.out_channels, 1)
        self.active_channels: Tuple[int, ...] = c

    # ---- width slicing -------------------------------------------------------------------------------------
    def set_active_channels(self, channels: Optional[Sequence[int]] = None) -> None:
        """Run on the first channels[l] channels of every layer at level l (None: full width)."""
        channels = tuple(self.config.channels if channels is None else (int(x) for x in channels))
        if len(channels) != LEVELS or any(not 1 <= a <= f for a, f in zip(channels, self.config.channels)):
            raise ValueError(f"active channels {channels} must lie within 1..{self.config.channels}")
        for level in range(LEVELS):
            self.encoders[level].set_width(channels[level])
        for level in range(LEVELS - 1):
            self.projections[level].active_out = channels[level]
            self.decoders[level].set_width(channels[level])
        self.active_channels = channels

    def set_frozen_slice(self, channels: Optional[Sequence[int]] = None) -> None:
        """Until called again with None, the slice of width `channels` (per level) gets no gradient from a forward:
        the weights a network of that width would use (GTAN's isolated student: the assistant's losses then move
        only the assistant's own channels). Values are unchanged, so outputs are too."""
        ch = None if channels is None else tuple(int(x) for x in channels)  # `ch and (...)` below: None when unset
        for level in range(LEVELS):
            self.encoders[level].set_frozen(ch and (ch[level], self.config.in_channels if level == 0 else ch[level - 1]))
        for level in range(LEVELS - 1):
            self.projections[level].frozen = ch and (ch[level], ch[level + 1])
            self.decoders[level].set_frozen(ch and (ch[level], ch[level]))  # each half: skip and upsampled branch
        self.head.frozen = ch and (self.config.out_channels, ch[0])

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # x: [N, 1, D, H, W]
        return self.forward_with_features(x)[0]

    def forward_with_features(self, x: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        """Logits and the encoder outputs of every level (for feature distillation)."""
        skips: List[torch.Tensor] = []
        for level, encoder in enumerate(self.encoders):
            if level > 0:
                x = F.max_pool3d(x, kernel_size=2, stride=2)  # [N, c, D/2^l, H/2^l, W/2^l]
            x = encoder(x)
            skips.append(x)
        for level in reversed(range(LEVELS - 1)):
            x = self.projections[level](x)  # channels c[l+1] -> c[l] at the coarse level
            x = F.interpolate(x, scale_factor=2.0, mode="trilinear", align_corners=False)
            x = self.decoders[level](skips[level], x)  # as cat([skip, upsampled]), without the concatenation
        return self.head(x), skips  # [N, 2, D, H, W], [N, c_l, D/2^l, H/2^l, W/2^l]


def build_model(config: UNetConfig) -> UNet3d:
    return UNet3d(config)


@torch.no_grad()
def fix_normalisation_statistics(network: UNet3d, inputs: Sequence[torch.Tensor], norm: str = "fixed") -> UNet3d:
    """The same network with every InstanceNorm replaced by a `FixedStatisticsNorm3d` (norm="fixed") whose
    statistics are each channel's mean and variance pooled over `inputs` ([1, 1, D, H, W] each; pooled as over
    one concatenated volume: the mean of the means, the mean of var + mean^2 minus the squared mean), or by a
    `MeanOnlyInstanceNorm3d` (norm="mean-only") whose constant variance is the mean of the inputs' own
    variances (each input still subtracts its own mean). On inputs like those, the new network computes what
    the old one did on average; its output no longer changes with what the field holds (fixed), or only through
    each channel's mean (mean-only)."""
    if norm not in CONSTANT_STATISTICS_NORMS:
        raise ValueError(f"norm must be one of {CONSTANT_STATISTICS_NORMS}, got {norm!r}")
    if network.config.norm != "instance":
        raise ValueError(f"the network's normalisation is already {network.config.norm!r}")
    if not inputs:
        raise ValueError("no inputs to take the normalisation statistics from")
    recorded: Dict[str, List[Tuple[torch.Tensor, torch.Tensor]]] = {}
    hooks = []
    for name, module in network.named_modules():
        if isinstance(module, SlimmableInstanceNorm3d):
            def record(_module, args, _out, name=name):
                x = args[0].double()
                recorded.setdefault(name, []).append((x.mean(dim=(0, 2, 3, 4)), x.var(dim=(0, 2, 3, 4), unbiased=False)))
            hooks.append(module.register_forward_hook(record))
    was_training = network.training
    network.eval()
    try:
        for x in inputs:
            network(x)
    finally:
        for hook in hooks:
            hook.remove()
        network.train(was_training)
    replaced = UNet3d(replace(network.config, norm=norm))
    replaced.load_state_dict(network.state_dict(), strict=False)  # everything but the new statistics
    replaced.set_active_channels(network.active_channels)
    modules = dict(replaced.named_modules())
    for name, stats in recorded.items():
        means = torch.stack([m for m, _ in stats])
        mean = means.mean(0)
        c = mean.shape[0]
        if norm == "fixed":
            var = torch.stack([v + m ** 2 for m, v in stats]).mean(0) - mean ** 2
            modules[name].mean[:c] = mean.float()
        else:  # each input subtracts its own mean: only the spread about it matters
            var = torch.stack([v for _, v in stats]).mean(0)
        modules[name].var[:c] = var.clamp_min(0).float()
    return replaced.to(next(network.parameters()).device).train(was_training)


def with_regional_normalisation(network: UNet3d) -> UNet3d:
    """The same network with every InstanceNorm's statistics taken per region (`RegionalInstanceNorm3d`): the
    affine weights carry over, nothing is measured."""
    if network.config.norm != "instance":
        raise ValueError(f"the network's normalisation is already {network.config.norm!r}")
    regional = UNet3d(replace(network.config, norm="regional"))
    regional.load_state_dict(network.state_dict())
    regional.set_active_channels(network.active_channels)
    return regional.to(next(network.parameters()).device).train(network.training)


def set_locality(network: nn.Module, locality: float) -> None:
    """Blend every regional normalisation's statistics: 0 = the whole input's (InstanceNorm), 1 = regional."""
    if not 0.0 <= locality <= 1.0:
        raise ValueError(f"locality must lie in [0, 1], got {locality}")
    for module in network.modules():
        if isinstance(module, RegionalInstanceNorm3d):
            module.locality = float(locality)


def zero_inputs_beyond(model: UNet3d, channels: Sequence[int]) -> None:
    """Zero every weight that reads a channel beyond `channels` (per level). Channels that become active later
    then start with no influence on the output: widening the active slice is function-preserving at that
    moment, the property Net2Net (Chen et al., ICLR 2016) asks of a growing network, reached here by
    zero-initialising the consumer side instead of replicating units."""
    c = tuple(channels)
    with torch.no_grad():
        for level in range(LEVELS):
            encoder = model.encoders[level]
            if level > 0:
                encoder.first.conv.weight[:, c[level - 1]:] = 0
            encoder.second.conv.weight[:, c[level]:] = 0
        for level in range(LEVELS - 1):
            model.projections[level].weight[:, c[level + 1]:] = 0
            decoder = model.decoders[level]
            half = decoder.first.conv.in_channels // 2
            decoder.first.conv.weight[:, c[level]:half] = 0
            decoder.first.conv.weight[:, half + c[level]:] = 0
            decoder.second.conv.weight[:, c[level]:] = 0
        model.head.weight[:, c[0]:] = 0


def interpolate_channels(low: Sequence[int], high: Sequence[int], fraction: float) -> Tuple[int, ...]:
    """Per-level widths a fraction of the way from `low` to `high` (rounded, at least `low`)."""
    fraction = min(max(fraction, 0.0), 1.0)
    return tuple(max(a, min(b, int(round(a + fraction * (b - a))))) for a, b in zip(low, high))


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def count_parameters_for(config: UNetConfig) -> int:
    return count_parameters(UNet3d(config))


def count_flops(config: UNetConfig, shape: Sequence[int] = MODEL_SHAPE) -> float:
    """Multiply-accumulates x 2 of the convolutions for one [1, 1, *shape] input (norms and resizes, which are
    a few operations per voxel, are left out). This is the figure reported as "flops" in the manifest."""
    d, h, w = shape
    c = config.channels
    voxels = [d * h * w / 8 ** level for level in range(LEVELS)]
    macs = 0.0
    for level in range(LEVELS):
        c_in = config.in_channels if level == 0 else c[level - 1]
        macs += voxels[level] * 27 * (c_in * c[level] + c[level] * c[level])
    for level in range(LEVELS - 1):
        macs += voxels[level + 1] * c[level + 1] * c[level]  # 1x1x1 projection at the coarse level
        macs += voxels[level] * 27 * (2 * c[level] * c[level] + c[level] * c[level])
    macs += voxels[0] * c[0] * config.out_channels
    return 2.0 * macs


@torch.no_grad()
def fold_fixed_normalisation(model: UNet3d) -> UNet3d:
    """A copy of a norm="fixed" network with every normalisation folded into the convolution before it (a
    constant per-channel scale and shift: weight * scale, bias = shift), for export: the ONNX graph is then
    Conv, LeakyRelu, MaxPool, Resize and Add only. The same function within float32 rounding."""
    if model.config.norm != "fixed":
        raise ValueError(f"only a norm='fixed' network folds, not {model.config.norm!r}")
    folded = copy.deepcopy(model).eval()
    for module in folded.modules():
        if isinstance(module, ConvNormAct):
            scale, shift = module.norm.scale_and_shift()
            module.conv.weight.mul_(scale.view(-1, 1, 1, 1, 1))
            module.conv.bias = nn.Parameter(shift)
            module.norm = nn.Identity()
    return folded


def extract_slice(model: UNet3d, channels: Sequence[int]) -> UNet3d:
    """A standalone UNet3d of width `channels` holding a copy of `model`'s first channels (the slimmable slice).
    Its output equals `model` run with set_active_channels(channels)."""
    small = UNet3d(replace(model.config, channels=tuple(channels)))
    big_state = model.state_dict()
    sliced = {}
    for name, small_tensor in small.state_dict().items():
        big = big_state[name]
        if name.startswith("decoders.") and name.endswith("first.conv.weight"):
            # input axis is [skip channels, upsampled channels]: take the first of each half
            c_out, c_in2 = small_tensor.shape[:2]
            half, half_full = c_in2 // 2, big.shape[1] // 2
            sliced[name] = torch.cat([big[:c_out, :half], big[:c_out, half_full:half_full + half]], dim=1).clone()
        else:
            sliced[name] = big[tuple(slice(0, n) for n in small_tensor.shape)].clone()
    small.load_state_dict(sliced)
    return small
