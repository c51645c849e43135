"""optimum's merged decoder (`onnx/decoder_model_merged.onnx`, older exports of Llama-family repos
such as Xenova/TinyLlama-1.1B-Chat-v1.0) from two LazyModels (hub_layout.py), one tensor at a time:
one `If` on a `use_cache_branch` bool input whose then-branch is the with-past decoder and whose
else-branch the no-past one, both reading one shared set of outer initializers (tensors equal in
type, shape and values are stored once). formats.merge_graphs builds the `If` for both this and the
GPT-2 stand-ins' merged files (formats.merge_decoders, from whole ModelProtos).
"""

from __future__ import annotations

import hashlib

import onnx
from onnx import helper

from .formats import merge_graphs
from .hub_layout import LazyModel, stub


def _renamed(t: onnx.TensorProto, name: str) -> onnx.TensorProto:
    out = onnx.TensorProto()
    out.CopyFrom(t)
    out.name = name
    return out


def merge_lazy(no_past: LazyModel, with_past: LazyModel) -> LazyModel:
    """One model whose `use_cache_branch` input picks the with-past (true) or no-past graph."""
    initializers: list[onnx.TensorProto] = []
    tensors = {}
    by_key: dict[tuple, str] = {}
    lazy_of = {"with_past/": with_past, "no_past/": no_past}

    def share(init: onnx.TensorProto, prefix: str) -> str:
        lazy = lazy_of[prefix]
        key = (init.data_type, tuple(init.dims), hashlib.sha1(lazy.array(init.name).tobytes()).hexdigest())
        if key not in by_key:
            shared = f"{prefix}{init.name}"
            by_key[key] = shared
            initializers.append(stub(shared, init.data_type, init.dims))
            tensors[shared] = lambda read=lazy.tensors[init.name], shared=shared: _renamed(read(), shared)
        return by_key[key]

    merged_if, inputs, outputs = merge_graphs(no_past.model.graph, with_past.model.graph, share)
    graph = helper.make_graph([merged_if], "merged_decoder", inputs, outputs, initializers)
    opsets = {(o.domain, o.version): o for o in [*with_past.model.opset_import, *no_past.model.opset_import]}
    model = helper.make_model(graph, opset_imports=list(opsets.values()), producer_name="specdec-standin")
    model.ir_version = with_past.model.ir_version
    return LazyModel(model, tensors)
