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
"""

from __future__ import annotations

import copy
from pathlib import Path

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

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


def quantize_q4(model: onnx.ModelProto) -> onnx.ModelProto:
    """Every MatMul with a constant 2-D float weight as MatMulNBits (the `_q4` / `_q4f16` files)."""
    model = copy.deepcopy(model)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    nodes: list[onnx.NodeProto] = []
    extra: list[onnx.TensorProto] = []
    for node in g.node:
        weight = inits.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if weight is None or weight.data_type not in (TensorProto.FLOAT, TensorProto.FLOAT16) or len(weight.dims) != 2:
            nodes.append(node)
            continue
        w = numpy_helper.to_array(weight)
        k, n = w.shape
        packed, scales = quantize_blocks(w)
        extra += [
            numpy_helper.from_array(packed, f"{weight.name}_Q4"),
            numpy_helper.from_array(scales.astype(w.dtype), f"{weight.name}_scales"),
        ]
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
    used = {i for nd in nodes for i in nd.input}
    kept = [t for t in g.initializer if t.name in used]
    del g.node[:]
    g.node.extend(nodes)
    del g.initializer[:]
    g.initializer.extend(kept + extra)
    if not any(o.domain == "com.microsoft" for o in model.opset_import):
        model.opset_import.append(helper.make_opsetid("com.microsoft", 1))
    return model


def share_tied_head(model: onnx.ModelProto) -> onnx.ModelProto:
    """The MatMul weight equal to the input_ids table transposed reads Transpose(table) instead."""
    model = copy.deepcopy(model)
    g = model.graph
    inits = {t.name: t for t in g.initializer}
    tables = [inits[n.input[0]] for n in g.node if n.op_type == "Gather" and n.input[1] == "input_ids" and n.input[0] in inits]
    if not tables:
        return model
    table = tables[0]
    e = numpy_helper.to_array(table)
    for i, node in enumerate(g.node):
        w = inits.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if w is None or list(w.dims) != [e.shape[1], e.shape[0]] or not np.array_equal(numpy_helper.to_array(w), e.T):
            continue
        transposed = f"{table.name}_transposed"
        g.node.insert(i, helper.make_node("Transpose", [table.name], [transposed], name="tied_head_transpose", perm=[1, 0]))
        node.input[1] = transposed
        used = {x for nd in g.node for x in nd.input}
        kept = [t for t in g.initializer if t.name in used]
        del g.initializer[:]
        g.initializer.extend(kept)
        break
    return model


def weight_bytes(model: onnx.ModelProto) -> int:
    return sum(numpy_helper.to_array(t).nbytes for t in model.graph.initializer)


def save_hub_onnx(model: onnx.ModelProto, path: Path, external: bool, chunk_bytes: int = PROTOBUF_LIMIT) -> list[str]:
    """Write `model` at `path`; with `external`, its initializers of 1 kB or more go to
    `{name}_data`, `{name}_data_1`, ... (each at most chunk_bytes, a tensor never split).
    Returns the data files' names (empty when the weights stay inside the graph)."""
    model = copy.deepcopy(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    files: list[str] = []
    if external:
        handle = None
        offset = 0
        for t in model.graph.initializer:
            raw = numpy_helper.to_array(t).tobytes()
            if len(raw) < EXTERNAL_MIN_BYTES:
                continue
            if handle is None or (offset > 0 and offset + len(raw) > chunk_bytes):
                if handle is not None:
                    handle.close()
                files.append(f"{path.name}_data" + (f"_{len(files)}" if files else ""))
                handle = open(path.parent / files[-1], "wb")
                offset = 0
            handle.write(raw)
            dims, dtype, name = list(t.dims), t.data_type, t.name
            t.Clear()
            t.name, t.data_type = name, dtype
            t.dims.extend(dims)
            t.data_location = TensorProto.EXTERNAL
            for key, value in (("location", files[-1]), ("offset", str(offset)), ("length", str(len(raw)))):
                entry = t.external_data.add()
                entry.key, entry.value = key, value
            offset += len(raw)
        if handle is not None:
            handle.close()
    onnx.save(model, str(path))
    return files
