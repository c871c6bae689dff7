"""The training loop shared by every stage: data, objectives (none, kd, gtan), DDP, logging, checkpoints.

Determinism: the network is initialised from `seed`; the crops of step s come from a generator seeded with
(seed, s), the same in every process, and process r takes its share of that global batch. A run therefore
depends only on (config, data), a resumed run continues exactly where it stopped, and N processes with batch
B/N each compute the same update as one process with batch B (InstanceNorm has no cross-sample statistics and
every loss is a mean of per-sample values; DDP averages the gradients).
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.distributed as dist
import torch.nn as nn

from .checkpoint import load_checkpoint, load_export_model, load_model, load_state_into, rng_state, save_checkpoint
from .config import RunConfig
from .datasets import PreparedCase, discover, prepare_cases, select_split
from .errors import TrainingError
from .losses import distillation_loss, feature_distillation_loss, segmentation_loss
from .metrics import dice_score
from .models import (CONSTANT_STATISTICS_NORMS, NORMS, PRESETS, UNet3d, UNetConfig, count_parameters, extract_slice,
                     fix_normalisation_statistics, interpolate_channels, set_locality,
                     with_regional_normalisation, zero_inputs_beyond)
from .unlabeled import load_unlabeled_cases

METHODS = ("none", "kd", "gtan")  # takd = two kd stages (distill.py)
# What a frozen teacher's remembered outputs may hold per process: the logits of every case of a 300-case
# 64 x 128 x 128 dataset (8.4 MB each) fit, and two runs side by side fit a 24 GB machine.
TEACHER_MEMORY_BYTES = 3 << 30


# ---- runtime -----------------------------------------------------------------------------------------------
@dataclass
class Runtime:
    device: torch.device
    rank: int
    world_size: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @property
    def distributed(self) -> bool:
        return self.world_size > 1


def setup_runtime(config: RunConfig) -> Runtime:
    """Single process, or one of torchrun's processes (WORLD_SIZE > 1): gloo on CPU, nccl on GPUs."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    torch.set_num_threads(max(1, config.threads))
    world_size = int(os.environ.get("WORLD_SIZE", "1"))
    rank = int(os.environ.get("RANK", "0"))
    use_cuda = config.device == "cuda" or (config.device == "auto" and torch.cuda.is_available())
    if use_cuda:
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
    if world_size > 1 and not dist.is_initialized():
        dist.init_process_group(backend="nccl" if use_cuda else "gloo")
    if config.batch_size % world_size:
        raise TrainingError(f"batch_size {config.batch_size} is not divisible by {world_size} processes.",
                            "Choose a global batch that is a multiple of the process count.")
    return Runtime(device, rank, world_size)


def teardown_runtime(runtime: Runtime) -> None:
    if runtime.distributed and dist.is_initialized():
        dist.barrier()
        dist.destroy_process_group()


# ---- data ------------------------------------------------------------------------------------------------
def load_split_cases(config: RunConfig, part: str) -> List[PreparedCase]:
    cases = discover(config.data_layout, Path(config.data_root), config.liver_labels)
    selected = select_split(cases, Path(config.split_file), part)
    return prepare_cases(selected, config.grid, config.hu_window,
                         Path(config.cache_dir) if config.cache_dir else None)


def crop_start(rng: np.random.Generator, case: PreparedCase, patch: Sequence[int], foreground_fraction: float) -> Tuple[int, ...]:
    shape = case.image.shape
    if rng.random() < foreground_fraction and case.labelled and case.mask.any():
        voxels = np.argwhere(case.mask)
        centre = voxels[rng.integers(len(voxels))]
        start = [int(c) - p // 2 for c, p in zip(centre, patch)]
    else:
        start = [int(rng.integers(0, s - p + 1)) for s, p in zip(shape, patch)]
    return tuple(min(max(0, s), n - p) for s, n, p in zip(start, shape, patch))


def sample_batch(cases: Sequence[PreparedCase], config: RunConfig, step: int, runtime: Runtime,
                 unlabeled: Sequence[PreparedCase] = ()) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """This process's share of the global batch of step `step`: x [b, 1, *patch], y [b, *patch] and labelled [b]
    (0 for a sample drawn, with probability unlabeled_fraction, from the unlabelled CTs). Without unlabelled
    cases the random draws are exactly those of earlier versions, so old runs reproduce."""
    rng = np.random.default_rng([config.seed, step])
    patch = tuple(config.patch)
    xs, ys, labelled = [], [], []
    for _ in range(config.batch_size):
        pool = unlabeled if unlabeled and rng.random() < config.unlabeled_fraction else cases
        case = pool[int(rng.integers(len(pool)))]
        labelled.append(1.0 if case.labelled else 0.0)
        start = crop_start(rng, case, patch, config.foreground_crop_fraction)
        window = tuple(slice(s, s + p) for s, p in zip(start, patch))
        xs.append(case.image[window])
        ys.append(case.mask[window])
    share = config.batch_size // runtime.world_size
    mine = slice(runtime.rank * share, (runtime.rank + 1) * share)
    x = torch.from_numpy(np.stack(xs[mine]))[:, None].to(runtime.device)
    y = torch.from_numpy(np.stack(ys[mine]).astype(np.int64)).to(runtime.device)
    return x, y, torch.tensor(labelled[mine], device=runtime.device)


# ---- networks and objectives -----------------------------------------------------------------------------
def network_config(config: RunConfig) -> UNetConfig:
    if config.channels:
        return UNetConfig(channels=tuple(config.channels))
    if config.preset not in PRESETS:
        raise TrainingError(f"Unknown preset '{config.preset}'.", f"Use one of: {', '.join(sorted(PRESETS))}.")
    return PRESETS[config.preset]


class FrozenOutputs:
    """A frozen network's outputs (logits, features) for a batch, remembered per input when whole volumes are
    the training inputs (patch == grid): the same volumes then come back every few steps, and the teacher's
    forward, the dearest part of a KD or GTAN step on a CPU, is computed once per case instead of once per step.
    With random crops inputs rarely repeat, so nothing is remembered.

    The memory is bounded: features are kept only when a loss reads them (`keep_features`; a full-resolution
    feature map of the teacher is about 8 times its logits), and once `budget_bytes` are held, further inputs
    are computed afresh each time. Unbounded, two KD runs side by side held 12.5 GB each after 160 of
    296 cases and the machine killed one."""

    def __init__(self, network: UNet3d, remember: bool, keep_features: bool = True,
                 budget_bytes: int = TEACHER_MEMORY_BYTES) -> None:
        self.network, self.remember, self.keep_features, self.budget_bytes = network, remember, keep_features, budget_bytes
        self.memory: Dict[bytes, Tuple[torch.Tensor, List[torch.Tensor]]] = {}
        self.held_bytes = 0

    @torch.no_grad()
    def __call__(self, x: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        if not self.remember:
            return self._forward(x)
        outputs = []
        for sample in x:  # per sample: batches are drawn in new combinations every step
            key = hashlib.blake2b(sample.detach().cpu().numpy().tobytes(), digest_size=16).digest()
            output = self.memory.get(key)
            if output is None:
                output = self._forward(sample[None])
                size = sum(t.numel() * t.element_size() for t in (output[0], *output[1]))
                if self.held_bytes + size <= self.budget_bytes:
                    self.memory[key] = output
                    self.held_bytes += size
            outputs.append(output)
        logits = torch.cat([o[0] for o in outputs])
        features = [torch.cat([o[1][level] for o in outputs]) for level in range(len(outputs[0][1]))]
        return logits, features

    def _forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, List[torch.Tensor]]:
        logits, features = self.network.forward_with_features(x)
        return logits, (features if self.keep_features else [])


def load_frozen(path: Optional[str], role: str, device: torch.device) -> UNet3d:
    if not path:
        raise TrainingError(f"This method needs a {role} checkpoint.", f"Set --{role}_checkpoint=PATH.")
    if str(path).endswith(".onnx"):  # a shipped model teaches without its training checkpoint
        from .onnx_weights import load_onnx_model

        model = load_onnx_model(Path(path))
    else:
        model, _ = load_export_model(Path(path))
    for parameter in model.parameters():
        parameter.requires_grad_(False)
    return model.to(device).eval()


class GtanPair(nn.Module):
    """One slimmable network evaluated at two widths in one forward (so DDP sees a single forward/backward):
    the assistant at `assistant_channels`, the student at its fixed narrowest slice. With `isolate_student`, the
    assistant's forward cuts the student's slice from the gradient, so the assistant's losses move only the
    channels the assistant adds."""

    def __init__(self, network: UNet3d, student_channels: Sequence[int], isolate_student: bool = False) -> None:
        super().__init__()
        self.network = network
        self.student_channels = tuple(student_channels)
        self.assistant_channels = tuple(student_channels)
        self.isolate_student = isolate_student

    def forward(self, x: torch.Tensor):
        self.network.set_active_channels(self.assistant_channels)
        if self.isolate_student:
            self.network.set_frozen_slice(self.student_channels)
        try:
            assistant_logits, assistant_features = self.network.forward_with_features(x)
        finally:
            self.network.set_frozen_slice(None)
        self.network.set_active_channels(self.student_channels)
        student_logits, student_features = self.network.forward_with_features(x)
        self.network.set_active_channels(None)
        return assistant_logits, assistant_features, student_logits, student_features


class SingleNetwork(nn.Module):
    def __init__(self, network: UNet3d) -> None:
        super().__init__()
        self.network = network

    def forward(self, x: torch.Tensor):
        return self.network.forward_with_features(x)


@dataclass
class Stage:
    """What a run trains: the module under DDP, the network saved in checkpoints, the slice to export, and the
    objective computing the loss of one batch."""

    module: nn.Module
    network: UNet3d
    export_channels: Optional[Tuple[int, ...]]
    objective: Callable[[nn.Module, torch.Tensor, torch.Tensor, torch.Tensor, float], Tuple[torch.Tensor, Dict[str, float]]]
    description: str


def statistics_inputs(config: RunConfig, cases: Sequence[PreparedCase]) -> List[torch.Tensor]:
    """Whole model-grid images, evenly spread over `cases`, for `fix_normalisation_statistics`."""
    if not cases:
        raise TrainingError(f"norm={config.norm} needs training images to take its statistics from, and there are none.",
                            "Check the dataset and split, or use --norm=instance.")
    count = min(len(cases), max(1, config.norm_statistics_cases))
    picks = np.unique(np.linspace(0, len(cases) - 1, count).round().astype(int))
    return [torch.from_numpy(cases[i].image)[None, None] for i in picks]


def build_stage(config: RunConfig, runtime: Runtime, statistics_cases: Sequence[PreparedCase] = (),
                resuming: bool = False) -> Stage:
    """The networks and objective of one run; `statistics_cases` are the images a norm=fixed student takes its
    normalisation statistics from (after its initial weights are in place). A `resuming` run's student is built
    as its checkpoint holds it: the checkpoint loaded next brings its weights and statistics, so neither the
    initial weights are read nor the statistics measured again."""
    if config.method not in METHODS:
        raise TrainingError(f"Unknown method '{config.method}'.", "Use none, kd, takd or gtan.")
    if config.norm not in NORMS:
        raise TrainingError(f"Unknown norm '{config.norm}'.", f"Use one of: {', '.join(NORMS)}.")
    if config.norm != "instance" and config.method not in ("none", "kd"):
        raise TrainingError(f"norm={config.norm} is for a single network (method none or kd), not {config.method}: "
                            "the slices of a slimmable network would need statistics of their own.",
                            "Use --norm=instance with takd or gtan.")
    if not 0 <= config.regional_ramp <= 1:
        raise TrainingError(f"regional_ramp {config.regional_ramp} is outside [0, 1].",
                            "It is the share of the steps over which regional statistics replace the whole input's.")
    student_config = network_config(config)
    torch.manual_seed(config.seed)
    w, t, wf = config.kd_weight, config.kd_temperature, config.feature_kd_weight
    whole_volumes = tuple(config.patch) == tuple(config.grid)
    if config.kd_samples not in ("all", "unlabeled"):
        raise TrainingError(f"Unknown kd_samples '{config.kd_samples}'.", "Use all or unlabeled.")
    if not 0 <= config.kd_ramp <= 1:
        raise TrainingError(f"kd_ramp {config.kd_ramp} is outside [0, 1].",
                            "It is the share of the steps over which the KD weight rises from 0 to kd_weight.")
    if config.kd_ramp > 0 and config.method == "none":
        raise TrainingError("kd_ramp is for a method that distils (kd, takd, gtan), not none.",
                            "Leave kd_ramp at 0 for labels-only training.")

    def taught(labelled: torch.Tensor) -> Optional[torch.Tensor]:
        """The samples distillation applies to: all, or (kd_samples=unlabeled) only those without a label, so a
        labelled case the teacher gets wrong (a fatty liver, say) is learnt from its label alone."""
        return None if config.kd_samples == "all" else 1 - labelled

    ramp = f", reached over the first {config.kd_ramp:.0%} of the steps" if config.kd_ramp > 0 else ""
    if config.method in ("none", "kd"):
        network = UNet3d(replace(student_config, norm=config.norm) if resuming else student_config).to(runtime.device)
        if config.init_onnx and not resuming:
            from .onnx_weights import load_onnx_into

            load_onnx_into(network, Path(config.init_onnx))
        if config.norm in CONSTANT_STATISTICS_NORMS and not resuming:
            inputs = [x.to(runtime.device) for x in statistics_inputs(config, statistics_cases)]
            network = fix_normalisation_statistics(network, inputs, config.norm)
        if config.norm == "regional" and not resuming:
            network = with_regional_normalisation(network)
        teacher = load_frozen(config.teacher_checkpoint, "teacher", runtime.device) if config.method == "kd" else None
        teacher_outputs = FrozenOutputs(teacher, whole_volumes, keep_features=wf > 0) if teacher is not None else None

        def objective(module, x, y, labelled, progress):
            logits, features = module(x)
            seg = segmentation_loss(logits, y, labelled)
            logs = {"seg": seg.item()}
            loss = seg
            if teacher_outputs is not None:
                teacher_logits, teacher_features = teacher_outputs(x)
                kd_mask = taught(labelled)
                kd = distillation_loss(logits, teacher_logits, t, kd_mask)
                loss = loss + kd_weight_at(config, progress) * kd
                logs["kd"] = kd.item()
                if wf > 0:
                    fkd = feature_distillation_loss(features, teacher_features, kd_mask)
                    loss = loss + wf * fkd
                    logs["feature_kd"] = fkd.item()
            return loss, logs

        kind = "labels only" if teacher is None else f"KD from {config.teacher_checkpoint} (T={t}, weight={w}{ramp})"
        return Stage(SingleNetwork(network), network, None, objective, f"{config.preset} {student_config.channels}, {kind}")

    # GTAN: a slimmable network as wide as the teacher; the student is its narrowest slice.
    teacher = load_frozen(config.teacher_checkpoint, "teacher", runtime.device)
    widest = teacher.config.channels
    if any(s > c for s, c in zip(student_config.channels, widest)):
        raise TrainingError(f"GTAN student {student_config.channels} is wider than the teacher {widest} at some level.")
    if config.gtan_init not in ("random", "teacher"):
        raise TrainingError(f"Unknown gtan_init '{config.gtan_init}'.", "Use random or teacher.")
    network = UNet3d(UNetConfig(channels=widest)).to(runtime.device)
    first_width = interpolate_channels(student_config.channels, widest, config.gtan_start)
    if config.gtan_init == "teacher":
        # The assistant starts as the teacher itself (the widest slice is the teacher's architecture) and knows
        # what the teacher knows from step 0; with gtan_start > gtan_end it then shrinks towards the student,
        # so no channel is ever switched on with an empty optimiser state.
        network.load_state_dict(teacher.state_dict())
    else:
        zero_inputs_beyond(network, first_width)
    pair = GtanPair(network, student_config.channels, config.gtan_isolate_student)
    ws = config.gtan_assistant_seg_weight
    teacher_outputs = FrozenOutputs(teacher, whole_volumes, keep_features=wf > 0)

    def gtan_objective(module, x, y, labelled, progress):
        pair.assistant_channels = interpolate_channels(student_config.channels, widest, gtan_fraction(config, progress))
        teacher_logits, teacher_features = teacher_outputs(x)
        assistant_logits, assistant_features, student_logits, student_features = module(x)
        seg_a, seg_s = segmentation_loss(assistant_logits, y, labelled), segmentation_loss(student_logits, y, labelled)
        kd_mask = taught(labelled)
        kd_a = distillation_loss(assistant_logits, teacher_logits, t, kd_mask)  # teacher -> assistant
        kd_s = distillation_loss(student_logits, assistant_logits, t, kd_mask)  # assistant -> student
        kd_weight = kd_weight_at(config, progress)
        loss = ws * seg_a + kd_weight * kd_a + seg_s + kd_weight * kd_s
        logs = {"seg": seg_s.item(), "kd": kd_s.item(), "assistant_seg": seg_a.item(), "assistant_kd": kd_a.item(),
                "assistant_width": float(pair.assistant_channels[-1])}
        if wf > 0:
            fkd = feature_distillation_loss(assistant_features, teacher_features, kd_mask) + \
                feature_distillation_loss(student_features, assistant_features, kd_mask)
            loss = loss + wf * fkd
            logs["feature_kd"] = fkd.item()
        return loss, logs

    last_width = interpolate_channels(student_config.channels, widest, config.gtan_end)
    description = (f"{config.preset} {student_config.channels} by GTAN: slimmable assistant "
                   f"({config.gtan_init} init) {'shrinking' if config.gtan_start > config.gtan_end else 'growing'} "
                   f"from {first_width} to {last_width}"
                   f"{f' in {config.gtan_stages} stages' if config.gtan_stages else ''}, assistant label weight {ws}, "
                   f"{'student slice isolated from the assistant, ' if config.gtan_isolate_student else ''}"
                   f"teacher {config.teacher_checkpoint} (T={t}, weight={w}{ramp})")
    return Stage(pair, network, student_config.channels, gtan_objective, description)


def gtan_fraction(config: RunConfig, progress: float) -> float:
    """The assistant's width at `progress` (0..1 through the run), as a fraction of the way from the student's
    width to the teacher's: a straight line from gtan_start to gtan_end, or, with gtan_stages = K, K steps of
    that line, each width held for a K-th of the run (more time at each width; the first stage is gtan_start
    and the last gtan_end)."""
    if config.gtan_stages > 0:
        stage = min(config.gtan_stages - 1, int(progress * config.gtan_stages))
        progress = stage / max(1, config.gtan_stages - 1)
    return config.gtan_start + (config.gtan_end - config.gtan_start) * progress


# ---- evaluation during training --------------------------------------------------------------------------
def export_network(stage: Stage) -> UNet3d:
    if stage.export_channels and tuple(stage.export_channels) != stage.network.config.channels:
        return extract_slice(stage.network, stage.export_channels)
    return stage.network


@torch.no_grad()
def validation_dice(network: UNet3d, cases: Sequence[PreparedCase], device: torch.device) -> float:
    network.eval()
    scores = []
    for case in cases:
        logits = network(torch.from_numpy(case.image)[None, None].to(device))
        prediction = (logits[0, 1] > logits[0, 0]).cpu().numpy()
        scores.append(dice_score(prediction, case.mask))
    network.train()
    return float(np.mean(scores))


def learning_rate(config: RunConfig, step: int) -> float:
    """Linear warm-up, then cosine decay to 5 % of the peak."""
    if step < config.warmup_steps:
        return config.lr * (step + 1) / config.warmup_steps
    progress = (step - config.warmup_steps) / max(1, config.steps - config.warmup_steps)
    return config.lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * min(1.0, progress))))


def regional_locality(config: RunConfig, step: int) -> float:
    """How far a norm=regional network has moved from the whole input's statistics to regional ones: linearly
    from 0 to 1 over the first `regional_ramp` of the steps, so a run started from an InstanceNorm network
    begins at that network's function instead of at an untrained mixture (measured on the shipped default
    without training: ircadb-17 validation Dice 0.92 -> 0.17 with regional statistics). 1 for every other norm (no-op)."""
    if config.norm != "regional" or config.regional_ramp <= 0:
        return 1.0
    return min(1.0, step / (config.regional_ramp * config.steps))


def kd_weight_at(config: RunConfig, progress: float) -> float:
    """The KD weight at `progress` (0 at the first step, 1 at the last): kd_weight, reached linearly over the first
    `kd_ramp` of the run. Why: a student that starts predicting no liver (a seed whose label-only run needs ~150
    steps to find it) was measured to stay there under a strong teacher's KD term (models/ABLATION.md); with the
    ramp, the labels alone move it first."""
    if config.kd_ramp <= 0:
        return config.kd_weight
    return config.kd_weight * min(1.0, progress / config.kd_ramp)


def time_is_up(config: RunConfig, started: float, runtime: Runtime) -> bool:
    """Whether `max_minutes` has passed, decided by all processes together: each one's clock differs, and a
    process that stopped alone would leave the others waiting in the next gradient all-reduce for ever. So
    the flag is all-reduced (MAX): every process stops at the same step once any one of them is over time."""
    over = bool(config.max_minutes) and (time.time() - started) / 60 > config.max_minutes
    if not runtime.distributed:
        return over
    flag = torch.tensor([1.0 if over else 0.0], device=runtime.device)
    dist.all_reduce(flag, op=dist.ReduceOp.MAX)
    return bool(flag.item() > 0)


# ---- the loop --------------------------------------------------------------------------------------------
def train(config: RunConfig, train_cases: Optional[Sequence[PreparedCase]] = None,
          val_cases: Optional[Sequence[PreparedCase]] = None, summary: Optional[Dict] = None,
          unlabeled_cases: Optional[Sequence[PreparedCase]] = None) -> Path:
    """Run (or resume) one stage; returns the checkpoint path. Cases may be passed in (tests); otherwise they
    are read from the configured dataset and split (and the unlabelled CTs from unlabeled_root)."""
    if config.kd_samples == "unlabeled" and not config.unlabeled_fraction:
        raise TrainingError("kd_samples=unlabeled but no unlabelled samples: the teacher would teach nothing.",
                            "Set --unlabeled_root and --unlabeled_fraction > 0, or --kd_samples=all.")
    if config.unlabeled_fraction and config.method == "none":
        raise TrainingError("Unlabelled CTs need a teacher: method 'none' has no target for them.",
                            "Use --method=kd or gtan, or set --unlabeled_fraction=0.")
    if not 0 <= config.unlabeled_fraction < 1:
        raise TrainingError(f"unlabeled_fraction {config.unlabeled_fraction} is outside [0, 1).",
                            "It is the share of batch samples drawn from the unlabelled CTs.")
    runtime = setup_runtime(config)
    out_dir = Path(config.out_dir)
    checkpoint_path = out_dir / "ckpt.pt"
    log_path = out_dir / "log.jsonl"
    if train_cases is None:
        train_cases = load_split_cases(config, "train")
    if val_cases is None and config.eval_every > 0:
        try:
            val_cases = load_split_cases(config, "val")
        except TrainingError:
            val_cases = []
    if unlabeled_cases is None:
        unlabeled_cases = []
        if config.unlabeled_fraction > 0:
            if not config.unlabeled_root:
                raise TrainingError("unlabeled_fraction > 0 but no unlabeled_root.", "Set --unlabeled_root=FOLDER.")
            unlabeled_cases = load_unlabeled_cases(Path(config.unlabeled_root), config.grid, config.hu_window)
    resuming = config.resume and checkpoint_path.exists()
    stage = build_stage(config, runtime, [*train_cases, *unlabeled_cases], resuming=resuming)
    network = stage.network
    optimizer = torch.optim.AdamW(network.parameters(), lr=config.lr, weight_decay=config.weight_decay)
    step, best_val, elapsed_before = 0, None, 0.0

    if resuming:
        checkpoint = load_checkpoint(checkpoint_path)
        load_state_into(network, checkpoint["model"], checkpoint["model_args"], checkpoint_path)
        optimizer.load_state_dict(checkpoint["optimizer"])
        step, best_val = checkpoint["step"], checkpoint.get("best_val_dice")
        elapsed_before = checkpoint.get("train_seconds", 0.0)
        if runtime.is_main:
            print(f"resumed {checkpoint_path} at step {step}", flush=True)

    module: nn.Module = stage.module
    if runtime.distributed:
        device_ids = [runtime.device.index] if runtime.device.type == "cuda" else None
        module = nn.parallel.DistributedDataParallel(stage.module, device_ids=device_ids)

    def save(final: bool, path: Path = checkpoint_path) -> None:
        if not runtime.is_main:
            return
        payload = {
            "model_args": network.config.to_dict(), "model": network.state_dict(),
            "export_channels": list(stage.export_channels) if stage.export_channels else None,
            "optimizer": optimizer.state_dict(), "step": step, "config": config.to_dict(), "rng": rng_state(),
            "best_val_dice": best_val, "train_seconds": elapsed_before + (time.time() - started),
            "description": stage.description, "finished": final,
            "training_summary": {
                "data": f"{config.data_layout}:{config.data_root}", "split": config.split_file,
                "n_train": len(train_cases), "n_unlabeled": len(unlabeled_cases), "method": config.method, "teacher": config.teacher_checkpoint,
                "seeds": [config.seed], "steps": step, "batch": config.batch_size, "patch": list(config.patch),
                "processes": runtime.world_size, **({"notes": config.notes} if config.notes else {}), **(summary or {}),
            },
        }
        save_checkpoint(path, payload)

    if runtime.is_main:
        out_dir.mkdir(parents=True, exist_ok=True)
        (out_dir / "config.json").write_text(json.dumps(config.to_dict(), indent=1) + "\n")
        print(f"{stage.description}: {count_parameters(export_network(stage))} parameters exported, "
              f"{len(train_cases)} training cases, {len(unlabeled_cases)} unlabelled "
              f"(share {config.unlabeled_fraction}), {runtime.world_size} process(es), device {runtime.device}", flush=True)
    started = time.time()
    network.train()
    step_times: List[float] = []
    recent: List[Dict[str, float]] = []  # losses since the last log line (logged as means)
    while step < config.steps:
        if time_is_up(config, started, runtime):
            if runtime.is_main:
                print(f"time limit of {config.max_minutes} min reached at step {step}", flush=True)
            break
        tick = time.time()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(config, step)
        set_locality(network, regional_locality(config, step))
        x, y, labelled = sample_batch(train_cases, config, step, runtime, unlabeled_cases)
        loss, logs = stage.objective(module, x, y, labelled, step / max(1, config.steps - 1))
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        step += 1
        step_times.append(time.time() - tick)
        recent.append({"loss": loss.item(), **logs})
        if runtime.is_main and (step % config.log_every == 0 or step == config.steps):
            means = {k: float(np.mean([r[k] for r in recent if k in r])) for k in recent[-1]}
            recent.clear()
            record = {"step": step, **{k: round(v, 5) for k, v in means.items()},
                      "lr": learning_rate(config, step - 1), "ms_per_step": round(1000 * float(np.median(step_times[-config.log_every:])), 1),
                      "elapsed_s": round(elapsed_before + time.time() - started, 1)}
            if config.eval_every and val_cases and (step % config.eval_every == 0 or step == config.steps):
                set_locality(network, 1.0)  # validate the function that is exported
                record["val_dice"] = round(validation_dice(export_network(stage), val_cases, runtime.device), 4)
                if best_val is None or record["val_dice"] > best_val:
                    best_val = record["val_dice"]
                    save(final=False, path=out_dir / "best.pt")  # model selection on the validation split
            with open(log_path, "a") as handle:
                handle.write(json.dumps(record) + "\n")
            print(json.dumps(record), flush=True)
        if step % config.checkpoint_every == 0:
            save(final=False)
    save(final=step >= config.steps)
    teardown_runtime(runtime)
    return checkpoint_path
