"""Export a trained network to ONNX (opset 17), write its manifest entry and the model-parity fixture.

    python -m rtliver_train.export --checkpoint training/runs/student-30k/ckpt.pt --name student-30k
    python -m rtliver_train.export --placeholder --preset student-30k --name student-30k-placeholder

The ONNX graph follows models/README.md: input `ct` [1, 1, D, H, W] float32 with dynamic D, H, W (multiples of
8), output `logits` [1, 2, D, H, W]. The parity fixture (test/fixtures/model-parity/) holds a deterministic input
and the PyTorch logits, so the TypeScript suite can check the ONNX file with onnxruntime-node.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
import json
import math
from pathlib import Path
from typing import Any, Dict, Optional, Sequence

import numpy as np
import torch

from .checkpoint import load_export_model
from .contract import HU_WINDOW, MODEL_SHAPE, NORMALISATION_METADATA_KEY
from .model_card import write_card
from .models import (PRESETS, REGIONAL_BLOCK, SIZE_DIVISOR, UNet3d, UNetConfig, count_flops, count_parameters,
                     fold_fixed_normalisation, set_locality)

OPSET = 17
INPUT_NAME = "ct"
OUTPUT_NAME = "logits"
INPUT_GRID = MODEL_SHAPE
PARITY_SHAPE = (1, 1, 16, 32, 32)
REPO_ROOT = Path(__file__).resolve().parents[2]
MODELS_DIR = REPO_ROOT / "models"
PARITY_DIR = REPO_ROOT / "test" / "fixtures" / "model-parity"


# What the manifest says of each kind (models.py): informational, the runtime needs no change for any of them.
NORMALISATION = {"instance": "InstanceNorm (statistics of each input)",
                 "fixed": "fixed statistics from training images, folded into the convolutions",
                 "mean-only": "each input's own channel means, with a fixed scale from training images",
                 "regional": "each voxel's statistics over the 16-voxel blocks around it, blended trilinearly"}


# PyTorch 2.9 and later export through torch.export (dynamo) unless told otherwise; the graph this contract checks
# (operators the WebGPU provider runs, names, dynamic axes) is the TorchScript exporter's, which older releases
# (Debian's 1.13 here) use without being asked and do not know the argument for.
def torchscript_exporter_options(export=None) -> Dict[str, Any]:
    parameters = inspect.signature(export or torch.onnx.export).parameters
    return {"dynamo": False} if "dynamo" in parameters else {}


def export_onnx(model: UNet3d, path: Path) -> None:
    """Trace `model` (eval mode, CPU, float32) into an ONNX file with dynamic spatial axes."""
    model = model.eval().cpu().float()
    if model.config.norm == "fixed":
        model = fold_fixed_normalisation(model)
    set_locality(model, 1.0)  # a norm=regional network's own function, not a training run's blend
    dummy = torch.zeros(1, 1, *INPUT_GRID[:1], 32, 32)
    spatial = {2: "D", 3: "H", 4: "W"}
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model, (dummy,), str(path), opset_version=OPSET, input_names=[INPUT_NAME],
            output_names=[OUTPUT_NAME], dynamic_axes={INPUT_NAME: {0: "N", **spatial}, OUTPUT_NAME: {0: "N", **spatial}},
            do_constant_folding=True, **torchscript_exporter_options(),
        )
    import onnx

    from .onnx_norm import decompose_instance_norm

    # The same normalisation on every runtime (onnx_norm.py says why).
    graph_model = decompose_instance_norm(onnx.load(str(path)))
    onnx.helper.set_model_props(graph_model, {NORMALISATION_METADATA_KEY: model.config.norm})
    onnx.save(graph_model, str(path))
    check_onnx(path)


def check_onnx(path: Path) -> None:
    """onnx.checker plus the contract's tensor names and the WebGPU-safe operator set."""
    import onnx

    graph_model = onnx.load(str(path))
    onnx.checker.check_model(graph_model, full_check=True)
    graph = graph_model.graph
    inputs = [i.name for i in graph.input if i.name not in {init.name for init in graph.initializer}]
    outputs = [o.name for o in graph.output]
    if inputs != [INPUT_NAME] or outputs != [OUTPUT_NAME]:
        raise ValueError(f"{path}: expected input [{INPUT_NAME}] and output [{OUTPUT_NAME}], got {inputs} / {outputs}")
    allowed = {"Conv", "InstanceNormalization", "LeakyRelu", "Relu", "MaxPool", "Resize", "Add", "Concat", "Constant",
               "Shape", "Gather", "Cast", "Mul", "Slice", "Unsqueeze", "Floor", "Div", "Identity",
               "ReduceMean", "Sub", "Sqrt"}
    used = {node.op_type for node in graph.node}
    if not used <= allowed:
        raise ValueError(f"{path}: operators outside the WebGPU-safe set: {sorted(used - allowed)}")


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def parity_input(shape: Sequence[int] = PARITY_SHAPE) -> np.ndarray:
    """A deterministic input in [-1, 1] defined by a formula (no RNG), a smooth blob plus ripples."""
    _, _, d, h, w = shape
    k, j, i = np.meshgrid(np.arange(d), np.arange(h), np.arange(w), indexing="ij")
    blob = np.exp(-(((i - w / 2) / (w / 4)) ** 2 + ((j - h / 2) / (h / 4)) ** 2 + ((k - d / 2) / (d / 3)) ** 2))
    ripples = 0.25 * np.sin(0.7 * i + 0.3 * j) * np.cos(0.5 * k)
    values = np.clip(2 * blob - 1 + ripples, -1, 1).astype(np.float32)
    return values.reshape(shape)


def write_parity_fixture(model: UNet3d, name: str, onnx_path: Path, out_dir: Path = PARITY_DIR) -> Dict[str, Any]:
    """input.f32.bin, logits.f32.bin (little-endian float32, C order = i fastest) and fixture.json."""
    x = parity_input()
    with torch.no_grad():
        logits = model.eval()(torch.from_numpy(x)).numpy().astype("<f4")
    out_dir.mkdir(parents=True, exist_ok=True)
    x.astype("<f4").tofile(out_dir / "input.f32.bin")
    logits.tofile(out_dir / "logits.f32.bin")
    description = {
        "model": name,
        "modelFile": f"models/{onnx_path.name}",
        "sha256": sha256_of(onnx_path),
        "input": {"name": INPUT_NAME, "shape": list(x.shape), "dtype": "float32", "file": "input.f32.bin"},
        "output": {"name": OUTPUT_NAME, "shape": list(logits.shape), "dtype": "float32", "file": "logits.f32.bin"},
        "byteOrder": "little-endian",
        "tolerance": 1e-4,
        "producedBy": f"PyTorch {torch.__version__}, rtliver_train.export",
    }
    (out_dir / "fixture.json").write_text(json.dumps(description, indent=2) + "\n")
    return description


def manifest_entry(model: UNet3d, name: str, onnx_path: Path, *, placeholder: bool, description: str,
                   training: Dict[str, Any], metrics: Dict[str, Any], card: Optional[str],
                   caution: str = "") -> Dict[str, Any]:
    config = model.config
    return {
        "name": name,
        "file": onnx_path.name,
        "sha256": sha256_of(onnx_path),
        "placeholder": placeholder,
        "description": description,
        **({"caution": caution} if caution else {}),
        "parameters": count_parameters(model),
        "flops": float(f"{count_flops(config, INPUT_GRID):.4g}"),
        "architecture": {"family": "rt-liver UNet3d", "channels": list(config.channels), "normalisation": NORMALISATION[config.norm]},
        "input": {"name": INPUT_NAME, "shape": [1, 1, *INPUT_GRID],
                  "sizeDivisor": REGIONAL_BLOCK if config.norm == "regional" else SIZE_DIVISOR,
                  "orientation": "LPS", "huWindow": list(HU_WINDOW), "resampling": "trilinear-half-pixel"},
        "output": {"name": OUTPUT_NAME, "channels": ["background", "liver"], "activation": "softmax"},
        "training": training,
        "metrics": metrics,
        "card": card,
    }


def update_manifest(entry: Dict[str, Any], manifest_path: Path = MODELS_DIR / "manifest.json",
                    default: Optional[str] = None, remove: Sequence[str] = ()) -> Dict[str, Any]:
    """Insert or replace `entry` (by name); drop names in `remove`; set "default" when given."""
    manifest = json.loads(manifest_path.read_text()) if manifest_path.exists() else {"models": []}
    models = [m for m in manifest.get("models", []) if m["name"] != entry["name"] and m["name"] not in remove]
    models.append(entry)
    manifest["models"] = sorted(models, key=lambda m: m["name"])
    if default is not None:
        manifest["default"] = default
    if manifest.get("default") not in {m["name"] for m in manifest["models"]}:
        manifest["default"] = entry["name"]
    ordered = {"default": manifest["default"], "models": manifest["models"]}
    manifest_path.write_text(json.dumps(ordered, indent=2) + "\n")
    return ordered


def _round_metrics(value: Any) -> Any:
    if isinstance(value, float):
        return float(f"{value:.4g}") if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: _round_metrics(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round_metrics(v) for v in value]
    return value


def main(argv: Optional[Sequence[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, help="checkpoint written by train_teacher or distill")
    parser.add_argument("--placeholder", action="store_true", help="export an UNTRAINED network (seeded init)")
    parser.add_argument("--preset", choices=sorted(PRESETS), help="architecture for --placeholder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--name", required=True, help="model name, also the file stem in models/")
    parser.add_argument("--out", type=Path, default=MODELS_DIR)
    parser.add_argument("--metrics", nargs="*", help="JSON files written by rtliver_train.evaluate: the first "
                        "without a name (test split), others as NAME=FILE (e.g. totalseg-a-pseudo-label=m.json)")
    parser.add_argument("--default", action="store_true", help="mark as the manifest's default model")
    parser.add_argument("--parity-fixture", action="store_true", help=f"rewrite {PARITY_DIR.relative_to(REPO_ROOT)}")
    parser.add_argument("--remove", nargs="*", default=[], help="manifest entries to drop (e.g. the placeholder)")
    parser.add_argument("--card-notes", default="", help="extra text for the model card's Notes section")
    parser.add_argument("--caution", default="", help="what users must know before trusting the masks; the "
                        "manifest's caution, shown with every result by the CLI and the viewer")
    parser.add_argument("--teacher-name", help="name of the teacher as shipped (manifest and card)")
    args = parser.parse_args(argv)

    if args.placeholder:
        if not args.preset:
            parser.error("--placeholder needs --preset")
        torch.manual_seed(args.seed)
        model = UNet3d(PRESETS[args.preset])
        training: Dict[str, Any] = {"data": "none (untrained)", "split": "none", "method": "none", "seeds": [args.seed]}
        description = (f"PLACEHOLDER: untrained {args.preset} (random initialisation, seed {args.seed}). "
                       "Its output is meaningless; it exists so the pipeline can run end to end.")
        metrics: Dict[str, Any] = {}
        card = None
    else:
        if not args.checkpoint:
            parser.error("--checkpoint is required unless --placeholder")
        model, checkpoint = load_export_model(args.checkpoint)
        training = dict(checkpoint.get("training_summary", {}))
        description = checkpoint.get("description", f"rt-liver {args.name}")
        if training.get("teacher"):  # name the teacher as shipped, not by a local checkpoint path
            teacher_name = args.teacher_name or Path(training["teacher"]).parent.name
            description = description.replace(training["teacher"], teacher_name)
            training["teacher"] = teacher_name
        metrics = {}
        for metrics_file in args.metrics or []:  # evaluate's JSON; per-case rows stay in the results files
            name, _, path = metrics_file.partition("=") if "=" in metrics_file else ("", "", metrics_file)
            values = {k: v for k, v in json.loads(Path(path).read_text()).items() if k != "cases"}
            if name:
                metrics[name] = values
            else:
                metrics.update(values)
        card = f"{args.name}.md"

    onnx_path = args.out / f"{args.name}.onnx"
    export_onnx(model, onnx_path)
    entry = manifest_entry(model, args.name, onnx_path, placeholder=args.placeholder, description=description,
                           training=training, metrics=_round_metrics(metrics), card=card, caution=args.caution)
    update_manifest(entry, args.out / "manifest.json", default=args.name if args.default else None,
                    remove=args.remove)
    if card:
        write_card(entry, args.out / card, args.card_notes)
    if args.parity_fixture:
        write_parity_fixture(model, args.name, onnx_path)
    print(json.dumps({k: entry[k] for k in ("name", "file", "sha256", "parameters", "flops")}))


if __name__ == "__main__":
    main()
