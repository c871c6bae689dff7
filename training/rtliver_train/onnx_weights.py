"""Load the weights of an exported rt-liver ONNX model back into its PyTorch network (to fine-tune a shipped
model when its training checkpoint is not at hand).

The export keeps the PyTorch parameter names for every initialiser except the decoders' first convolution,
which the tracer splits into two anonymous tensors (`onnx::Conv_N`): the skip branch (the Conv with the bias)
and the upsampled branch (the Conv whose input comes from Resize). They are put back together as the
concatenating weight [skip, up] along the input-channel axis (models.ConcatInputConv3d).
"""

from __future__ import annotations

from pathlib import Path
from typing import Dict, Tuple

import numpy as np
import torch

from .contract import NORMALISATION_METADATA_KEY
from .errors import TrainingError
from .models import UNet3d, UNetConfig


def onnx_state_dict(path: Path) -> Tuple[Dict[str, torch.Tensor], UNetConfig]:
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    norm = {p.key: p.value for p in model.metadata_props}.get(NORMALISATION_METADATA_KEY, "instance")
    if norm not in ("instance", "fixed", "mean-only"):  # the last two are recognised by their weights below
        raise TrainingError(f"{path} holds a network with norm={norm}; reading its weights back is not supported.",
                            f"Start from a model with InstanceNorm; --norm={norm} then converts it again.")
    tensors = {t.name: numpy_helper.to_array(t) for t in model.graph.initializer}
    producers = {out: node for node in model.graph.node for out in node.output}
    state: Dict[str, torch.Tensor] = {k: torch.from_numpy(np.array(v)) for k, v in tensors.items()
                                      if not k.startswith("onnx::")}
    if "encoders.0.first.conv.bias" in state:  # export folds a norm="fixed" network's normalisation (models.py)
        raise TrainingError(f"{path} holds a network with its normalisation folded into its convolutions (norm=fixed); "
                            "reading its weights back is not supported.",
                            "Start from a model with InstanceNorm; --norm=fixed then fixes its statistics again.")
    if "encoders.0.first.norm.weight" not in state:  # a norm="mean-only" export: its scale is one folded constant
        raise TrainingError(f"{path} holds a network whose normalisation scale is folded into constants "
                            "(norm=mean-only); reading its weights back is not supported.",
                            "Start from a model with InstanceNorm; --norm=mean-only then fixes its scale again.")
    channels = tuple(int(state[f"encoders.{level}.first.conv.weight"].shape[0]) for level in range(4))
    # the decoder convs: level from the output-channel count (distinct per level for every preset)
    halves: Dict[int, Dict[str, np.ndarray]] = {}
    for node in model.graph.node:
        if node.op_type != "Conv" or len(node.input) < 2 or not node.input[1].startswith("onnx::"):
            continue
        weight = tensors[node.input[1]]
        level = [lvl for lvl in range(3) if channels[lvl] == weight.shape[0]]
        if len(level) != 1:
            raise TrainingError(f"{path}: cannot tell the decoder level of {node.input[1]} {weight.shape}.")
        source = producers.get(node.input[0])
        branch = "up" if source is not None and source.op_type == "Resize" else "skip"
        if len(node.input) > 2:
            branch = "skip"
            state[f"decoders.{level[0]}.first.conv.bias"] = torch.from_numpy(np.array(tensors[node.input[2]]))
        halves.setdefault(level[0], {})[branch] = weight
    for level, parts in halves.items():
        if set(parts) != {"skip", "up"}:
            raise TrainingError(f"{path}: decoder {level} has branches {sorted(parts)}, expected skip and up.")
        state[f"decoders.{level}.first.conv.weight"] = torch.from_numpy(np.concatenate([parts["skip"], parts["up"]], axis=1))
    return state, UNetConfig(channels=channels)


def load_onnx_model(path: Path) -> UNet3d:
    """The network an exported model holds, rebuilt from its weights alone (e.g. a shipped teacher)."""
    state, config = onnx_state_dict(Path(path))
    network = UNet3d(config)
    _load_state(network, state, config, Path(path))
    return network


def load_onnx_into(network: UNet3d, path: Path) -> None:
    """Copy an exported model's weights into `network` (same channels), refusing a mismatch by name."""
    state, config = onnx_state_dict(Path(path))
    _load_state(network, state, config, Path(path))


def _load_state(network: UNet3d, state: Dict[str, torch.Tensor], config: UNetConfig, path: Path) -> None:
    if config.channels != network.config.channels:
        raise TrainingError(f"{path} holds a network with channels {list(config.channels)}, this run builds "
                            f"{list(network.config.channels)}.", "Pick the ONNX file of the same preset.")
    own = network.state_dict()
    missing = sorted(set(own) - set(state))
    if missing:
        raise TrainingError(f"{path} lacks weights for {missing[:4]}.")
    network.load_state_dict({k: state[k].to(own[k].dtype).reshape(own[k].shape) for k in own})
