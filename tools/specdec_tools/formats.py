"""The ONNX file formats the Hub's GPT-2 repos carry, made from one fp32 export.

- `merge_decoders`: optimum's `decoder_model_merged.onnx`: one `If` on `use_cache_branch` whose
  then-branch is the with-past decoder and whose else-branch is the no-past one; both branches
  read one shared set of initializers from the outer graph.
- `quantize_dynamic`: onnxruntime's dynamic int8 quantization of every MatMul with a constant
  weight (`DynamicQuantizeLinear` on the activation, a symmetric per-tensor int8 weight,
  `MatMulInteger`, then the two scales multiplied back in), the `_quantized` files.
- `to_float16`: float16 weights, constants, KV-cache inputs and outputs and logits, the `_fp16`
  files (constants outside float16's range, such as the attention mask's fill, are clamped).
"""

from __future__ import annotations

import copy
import hashlib
from typing import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

F32, F16 = TensorProto.FLOAT, TensorProto.FLOAT16


def _initializer_key(t: onnx.TensorProto) -> tuple:
    """Equal for two initializers with the same dtype, shape and values, whatever their names."""
    return (t.data_type, tuple(t.dims), hashlib.sha1(numpy_helper.to_array(t).tobytes()).hexdigest())


def merge_graphs(
    no_past: onnx.GraphProto, with_past: onnx.GraphProto, share: Callable[[onnx.TensorProto, str], str]
) -> tuple[onnx.NodeProto, list[onnx.ValueInfoProto], list[onnx.ValueInfoProto]]:
    """optimum's `If` on `use_cache_branch` (then: with past, else: no past), its inputs and outputs.
    `share(initializer, prefix)` names the outer initializer a branch's initializer is read as
    (the caller stores each distinct tensor once)."""
    outer_inputs = {i.name for i in with_past.input}

    def branch(graph: onnx.GraphProto, prefix: str) -> onnx.GraphProto:
        g = copy.deepcopy(graph)
        rename: dict[str, str] = {init.name: share(init, prefix) for init in g.initializer}
        for node in g.node:
            for value in node.output:
                rename.setdefault(value, f"{prefix}{value}")
        for node in g.node:
            node.name = f"{prefix}{node.name}"
            node.input[:] = [rename.get(v, v) if v not in outer_inputs else v for v in node.input]
            node.output[:] = [rename[v] for v in node.output]
        outputs = []
        for out in g.output:
            vi = copy.deepcopy(out)
            vi.name = rename.get(out.name, out.name)
            outputs.append(vi)
        return helper.make_graph(list(g.node), prefix.rstrip("/"), [], outputs)

    then_graph = branch(with_past, "with_past/")
    else_graph = branch(no_past, "no_past/")
    inputs = list(with_past.input) + [helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1])]
    outputs = list(with_past.output)
    merged_if = helper.make_node(
        "If",
        ["use_cache_branch"],
        [o.name for o in outputs],
        name="optimum::if",
        then_branch=then_graph,
        else_branch=else_graph,
    )
    return merged_if, inputs, outputs


def merge_decoders(no_past: onnx.ModelProto, with_past: onnx.ModelProto) -> onnx.ModelProto:
    """One model whose `use_cache_branch` input picks the with-past (true) or no-past graph."""
    initializers: list[onnx.TensorProto] = []
    by_key: dict[tuple, str] = {}

    def share(init: onnx.TensorProto, prefix: str) -> str:
        key = _initializer_key(init)
        if key not in by_key:
            shared = copy.deepcopy(init)
            shared.name = f"{prefix}{init.name}"
            by_key[key] = shared.name
            initializers.append(shared)
        return by_key[key]

    merged_if, inputs, outputs = merge_graphs(no_past.graph, with_past.graph, share)
    graph = helper.make_graph([merged_if], "merged_decoder", inputs, outputs, initializers)
    model = helper.make_model(graph, opset_imports=list(with_past.opset_import), producer_name="specdec-standin")
    model.ir_version = with_past.ir_version
    return model


def quantize_dynamic(model: onnx.ModelProto) -> onnx.ModelProto:
    """Dynamic int8 MatMuls, as onnxruntime.quantization.quantize_dynamic writes them."""
    model = copy.deepcopy(model)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    nodes: list[onnx.NodeProto] = []
    extra: list[onnx.TensorProto] = []
    for node in g.node:
        weight = inits.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if weight is None or weight.data_type != F32 or len(weight.dims) != 2:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(weight)
        scale = np.float32(max(float(np.abs(w).max()), 1e-8) / 127.0)
        wq = np.clip(np.rint(w / scale), -127, 127).astype(np.int8)
        a, out, base = node.input[0], node.output[0], node.name or node.output[0]
        names = {k: f"{base}_{k}" for k in ("a_q", "a_scale", "a_zp", "int", "float", "scale")}
        extra += [
            numpy_helper.from_array(wq, f"{weight.name}_quantized"),
            numpy_helper.from_array(np.array(scale, dtype=np.float32), f"{weight.name}_scale"),
            numpy_helper.from_array(np.array(0, dtype=np.int8), f"{weight.name}_zero_point"),
        ]
        nodes += [
            helper.make_node("DynamicQuantizeLinear", [a], [names["a_q"], names["a_scale"], names["a_zp"]], name=f"{base}_QuantizeLinear"),
            helper.make_node(
                "MatMulInteger",
                [names["a_q"], f"{weight.name}_quantized", names["a_zp"], f"{weight.name}_zero_point"],
                [names["int"]],
                name=f"{base}_quant",
            ),
            helper.make_node("Cast", [names["int"]], [names["float"]], to=F32, name=f"{base}_output_cast"),
            helper.make_node("Mul", [names["a_scale"], f"{weight.name}_scale"], [names["scale"]], name=f"{base}_scales_mul"),
            helper.make_node("Mul", [names["float"], names["scale"]], [out], name=f"{base}_output_scale_mul"),
        ]
    used = {i for n in nodes for i in n.input}
    kept = [t for t in g.initializer if t.name in used]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(kept + extra)
    return model


def _f16(a: np.ndarray) -> np.ndarray:
    info = np.finfo(np.float16)
    return np.clip(a, info.min, info.max).astype(np.float16)


def float16_tensor(t: onnx.TensorProto) -> onnx.TensorProto:
    """A float32 initializer as float16 (clamped to its range)."""
    return numpy_helper.from_array(_f16(numpy_helper.to_array(t)), t.name)


def float16_graph(g: onnx.GraphProto) -> None:
    """In place: every float32 constant, Cast target, input, output and value_info of the graph as
    float16 (the initializers are left to the caller: `float16_tensor`)."""
    for node in g.node:
        for attr in node.attribute:
            if node.op_type == "Constant" and attr.name == "value" and attr.t.data_type == F32:
                attr.t.CopyFrom(numpy_helper.from_array(_f16(numpy_helper.to_array(attr.t)), attr.t.name))
            if node.op_type == "Cast" and attr.name == "to" and attr.i == F32:
                attr.i = F16
            if node.op_type == "ConstantOfShape" and attr.name == "value" and attr.t.data_type == F32:
                attr.t.CopyFrom(numpy_helper.from_array(_f16(numpy_helper.to_array(attr.t)), attr.t.name))
    for vi in [*g.input, *g.output, *g.value_info]:
        if vi.type.tensor_type.elem_type == F32:
            vi.type.tensor_type.elem_type = F16


def to_float16(model: onnx.ModelProto) -> onnx.ModelProto:
    """Every float32 tensor of the graph as float16: weights, constants, inputs and outputs."""
    model = copy.deepcopy(model)
    g = model.graph
    for i, t in enumerate(g.initializer):
        if t.data_type == F32:
            g.initializer[i].CopyFrom(float16_tensor(t))
    float16_graph(g)
    return model
