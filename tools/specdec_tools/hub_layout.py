"""The layouts onnx-community and transformers.js ship Llama/Qwen2/Phi-3 decoders in, made from
one fp32 export: `onnx/model{,_fp16,_q4,_q4f16}.onnx`, weights in external data beside a small
graph (`model.onnx_data`, split `_data_1`, `_data_2`, ... where a file would pass 2 GB), and a
config.json whose `transformers.js_config` names the float16 KV caches and the data files.

- `quantize_q4`: 4-bit block-wise weights as onnxruntime's `MatMulNBitsQuantizer` (the
  `DefaultWeightOnlyQuantizer`) writes them, with transformers.js' quantize script's settings
  (block 32, symmetric): each MatMul whose weight B [K, N] is constant becomes a com.microsoft
  `MatMulNBits` (K, N, bits 4, block_size 32) reading `B_Q4` uint8 [N, K / 32, 16] (two values a
  byte, the even one in the low nibble), `B_scales` [N * K / 32] in the activation's type and no
  zero points (symmetric: 8). A block's scale is its largest-magnitude value over -8, as MLAS
  quantizes symmetric blocks. `_q4f16` is the fp16 model so quantized (float16 scales).
- `share_tied_head`: a tied head reads the token embedding through a Transpose instead of a
  second, transposed copy (what constant folding leaves): the Hub's fp32 and fp16 files weigh one
  copy (Qwen2.5-0.5B's model.onnx, 1.99 GB, is its 494M parameters at 4 bytes). The q4 files
  quantize the head as any other matrix, so they keep the float embedding beside it.
- `save_hub_onnx`: the graph with every initializer of 1 kB or more moved to external data
  files of at most `chunk_bytes` each (onnxruntime reads each tensor from the file it names).
- `LazyModel`, `lazy_load`: every variant is a graph of initializer stubs with a function making
  each tensor, called once as `save_hub_onnx` writes it: a multi-GB model's variants then cost
  the tensor being converted, not another copy of every weight.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper
from onnx.external_data_helper import load_external_data_for_tensor
from onnx.mapping import TENSOR_TYPE_TO_NP_TYPE

from .formats import float16_graph, float16_tensor

BLOCK = 32
# protobuf's limit on one message: beyond it weights must live outside the graph
PROTOBUF_LIMIT = 2**31
EXTERNAL_MIN_BYTES = 1024


def quantize_blocks(w: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """w [K, N] float -> (packed uint8 [N, blocks, BLOCK / 2], scales float32 [N * blocks])."""
    k, n = w.shape
    blocks = (k + BLOCK - 1) // BLOCK
    padded = np.zeros((blocks * BLOCK, n), dtype=np.float32)
    padded[:k] = w.astype(np.float32)
    # [N, blocks, BLOCK]: one row of blocks per output column
    cols = padded.T.reshape(n, blocks, BLOCK)
    idx = np.abs(cols).argmax(axis=2)
    vmax = np.take_along_axis(cols, idx[..., None], axis=2)[..., 0]
    scale = vmax / -8.0
    safe = np.where(scale == 0, 1.0, scale)
    q = np.clip(np.rint(cols / safe[..., None]) + 8, 0, 15).astype(np.uint8)
    q = np.where(scale[..., None] == 0, 8, q).astype(np.uint8)
    packed = (q[..., 0::2] | (q[..., 1::2] << 4)).astype(np.uint8)
    return packed, scale.reshape(-1).astype(np.float32)


def dequantize_q4(packed: np.ndarray, scales: np.ndarray, k: int) -> np.ndarray:
    """The weight a MatMulNBits computes with: [K, N] float32 (for tests and checks)."""
    n, blocks, _ = packed.shape
    q = np.empty((n, blocks, BLOCK), dtype=np.float32)
    q[..., 0::2] = packed & 0x0F
    q[..., 1::2] = packed >> 4
    w = (q - 8) * scales.astype(np.float32).reshape(n, blocks, 1)
    return w.reshape(n, blocks * BLOCK)[:, :k].T


@dataclass
class LazyModel:
    """A graph whose initializers are stubs (name, type and dims, no values) with a way to make
    each one's tensor when it is written: a variant of a multi-GB model then costs only the tensor
    being converted, not another copy of every weight (`save_hub_onnx` writes one at a time)."""

    model: onnx.ModelProto
    tensors: dict[str, Callable[[], onnx.TensorProto]]

    def array(self, name: str) -> np.ndarray:
        return numpy_helper.to_array(self.tensors[name]())

    def stubs(self) -> dict[str, onnx.TensorProto]:
        return {t.name: t for t in self.model.graph.initializer}

    def derive(self) -> "LazyModel":
        """A copy of the graph (small: no weights) reading the same tensors."""
        return LazyModel(copy.deepcopy(self.model), dict(self.tensors))


def stub(name: str, data_type: int, dims) -> onnx.TensorProto:
    t = onnx.TensorProto()
    t.name, t.data_type = name, data_type
    t.dims.extend(dims)
    return t


def set_initializers(model: onnx.ModelProto, stubs: list[onnx.TensorProto]) -> None:
    del model.graph.initializer[:]
    model.graph.initializer.extend(stubs)


def lazy_load(path: Path) -> LazyModel:
    """An exported file as a LazyModel: tensors in the graph stay in their protos (one copy of
    the weights); tensors in external files are read from them when asked for, each time."""
    model = onnx.load(str(path), load_external_data=False)
    g = model.graph
    names = [t.name for t in g.initializer]
    sources: dict[str, onnx.TensorProto] = {}
    while len(g.initializer):
        t = g.initializer.pop()
        sources[t.name] = t
    tensors: dict[str, Callable[[], onnx.TensorProto]] = {}
    for name in names:
        t = sources[name]
        if t.data_location == TensorProto.EXTERNAL:
            tensors[name] = lambda ref=t: _read_external(ref, str(path.parent))
        else:
            tensors[name] = lambda t=t: t
    g.initializer.extend(stub(n, sources[n].data_type, sources[n].dims) for n in names)
    return LazyModel(model, tensors)


def _read_external(ref: onnx.TensorProto, base_dir: str) -> onnx.TensorProto:
    """The tensor with its values, as onnx.load gives it (data in the proto, location default)."""
    t = onnx.TensorProto()
    t.CopyFrom(ref)
    load_external_data_for_tensor(t, base_dir)
    t.data_location = TensorProto.DEFAULT
    del t.external_data[:]
    return t


def replace_nodes(lazy: LazyModel, nodes: list[onnx.NodeProto], extra: list[onnx.TensorProto], microsoft: bool) -> None:
    """The graph's nodes become `nodes`; initializers no node reads are dropped, `extra` appended;
    with `microsoft`, the com.microsoft opset (contrib operators) is imported."""
    g = lazy.model.graph
    used = {i for nd in nodes for i in nd.input}
    kept = [t for t in g.initializer if t.name in used]
    del g.node[:]
    g.node.extend(nodes)
    set_initializers(lazy.model, kept + extra)
    if microsoft and not any(o.domain == "com.microsoft" for o in lazy.model.opset_import):
        lazy.model.opset_import.append(helper.make_opsetid("com.microsoft", 1))


class PairCache:
    """Tensors made by one computation (a weight's 4-bit blocks and their scales; an 8-bit
    tensor, its scale and zero point), computed once and handed out once each, so that none
    stays in memory after it is written."""

    def __init__(self, compute: Callable[[], tuple[onnx.TensorProto, onnx.TensorProto]]) -> None:
        self.compute = compute
        self.pending: dict[int, onnx.TensorProto] = {}

    def take(self, which: int) -> onnx.TensorProto:
        if which not in self.pending:
            self.pending = dict(enumerate(self.compute()))
        return self.pending.pop(which)


def quantize_q4(source: LazyModel) -> LazyModel:
    """Every MatMul with a constant 2-D float weight as MatMulNBits (the `_q4` / `_q4f16` files)."""
    lazy = source.derive()
    stubs = lazy.stubs()
    nodes: list[onnx.NodeProto] = []
    extra: list[onnx.TensorProto] = []
    for node in lazy.model.graph.node:
        weight = stubs.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if weight is None or weight.data_type not in (TensorProto.FLOAT, TensorProto.FLOAT16) or len(weight.dims) != 2:
            nodes.append(node)
            continue
        k, n = weight.dims
        blocks = (k + BLOCK - 1) // BLOCK

        def blocks_of(name=weight.name, read=source.tensors[weight.name]):
            w = numpy_helper.to_array(read())
            packed, scales = quantize_blocks(w)
            return numpy_helper.from_array(packed, f"{name}_Q4"), numpy_helper.from_array(scales.astype(w.dtype), f"{name}_scales")

        pair = PairCache(blocks_of)
        lazy.tensors[f"{weight.name}_Q4"] = lambda pair=pair: pair.take(0)
        lazy.tensors[f"{weight.name}_scales"] = lambda pair=pair: pair.take(1)
        extra += [stub(f"{weight.name}_Q4", TensorProto.UINT8, [n, blocks, BLOCK // 2]), stub(f"{weight.name}_scales", weight.data_type, [n * blocks])]
        nodes.append(
            helper.make_node(
                "MatMulNBits",
                [node.input[0], f"{weight.name}_Q4", f"{weight.name}_scales"],
                [node.output[0]],
                name=f"{node.name}_Q4" if node.name else "",
                domain="com.microsoft",
                K=k,
                N=n,
                bits=4,
                block_size=BLOCK,
            )
        )
    replace_nodes(lazy, nodes, extra, microsoft=True)
    return lazy


def to_float16(source: LazyModel) -> LazyModel:
    """The `_fp16` file: float16 weights (each converted when written), constants, inputs and outputs."""
    lazy = source.derive()
    for t in lazy.model.graph.initializer:
        if t.data_type == TensorProto.FLOAT:
            t.data_type = TensorProto.FLOAT16
            lazy.tensors[t.name] = lambda read=source.tensors[t.name]: float16_tensor(read())
    float16_graph(lazy.model.graph)
    return lazy


def share_tied_head(source: LazyModel) -> LazyModel:
    """The MatMul weight equal to the input_ids table transposed reads Transpose(table) instead."""
    lazy = source.derive()
    g = lazy.model.graph
    stubs = lazy.stubs()
    tables = [stubs[n.input[0]] for n in g.node if n.op_type == "Gather" and n.input[1] == "input_ids" and n.input[0] in stubs]
    if not tables:
        return lazy
    table = tables[0]
    rows, width = table.dims
    for i, node in enumerate(g.node):
        w = stubs.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if w is None or list(w.dims) != [width, rows] or not np.array_equal(lazy.array(w.name), lazy.array(table.name).T):
            continue
        transposed = f"{table.name}_transposed"
        g.node.insert(i, helper.make_node("Transpose", [table.name], [transposed], name="tied_head_transpose", perm=[1, 0]))
        node.input[1] = transposed
        used = {x for nd in g.node for x in nd.input}
        set_initializers(lazy.model, [t for t in g.initializer if t.name in used])
        break
    return lazy


def weight_bytes(lazy: LazyModel) -> int:
    return sum(int(np.prod(t.dims, dtype=np.int64)) * np.dtype(TENSOR_TYPE_TO_NP_TYPE[t.data_type]).itemsize for t in lazy.model.graph.initializer)


def save_hub_onnx(lazy: LazyModel, path: Path, external: bool, chunk_bytes: int = PROTOBUF_LIMIT) -> list[str]:
    """Write `lazy` at `path`, making one tensor at a time; with `external`, its initializers of
    1 kB or more go to `{name}_data`, `{name}_data_1`, ... (each at most chunk_bytes, a tensor
    never split). Returns the data files' names (empty when the weights stay inside the graph)."""
    model = copy.deepcopy(lazy.model)
    path.parent.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    handle = None
    offset = 0
    for t in model.graph.initializer:
        tensor = lazy.tensors[t.name]()
        raw = numpy_helper.to_array(tensor).tobytes() if external else b""
        if len(raw) < EXTERNAL_MIN_BYTES:
            t.CopyFrom(tensor)
            continue
        if handle is None or (offset > 0 and offset + len(raw) > chunk_bytes):
            if handle is not None:
                handle.close()
            files.append(f"{path.name}_data" + (f"_{len(files)}" if files else ""))
            handle = open(path.parent / files[-1], "wb")
            offset = 0
        handle.write(raw)
        t.data_location = TensorProto.EXTERNAL
        for key, value in (("location", files[-1]), ("offset", str(offset)), ("length", str(len(raw)))):
            entry = t.external_data.add()
            entry.key, entry.value = key, value
        offset += len(raw)
        del tensor, raw
    if handle is not None:
        handle.close()
    onnx.save(model, str(path))
    return files
