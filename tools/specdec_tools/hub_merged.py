"""optimum's merged decoder (`onnx/decoder_model_merged.onnx`, older exports of Llama-family repos
such as Xenova/TinyLlama-1.1B-Chat-v1.0) from two LazyModels (hub_layout.py), one tensor at a time:
one `If` on a `use_cache_branch` bool input whose then-branch is the with-past decoder and whose
else-branch the no-past one, both reading one shared set of outer initializers (tensors equal in
type, shape and values are stored once). formats.merge_decoders writes the GPT-2 stand-ins' merged
files the same way from whole ModelProtos.
"""

from __future__ import annotations

import copy
import hashlib

import onnx
from onnx import TensorProto, helper

from .hub_layout import LazyModel, stub


def _renamed(t: onnx.TensorProto, name: str) -> onnx.TensorProto:
    out = onnx.TensorProto()
    out.CopyFrom(t)
    out.name = name
    return out


def merge_lazy(no_past: LazyModel, with_past: LazyModel) -> LazyModel:
    """One model whose `use_cache_branch` input picks the with-past (true) or no-past graph."""
    outer_inputs = {i.name for i in with_past.model.graph.input}
    initializers: list[onnx.TensorProto] = []
    tensors = {}
    by_key: dict[tuple, str] = {}

    def branch(lazy: LazyModel, prefix: str) -> onnx.GraphProto:
        g = copy.deepcopy(lazy.model.graph)
        rename: dict[str, str] = {}
        for init in g.initializer:
            key = (init.data_type, tuple(init.dims), hashlib.sha1(lazy.array(init.name).tobytes()).hexdigest())
            if key not in by_key:
                shared = f"{prefix}{init.name}"
                by_key[key] = shared
                initializers.append(stub(shared, init.data_type, init.dims))
                tensors[shared] = lambda read=lazy.tensors[init.name], shared=shared: _renamed(read(), shared)
            rename[init.name] = by_key[key]
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
    inputs = list(with_past.model.graph.input) + [helper.make_tensor_value_info("use_cache_branch", TensorProto.BOOL, [1])]
    outputs = list(with_past.model.graph.output)
    merged_if = helper.make_node(
        "If", ["use_cache_branch"], [o.name for o in outputs], name="optimum::if", then_branch=then_graph, else_branch=else_graph
    )
    graph = helper.make_graph([merged_if], "merged_decoder", inputs, outputs, initializers)
    opsets = {(o.domain, o.version): o for o in [*with_past.model.opset_import, *no_past.model.opset_import]}
    model = helper.make_model(graph, opset_imports=list(opsets.values()), producer_name="specdec-standin")
    model.ir_version = with_past.model.ir_version
    return LazyModel(model, tensors)
