"""Run configuration: one dataclass, resolved from defaults, an optional JSON file and `--key=value` overrides
(nanoGPT's configurator, made importable and testable). The resolved dict goes into every checkpoint."""

from __future__ import annotations

import dataclasses
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple

from .contract import HU_WINDOW, MODEL_SHAPE
from .errors import TrainingError


@dataclass
class RunConfig:
    # where
    out_dir: str = "training/runs/run"
    # data (see datasets.py): layout, root, split file; liver label values override the layout's default
    data_layout: str = "msd"
    data_root: str = "var/datasets/phantom-msd"
    split_file: str = "training/splits/phantom-msd.json"
    liver_labels: Optional[List[int]] = None
    cache_dir: Optional[str] = "var/cache/training"
    # unlabelled real CTs (unlabeled.py), learnt from the teacher only (kd, gtan): a share of the batch samples
    unlabeled_root: Optional[str] = None
    unlabeled_fraction: float = 0.0
    grid: Tuple[int, int, int] = MODEL_SHAPE  # model grid [D, H, W] (models/README.md)
    hu_window: Tuple[float, float] = HU_WINDOW
    # model
    preset: str = "student-30k"  # teacher | student-100k | student-30k | assistant-takd
    channels: Optional[Tuple[int, int, int, int]] = None  # overrides the preset
    init_onnx: Optional[str] = None  # start from the weights of an exported model (fine-tuning); ignored on resume
    # instance | fixed | mean-only: InstanceNorm, or constant statistics pooled over norm_statistics_cases training
    # inputs at the start (models.fix_normalisation_statistics), so the mask no longer depends on what else the
    # field holds, or each input's own means with a constant scale (per-series re-centring kept); regional:
    # each voxel's statistics over the region around it (models.RegionalInstanceNorm3d), reached from an
    # InstanceNorm network's function over the first regional_ramp of the steps (0: regional from the start)
    norm: str = "instance"
    norm_statistics_cases: int = 32
    regional_ramp: float = 0.3
    # method: none (labels only) | kd | takd | gtan
    method: str = "none"
    teacher_checkpoint: Optional[str] = None  # a checkpoint (.pt) or an exported model (.onnx)
    assistant_checkpoint: Optional[str] = None  # TAKD: a trained assistant; if None, distill trains one first
    assistant_preset: str = "assistant-takd"
    kd_weight: float = 1.0  # loss = segmentation + kd_weight * T^2 KL
    kd_temperature: float = 2.0
    kd_samples: str = "all"  # all | unlabeled: the teacher teaches every sample, or only those without a label
    kd_ramp: float = 0.0  # kd, takd, gtan: each KD weight rises linearly from 0 over this share of the steps (0 = full from the start)
    feature_kd_weight: float = 0.0  # attention-transfer feature distillation, 0 = off
    gtan_start: float = 0.1  # assistant width at the start, as a fraction of the way from student to teacher width
    gtan_end: float = 1.0  # ... and at the end of the run (gtan_start > gtan_end: an assistant that shrinks)
    gtan_stages: int = 0  # 0: the width changes every step; K > 0: K widths, each held for steps / K
    gtan_assistant_seg_weight: float = 1.0  # weight of the assistant's label loss (0: it learns from the teacher only)
    gtan_init: str = "random"  # random | teacher (the slimmable network starts as a copy of the teacher)
    gtan_isolate_student: bool = False  # the assistant's losses move only its own channels, never the student's slice
    # optimisation
    steps: int = 1000
    batch_size: int = 2  # global batch (split across DDP processes)
    patch: Tuple[int, int, int] = (48, 96, 96)  # random crop of the model grid; equal to grid = whole volume
    foreground_crop_fraction: float = 0.67  # share of crops centred on a liver voxel
    lr: float = 3e-3
    weight_decay: float = 1e-5
    warmup_steps: int = 20
    seed: int = 0
    # bookkeeping
    log_every: int = 10
    eval_every: int = 200
    checkpoint_every: int = 100
    max_minutes: float = 0.0  # stop (with a checkpoint) after this wall time; 0 = no limit
    resume: bool = True
    threads: int = 2
    device: str = "auto"  # auto | cpu | cuda
    notes: str = ""  # free text carried into the checkpoint's training summary and the manifest

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


def _coerce(name: str, value: Any, default: Any, annotation: str) -> Any:
    """Convert a JSON or command-line value to the type of the field, refusing what does not fit."""
    if isinstance(value, str) and not annotation.startswith("str") and annotation != "Optional[str]":
        try:
            value = json.loads(value)
        except ValueError:
            if value.lower() in ("true", "false"):
                value = value.lower() == "true"
    if value is None:
        if annotation.startswith("Optional"):
            return None
        raise TrainingError(f"Config key '{name}' cannot be null.")
    if "Tuple" in annotation or "List" in annotation:
        if not isinstance(value, (list, tuple)):
            raise TrainingError(f"Config key '{name}' expects a list, got {value!r}.")
        return tuple(value) if "Tuple" in annotation else list(value)
    if annotation in ("bool",):
        if not isinstance(value, bool):
            raise TrainingError(f"Config key '{name}' expects true or false, got {value!r}.")
        return value
    if annotation in ("int",):
        if isinstance(value, bool) or not isinstance(value, int):
            raise TrainingError(f"Config key '{name}' expects an integer, got {value!r}.")
        return value
    if annotation in ("float",):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TrainingError(f"Config key '{name}' expects a number, got {value!r}.")
        return float(value)
    if annotation in ("str", "Optional[str]"):
        return str(value)
    return value


def parse_config(argv: Sequence[str] = (), base: Optional[RunConfig] = None, **defaults: Any) -> RunConfig:
    """`--config=file.json` (or a bare file.json) then `--key=value` overrides (later wins). Unknown keys and
    values of the wrong type are errors naming the key."""
    config = base or RunConfig()
    fields = {f.name: f for f in dataclasses.fields(RunConfig)}
    values: Dict[str, Any] = dict(defaults)
    overrides: List[Tuple[str, Any]] = []
    for argument in argv:
        if argument.endswith(".json") and not argument.startswith("--"):
            argument = f"--config={argument}"
        if not argument.startswith("--") or "=" not in argument:
            raise TrainingError(f"Cannot parse argument '{argument}'.", "Use --key=value or --config=file.json.")
        key, value = argument[2:].split("=", 1)
        key = key.replace("-", "_")
        if key == "config":
            try:
                values.update(json.loads(Path(value).read_text()))
            except (OSError, ValueError) as error:
                raise TrainingError(f"Config file {value} could not be read: {error}.") from error
        else:
            overrides.append((key, value))
    values.update(overrides)
    for key, value in values.items():
        if key not in fields:
            raise TrainingError(f"Unknown config key '{key}'.", f"Known keys: {', '.join(sorted(fields))}.")
        annotation = str(fields[key].type).replace("typing.", "")
        setattr(config, key, _coerce(key, value, getattr(config, key), annotation))
    return config


def config_from_dict(values: Dict[str, Any]) -> RunConfig:
    """Rebuild a RunConfig from a checkpoint's resolved dict."""
    fields = {f.name for f in dataclasses.fields(RunConfig)}
    return parse_config(base=RunConfig(), **{k: v for k, v in values.items() if k in fields})
