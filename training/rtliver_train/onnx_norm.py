"""Rewrite ONNX InstanceNormalization as two-pass mean and variance, for the same result on every runtime.

onnxruntime-web's WASM kernel for InstanceNormalization loses precision on large channels: on a 64x128x128
input (one million voxels a channel) its normalised output differs from a float64 reference by 0.020 at the
first layer, against 0.003 for onnxruntime-node, and the gap grows through the network's 14 normalisations to
0.37 at the logits, enough to move the liver's surface by a voxel here and there (docs/viewer.md). Written
out with ReduceMean, the mean is taken first and the variance from the centred values (two passes), which is
what the native kernel does; every runtime then computes the same thing.

    y = (x - mean(x)) * (scale / sqrt(var(x) + eps)) + bias,   mean and var over D, H, W per channel

Only elementwise, reduce and reshaping operators are added (Sub, Mul, Add, Div, Sqrt, ReduceMean, Unsqueeze), all of which run on
onnxruntime-web's WebGPU and WASM backends. The function is the same: the rewritten graph matches the original
within float32 rounding (tests/test_onnx_norm.py).
"""

from __future__ import annotations

from typing import List

import numpy as np


def _mean_over_space(helper, x: str, out: str):
    """Mean over W, then H, then D: each sum has at most one axis' length of terms, not D*H*W of them, so
    float32 accumulation stays accurate on a million voxels (the mean of equal-sized means is the mean)."""
    return [
        helper.make_node("ReduceMean", [x], [f"{out}_w"], axes=[4], keepdims=1, name=f"{out}_w"),
        helper.make_node("ReduceMean", [f"{out}_w"], [f"{out}_hw"], axes=[3], keepdims=1, name=f"{out}_hw"),
        helper.make_node("ReduceMean", [f"{out}_hw"], [out], axes=[2], keepdims=1, name=out),
    ]


def decompose_instance_norm(model):
    """Returns `model` (an onnx.ModelProto, changed in place) with every InstanceNormalization written out."""
    import onnx
    from onnx import helper, numpy_helper

    graph = model.graph
    nodes: List[onnx.NodeProto] = []
    for index, node in enumerate(graph.node):
        if node.op_type != "InstanceNormalization":
            nodes.append(node)
            continue
        x, scale_name, bias_name = node.input
        (y,) = node.output
        epsilon = next((a.f for a in node.attribute if a.name == "epsilon"), 1e-5)
        p = f"{node.name or 'instance_norm'}_{index}"
        graph.initializer.extend([
            numpy_helper.from_array(np.array([0, 2, 3, 4], dtype=np.int64), f"{p}_broadcast_axes"),
            numpy_helper.from_array(np.array(epsilon, dtype=np.float32), f"{p}_eps"),
        ])
        # scale and bias [C] -> [1, C, 1, 1, 1]; they may be initializers or computed (a slimmable norm slices them).
        nodes += [
            helper.make_node("Unsqueeze", [scale_name, f"{p}_broadcast_axes"], [f"{p}_scale"], name=f"{p}_scale"),
            helper.make_node("Unsqueeze", [bias_name, f"{p}_broadcast_axes"], [f"{p}_bias"], name=f"{p}_bias"),
        ]
        nodes += _mean_over_space(helper, x, f"{p}_mean")
        nodes += [
            helper.make_node("Sub", [x, f"{p}_mean"], [f"{p}_centred"], name=f"{p}_centre"),
            helper.make_node("Mul", [f"{p}_centred", f"{p}_centred"], [f"{p}_squared"], name=f"{p}_square"),
        ]
        nodes += _mean_over_space(helper, f"{p}_squared", f"{p}_var")
        nodes += [
            helper.make_node("Add", [f"{p}_var", f"{p}_eps"], [f"{p}_var_eps"], name=f"{p}_add_eps"),
            helper.make_node("Sqrt", [f"{p}_var_eps"], [f"{p}_std"], name=f"{p}_std"),
            # scale / std is per channel ([1, C, 1, 1, 1]): one full-size multiply instead of a divide and a multiply.
            helper.make_node("Div", [f"{p}_scale", f"{p}_std"], [f"{p}_gain"], name=f"{p}_gain"),
            helper.make_node("Mul", [f"{p}_centred", f"{p}_gain"], [f"{p}_scaled"], name=f"{p}_scale_mul"),
            helper.make_node("Add", [f"{p}_scaled", f"{p}_bias"], [y], name=f"{p}_bias_add"),
        ]
    del graph.node[:]
    graph.node.extend(nodes)
    used = {name for node in graph.node for name in node.input}
    kept = [init for init in graph.initializer if init.name in used]
    del graph.initializer[:]
    graph.initializer.extend(kept)
    onnx.checker.check_model(model, full_check=True)
    return model


def rewrite_shipped_models(paths, repo_root) -> None:
    """Rewrites model files in place and every record of their sha256: models/manifest.json, the model cards
    (models/<name>.md) and the parity fixture (test/fixtures/model-parity/fixture.json)."""
    import hashlib
    import json
    from pathlib import Path

    import onnx

    def sha256(path: Path) -> str:
        return hashlib.sha256(path.read_bytes()).hexdigest()

    repo_root = Path(repo_root)
    records = [repo_root / "models" / "manifest.json", repo_root / "test" / "fixtures" / "model-parity" / "fixture.json"]
    records += sorted((repo_root / "models").glob("*.md"))
    for path in map(Path, paths):
        before = sha256(path)
        onnx.save(decompose_instance_norm(onnx.load(str(path))), str(path))
        after = sha256(path)
        for record in records:
            if record.exists() and before in record.read_text():
                record.write_text(record.read_text().replace(before, after))
        print(json.dumps({"file": str(path), "sha256_before": before, "sha256": after}))


def main() -> None:
    import argparse
    from pathlib import Path

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", help="ONNX files to rewrite in place (already rewritten ones are unchanged)")
    parser.add_argument("--repo", default=str(Path(__file__).resolve().parents[2]),
                        help="repository whose manifest, model cards and parity fixture name the files' sha256")
    args = parser.parse_args()
    rewrite_shipped_models(args.models, args.repo)


if __name__ == "__main__":
    main()
