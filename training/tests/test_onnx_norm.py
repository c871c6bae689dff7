import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper

from rtliver_train.export import export_onnx
from rtliver_train.models import UNet3d, UNetConfig
from rtliver_train.onnx_norm import decompose_instance_norm

NUMPY_OPS = {
    "Sub": np.subtract, "Mul": np.multiply, "Add": np.add, "Div": np.divide, "Sqrt": np.sqrt,
}


def run_with_numpy(model, inputs):
    """Evaluates a graph of the few operators the rewrite emits (enough for one normalisation)."""
    values = {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}
    values.update(inputs)
    for node in model.graph.node:
        args = [values[name] for name in node.input]
        if node.op_type == "Unsqueeze":
            values[node.output[0]] = np.expand_dims(args[0], tuple(int(a) for a in args[1]))
        elif node.op_type == "ReduceMean":
            axes = tuple(next(a.ints for a in node.attribute if a.name == "axes"))
            values[node.output[0]] = args[0].mean(axis=axes, keepdims=True, dtype=np.float64).astype(np.float32)
        else:
            values[node.output[0]] = NUMPY_OPS[node.op_type](*args).astype(np.float32)
    return values[model.graph.output[0].name]


def single_instance_norm(channels=3, epsilon=1e-5):
    rng = np.random.default_rng(0)
    scale, bias = rng.normal(size=channels).astype(np.float32), rng.normal(size=channels).astype(np.float32)
    node = helper.make_node("InstanceNormalization", ["x", "scale", "bias"], ["y"], epsilon=epsilon)
    shape = [1, channels, 4, 5, 6]
    graph = helper.make_graph(
        [node], "norm", [helper.make_tensor_value_info("x", TensorProto.FLOAT, shape)],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, shape)],
        [numpy_helper.from_array(scale, "scale"), numpy_helper.from_array(bias, "bias")])
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), scale, bias, shape


def test_rewritten_normalisation_computes_instance_norm():
    model, scale, bias, shape = single_instance_norm()
    x = (np.random.default_rng(1).normal(size=shape) * 50 + 100).astype(np.float32)
    mean = x.mean(axis=(2, 3, 4), keepdims=True, dtype=np.float64)
    var = ((x - mean) ** 2).mean(axis=(2, 3, 4), keepdims=True)
    expected = (x - mean) / np.sqrt(var + 1e-5) * scale.reshape(1, -1, 1, 1, 1) + bias.reshape(1, -1, 1, 1, 1)
    rewritten = decompose_instance_norm(model)
    assert "InstanceNormalization" not in {n.op_type for n in rewritten.graph.node}
    np.testing.assert_allclose(run_with_numpy(rewritten, {"x": x}), expected, atol=1e-5)


def test_means_are_taken_one_axis_at_a_time():
    rewritten = decompose_instance_norm(single_instance_norm()[0])
    axes = [list(next(a.ints for a in n.attribute if a.name == "axes")) for n in rewritten.graph.node if n.op_type == "ReduceMean"]
    assert axes == [[4], [3], [2], [4], [3], [2]]  # mean, then variance of the centred values


def test_exported_network_has_no_instance_normalization_and_rewriting_again_changes_nothing(tmp_path):
    torch.manual_seed(0)
    model = UNet3d(UNetConfig(channels=(2, 3, 4, 5)))
    path = tmp_path / "m.onnx"
    export_onnx(model, path)
    graph_model = onnx.load(str(path))
    ops = [n.op_type for n in graph_model.graph.node]
    norms = sum(isinstance(m, torch.nn.modules.instancenorm._InstanceNorm) or type(m).__name__.endswith("InstanceNorm3d")
                for m in model.modules())
    assert "InstanceNormalization" not in ops and ops.count("ReduceMean") == 6 * norms > 0
    before = graph_model.SerializeToString()
    assert decompose_instance_norm(graph_model).SerializeToString() == before
