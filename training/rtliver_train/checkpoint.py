"""Checkpoints: everything needed to resume a run or rebuild its network exactly (nanoGPT style).

A checkpoint is a dict saved with torch.save:
    format          "rt-liver-checkpoint/1"
    model_args      UNetConfig.to_dict() of the network in `model`
    model           its state_dict
    export_channels channels of the slice to export (GTAN: the student is the narrowest slice), or None
    config          the resolved run configuration (dict), so a resume uses the same settings
    step, optimizer, rng            training state for resuming
    training_summary, description  what export writes into models/manifest.json
"""

from __future__ import annotations

import os
import random
from pathlib import Path
from typing import Any, Dict, Optional, Tuple

import numpy as np
import torch

from .errors import TrainingError
from .models import UNet3d, UNetConfig, extract_slice

FORMAT = "rt-liver-checkpoint/1"


def rng_state() -> Dict[str, Any]:
    return {"torch": torch.get_rng_state(), "numpy": np.random.get_state(), "python": random.getstate()}


def restore_rng_state(state: Dict[str, Any]) -> None:
    torch.set_rng_state(state["torch"])
    np.random.set_state(state["numpy"])
    random.setstate(state["python"])


def save_checkpoint(path: Path, payload: Dict[str, Any]) -> None:
    """Atomic write (temp file + rename) so an interrupted run never leaves a half-written checkpoint."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    torch.save({"format": FORMAT, **payload}, temporary)
    os.replace(temporary, path)


def load_checkpoint(path: Path) -> Dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise TrainingError(f"Checkpoint {path} does not exist.", "Check the path, or train the stage first.")
    try:
        # A training checkpoint holds the optimiser's and the numpy generator's state besides tensors; PyTorch 2.6
        # and later read only tensors and plain containers unless told otherwise, and would refuse it. It is a
        # pickle like any full PyTorch checkpoint: load only files you trust (written by rtliver_train).
        checkpoint = torch.load(path, map_location="cpu", weights_only=False)
    except Exception as error:  # corrupt or not a torch file
        raise TrainingError(f"Checkpoint {path} could not be read: {error}.", "Use a file written by rtliver_train.") from error
    if not isinstance(checkpoint, dict) or checkpoint.get("format") != FORMAT:
        raise TrainingError(f"{path} is not an rt-liver checkpoint (format {FORMAT}).", "Use a file written by rtliver_train.")
    return checkpoint


def load_state_into(model: UNet3d, state: Dict[str, torch.Tensor], model_args: Dict[str, Any], path: Path) -> None:
    """Load weights, refusing a checkpoint of another architecture with a message naming the file."""
    saved = UNetConfig.from_dict(model_args)
    if saved != model.config:
        raise TrainingError(
            f"Checkpoint {path} holds a network with channels {list(saved.channels)} and {saved.norm} normalisation, "
            f"but this run builds {list(model.config.channels)} with {model.config.norm}.",
            "Resume with the same architecture, or start a new run directory.",
        )
    model.load_state_dict(state)


def load_model(path: Path) -> Tuple[UNet3d, Dict[str, Any]]:
    """The full network stored in a checkpoint (for a GTAN run: the whole slimmable network)."""
    checkpoint = load_checkpoint(path)
    model = UNet3d(UNetConfig.from_dict(checkpoint["model_args"]))
    load_state_into(model, checkpoint["model"], checkpoint["model_args"], Path(path))
    return model.eval(), checkpoint


def load_export_model(path: Path, channels: Optional[Tuple[int, ...]] = None) -> Tuple[UNet3d, Dict[str, Any]]:
    """The network to ship: the checkpoint's `export_channels` slice when set (GTAN students), else the whole."""
    model, checkpoint = load_model(path)
    wanted = channels or checkpoint.get("export_channels")
    if wanted and tuple(wanted) != model.config.channels:
        model = extract_slice(model, tuple(wanted))
    return model.eval(), checkpoint
