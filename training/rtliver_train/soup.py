"""A uniform model soup: the weights of several runs of one recipe averaged into one network.

    python -m rtliver_train.soup --out training/runs/soup/ckpt.pt \
        training/runs/field-ctrl-s3/ckpt.pt training/runs/field-ctrl-s4/ckpt.pt training/runs/field-ctrl-s5/ckpt.pt

Runs fine-tuned from the same weights with different seeds usually end in one basin of the loss, where the
average of their weights behaves like the ensemble of their outputs at the cost of one network (Wortsman et al.,
"Model soups: averaging weights of multiple fine-tuned models improves accuracy without increasing inference
time", ICML 2022; their "uniform soup"). What a soup is worth here is measured like any candidate's: the three
300-step control seeds' soup scored at their mean on every row, no better than its best seed
(training/results/robustness.md, "A soup of three seeds").

Only runs of one architecture (channels, normalisation, export slice) and one starting point may be averaged:
the ingredients' starting weights (`config.init_onnx`) must be the same, since weights of unrelated runs do not
line up channel for channel and their average is no network at all. The result is a checkpoint that
`rtliver_train.export` reads; it holds no optimiser state, so it is not a run to resume.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence

import torch

from .checkpoint import load_checkpoint, save_checkpoint
from .errors import TrainingError


def _starting_point(checkpoint: Dict[str, Any]) -> Optional[str]:
    """The exported model a run was fine-tuned from (None: from random weights)."""
    return (checkpoint.get("config") or {}).get("init_onnx")


def average_state_dicts(states: Sequence[Dict[str, torch.Tensor]]) -> Dict[str, torch.Tensor]:
    """The element-wise mean of floating-point tensors; any other tensor must be equal in every state."""
    if not states:
        raise TrainingError("A soup needs at least one checkpoint.", "Name two or more checkpoints of one recipe.")
    keys = list(states[0])
    averaged: Dict[str, torch.Tensor] = {}
    for key in keys:
        tensors = [state[key] for state in states]
        if tensors[0].is_floating_point():
            averaged[key] = torch.stack([t.double() for t in tensors]).mean(dim=0).to(tensors[0].dtype)
        elif all(torch.equal(tensors[0], t) for t in tensors[1:]):
            averaged[key] = tensors[0].clone()
        else:  # counters and integer buffers have no meaningful mean
            raise TrainingError(f"The checkpoints differ in the non-float tensor {key!r}.",
                                "Average only runs of one recipe.")
    return averaged


def make_soup(paths: Sequence[Path]) -> Dict[str, Any]:
    """The checkpoint payload of the uniform soup of `paths` (refusing ingredients that cannot be averaged)."""
    if len(paths) < 2:
        raise TrainingError(f"A soup needs two or more checkpoints, got {len(paths)}.",
                            "Name the final checkpoints (ckpt.pt) of several seeds of one recipe.")
    checkpoints = [load_checkpoint(Path(p)) for p in paths]
    first, first_path = checkpoints[0], Path(paths[0])
    if _starting_point(first) is None:
        raise TrainingError(f"{first_path} was trained from random weights, not fine-tuned from a model.",
                            "Average only runs fine-tuned (--init_onnx) from the same model: runs from random "
                            "weights do not line up channel for channel.")
    for checkpoint, path in zip(checkpoints[1:], paths[1:]):
        for what, value in (("architecture", "model_args"), ("export slice", "export_channels")):
            if checkpoint.get(value) != first.get(value):
                raise TrainingError(
                    f"{path} has another {what} than {first_path}: {checkpoint.get(value)} vs {first.get(value)}.",
                    "Average only runs of one architecture.")
        if _starting_point(checkpoint) != _starting_point(first):
            raise TrainingError(
                f"{path} started from other weights than {first_path} (init_onnx): {_starting_point(checkpoint)} vs "
                f"{_starting_point(first)}.",
                "Average only runs fine-tuned (--init_onnx) from the same model.")
        if set(checkpoint["model"]) != set(first["model"]):
            raise TrainingError(f"{path} holds other tensors than {first_path}.", "Average only runs of one recipe.")
    summaries = [c.get("training_summary", {}) for c in checkpoints]
    training_summary: Dict[str, Any] = {
        **summaries[0],
        "seeds": sorted({seed for summary in summaries for seed in summary.get("seeds", [])}),
        "soup": {"kind": "uniform", "ingredients": [str(p) for p in paths],
                 "steps": [c.get("step") for c in checkpoints]},
    }
    return {
        "model_args": first["model_args"],
        "model": average_state_dicts([c["model"] for c in checkpoints]),
        "export_channels": first.get("export_channels"),
        "config": first.get("config"),
        "step": max(int(c.get("step") or 0) for c in checkpoints),
        "finished": True,
        "description": f"uniform soup of {len(paths)} runs: {first.get('description', '')}".strip(),
        "training_summary": training_summary,
    }


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m rtliver_train.soup", description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("checkpoints", nargs="+", type=Path, help="final checkpoints (ckpt.pt) of one recipe")
    parser.add_argument("--out", type=Path, required=True, help="where to write the soup's checkpoint")
    args = parser.parse_args(argv)
    try:
        payload = make_soup(args.checkpoints)
    except TrainingError as error:
        sys.exit(f"error: {error}")
    save_checkpoint(args.out, payload)
    ingredients: List[str] = payload["training_summary"]["soup"]["ingredients"]
    print(f"soup of {len(ingredients)} checkpoints -> {args.out}")


if __name__ == "__main__":
    main()
