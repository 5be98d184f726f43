#!/usr/bin/python3
"""Builds the project's small ONNX models into models/<name>/1/model.onnx.

Run with Debian's interpreter, which has python3-onnx and python3-numpy from apt
(a pyenv `python3` earlier on PATH usually lacks onnx):

    /usr/bin/python3 scripts/generate_models.py [--out models]

The output is byte-reproducible: fixed opset and IR version, fixed producer, fixed
numpy seeds, and no timestamps, so running the script twice writes identical files.
models/README.md describes each model.
"""

import argparse
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 17  # the newest opset Debian's onnx 1.12 knows; ORT 1.32 runs it
IR_VERSION = 8  # the IR version that goes with opset 17
PRODUCER = "HighPerfInference scripts/generate_models.py"
PRODUCER_VERSION = "1"
MLP_SEED = 20261121


def tensor(name, elem_type, shape):
    return helper.make_tensor_value_info(name, elem_type, shape)


def model(graph, doc):
    m = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", OPSET)],
        producer_name=PRODUCER,
        producer_version=PRODUCER_VERSION,
        doc_string=doc,
    )
    m.ir_version = IR_VERSION
    m.model_version = 1
    onnx.checker.check_model(m, full_check=True)
    return m


def add_sub(elem_type, name):
    """Triton's `simple`: OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1 over [N, 16]."""
    shape = ["batch", 16]
    graph = helper.make_graph(
        [
            helper.make_node("Add", ["INPUT0", "INPUT1"], ["OUTPUT0"], name="add"),
            helper.make_node("Sub", ["INPUT0", "INPUT1"], ["OUTPUT1"], name="sub"),
        ],
        name,
        [tensor("INPUT0", elem_type, shape), tensor("INPUT1", elem_type, shape)],
        [tensor("OUTPUT0", elem_type, shape), tensor("OUTPUT1", elem_type, shape)],
    )
    return model(graph, "OUTPUT0 = INPUT0 + INPUT1, OUTPUT1 = INPUT0 - INPUT1")


def identity_fp32():
    shape = ["batch", "width"]
    graph = helper.make_graph(
        [helper.make_node("Identity", ["INPUT0"], ["OUTPUT0"], name="identity")],
        "identity_fp32",
        [tensor("INPUT0", TensorProto.FLOAT, shape)],
        [tensor("OUTPUT0", TensorProto.FLOAT, shape)],
    )
    return model(graph, "OUTPUT0 = INPUT0")


# One Identity per Open Inference Protocol datatype, named after the OIP name.
ALL_TYPES = [
    ("BOOL", TensorProto.BOOL),
    ("UINT8", TensorProto.UINT8),
    ("UINT16", TensorProto.UINT16),
    ("UINT32", TensorProto.UINT32),
    ("UINT64", TensorProto.UINT64),
    ("INT8", TensorProto.INT8),
    ("INT16", TensorProto.INT16),
    ("INT32", TensorProto.INT32),
    ("INT64", TensorProto.INT64),
    ("FP16", TensorProto.FLOAT16),
    ("FP32", TensorProto.FLOAT),
    ("FP64", TensorProto.DOUBLE),
    ("BF16", TensorProto.BFLOAT16),
    ("BYTES", TensorProto.STRING),
]


def identity_all_types():
    shape = ["batch", "width"]
    graph = helper.make_graph(
        [helper.make_node("Identity", [f"IN_{t}"], [f"OUT_{t}"], name=f"identity_{t.lower()}") for t, _ in ALL_TYPES],
        "identity_all_types",
        [tensor(f"IN_{t}", e, shape) for t, e in ALL_TYPES],
        [tensor(f"OUT_{t}", e, shape) for t, e in ALL_TYPES],
    )
    return model(graph, "OUT_<T> = IN_<T> for every Open Inference Protocol datatype T")


def fixed_vec4():
    """No batch dimension: a fixed [4] vector, doubled."""
    two = numpy_helper.from_array(np.array(2.0, dtype=np.float32), "two")
    graph = helper.make_graph(
        [helper.make_node("Mul", ["INPUT0", "two"], ["OUTPUT0"], name="double")],
        "fixed_vec4",
        [tensor("INPUT0", TensorProto.FLOAT, [4])],
        [tensor("OUTPUT0", TensorProto.FLOAT, [4])],
        initializer=[two],
    )
    return model(graph, "OUTPUT0 = 2 * INPUT0 over a fixed [4] vector")


def mlp():
    """256-1024-1024-16, ReLU between layers, softmax at the end; He-initialised weights, zero biases."""
    rng = np.random.default_rng(MLP_SEED)
    sizes = [256, 1024, 1024, 16]
    nodes, inits = [], []
    x = "INPUT0"
    for i, (fan_in, fan_out) in enumerate(zip(sizes, sizes[1:])):
        w = (rng.standard_normal((fan_in, fan_out)) * np.sqrt(2.0 / fan_in)).astype(np.float32)
        b = np.zeros(fan_out, dtype=np.float32)
        inits += [numpy_helper.from_array(w, f"w{i}"), numpy_helper.from_array(b, f"b{i}")]
        last = i == len(sizes) - 2
        y = "logits" if last else f"h{i}"
        nodes.append(helper.make_node("Gemm", [x, f"w{i}", f"b{i}"], [y], name=f"dense{i}"))
        if not last:
            nodes.append(helper.make_node("Relu", [y], [f"{y}_relu"], name=f"relu{i}"))
            y = f"{y}_relu"
        x = y
    nodes.append(helper.make_node("Softmax", [x], ["OUTPUT0"], name="softmax", axis=-1))
    graph = helper.make_graph(
        nodes,
        "mlp",
        [tensor("INPUT0", TensorProto.FLOAT, ["batch", 256])],
        [tensor("OUTPUT0", TensorProto.FLOAT, ["batch", 16])],
        initializer=inits,
    )
    return model(graph, f"MLP 256-1024-1024-16, ReLU, softmax; He init from numpy seed {MLP_SEED}")


MODELS = {
    "add_sub": lambda: add_sub(TensorProto.FLOAT, "add_sub"),
    "add_sub_int32": lambda: add_sub(TensorProto.INT32, "add_sub_int32"),
    "identity_fp32": identity_fp32,
    "identity_all_types": identity_all_types,
    "fixed_vec4": fixed_vec4,
    "mlp": mlp,
}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir, "models")
    parser.add_argument("--out", default=os.path.normpath(root), help="models folder (default: the repository's)")
    args = parser.parse_args()
    for name, build in MODELS.items():
        path = os.path.join(args.out, name, "1", "model.onnx")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(build().SerializeToString())
        print(f"{path} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
