"""What tools/export_gguf.py reads and writes, one tensor at a time, so that a real-size model
(SmolLM2-1.7B: 6.8 GB in float32) never sits in memory whole: ONNX initializers read lazily
(external data mapped from `{file}_data`, `_data_1`, ... as the graph names them), tensors as
recipes (shape, float32 values, 4-bit blocks where the file has them), and ggml's Q8_0 and Q4_0
block layouts.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

QK = 32  # ggml's block of Q4_0 and Q8_0, and MatMulNBits' block_size in the Hub's q4 files


def np_dtype(data_type: int) -> np.dtype:
    """an ONNX element type as numpy's (onnx 1.13+ names it in helper, older ones in mapping)"""
    if hasattr(helper, "tensor_dtype_to_np_dtype"):
        return np.dtype(helper.tensor_dtype_to_np_dtype(data_type))
    from onnx import mapping  # Debian's onnx

    return np.dtype(mapping.TENSOR_TYPE_TO_NP_TYPE[data_type])


class Initializers:
    """name -> numpy array, read when asked for: external data is memory-mapped (the file the
    tensor's `location` names, at its offset), so only the tensors in use are read. Identity
    nodes that alias an initializer (exporters keep one copy of equal values) resolve to it."""

    def __init__(self, graph: onnx.GraphProto, folder: Path, nodes: list[onnx.NodeProto]) -> None:
        self._protos = {t.name: t for t in graph.initializer}
        self._folder = folder
        self._alias: dict[str, str] = {}
        for n in [*graph.node, *nodes]:
            if n.op_type == "Identity" and n.input[0] in self._protos:
                self._alias[n.output[0]] = n.input[0]

    def _proto(self, name: str) -> TensorProto | None:
        return self._protos.get(self._alias.get(name, name))

    def __contains__(self, name: str) -> bool:
        return self._proto(name) is not None

    def dims(self, name: str) -> tuple[int, ...] | None:
        t = self._proto(name)
        return None if t is None else tuple(t.dims)

    def ndim(self, name: str) -> int:
        d = self.dims(name)
        return -1 if d is None else len(d)

    def __getitem__(self, name: str) -> np.ndarray:
        t = self._proto(name)
        if t is None:
            raise KeyError(name)
        if t.data_location != TensorProto.EXTERNAL:
            return numpy_helper.to_array(t)
        info = {e.key: e.value for e in t.external_data}
        path = self._folder / info["location"]
        if not path.exists():
            raise SystemExit(f"{path.name} is missing: the graph keeps {t.name}'s weights there (external data); put it beside the .onnx file.")
        dtype = np_dtype(t.data_type)
        return np.memmap(path, dtype=dtype, mode="r", offset=int(info.get("offset", 0)), shape=tuple(t.dims))


def load_graph(onnx_path: Path) -> tuple[onnx.GraphProto, list[onnx.NodeProto], Initializers]:
    """The graph without its external data, the nodes to walk (a merged decoder's with-past
    branch), and its initializers, read lazily."""
    model = onnx.load(str(onnx_path), load_external_data=False)
    graph = model.graph
    nodes = list(graph.node)
    if len(nodes) == 1 and nodes[0].op_type == "If":
        # the merged decoder: its with-past branch reads the outer graph's initializers
        nodes = list(next(a.g for a in nodes[0].attribute if a.name == "then_branch").node)
    return graph, nodes, Initializers(graph, onnx_path.parent, nodes)


@dataclass
class Tensor:
    """One GGUF tensor as a recipe: its numpy shape ([out, in] for a matrix), its float32 values,
    and, for a matrix the file holds in 4-bit blocks, those blocks as (values 0..15 [out, in],
    scales [out, in / 32]) so that a Q4_0 export keeps exactly the file's 4-bit values."""

    shape: tuple[int, ...]
    f32: Callable[[], np.ndarray]
    q4: Callable[[], tuple[np.ndarray, np.ndarray]] | None = None

    @staticmethod
    def of(a: np.ndarray) -> "Tensor":
        return Tensor(tuple(a.shape), lambda: a)

    def rows_permuted(self, permute: Callable[[np.ndarray], np.ndarray]) -> "Tensor":
        """the same matrix with its rows reordered (the rotary pairing); blocks run along a row,
        so the 4-bit values and scales move with their rows"""
        f32, q4 = self.f32, self.q4
        return Tensor(
            self.shape,
            lambda: permute(f32()),
            None if q4 is None else lambda: tuple(permute(x) for x in q4()),  # type: ignore[return-value]
        )


def matmul_weight(b: np.ndarray) -> Tensor:
    """a MatMul's constant B [in, out] as llama.cpp's [out, in]"""
    return Tensor((b.shape[1], b.shape[0]), lambda: np.ascontiguousarray(np.asarray(b, dtype=np.float32).T))


def nbits_weight(packed: np.ndarray, scales: np.ndarray, k: int, n: int) -> Tensor:
    """com.microsoft MatMulNBits (bits 4, block 32, symmetric: no zero points, so 8) as
    [out = N, in = K]: B_Q4 uint8 [N, K / 32, 16] holds two values a byte, the even one in the low
    nibble; the weight is (value - 8) x the block's scale."""
    blocks = packed.shape[1]

    def values() -> tuple[np.ndarray, np.ndarray]:
        p = np.asarray(packed)
        q = np.empty((n, blocks, QK), dtype=np.uint8)
        q[..., 0::2] = p & 0x0F
        q[..., 1::2] = p >> 4
        s = np.asarray(scales, dtype=np.float32).reshape(n, blocks)
        return q.reshape(n, blocks * QK)[:, :k], s

    def f32() -> np.ndarray:
        q, s = values()
        w = (q.reshape(n, -1, QK).astype(np.float32) - 8) * s[..., None] if k % QK == 0 else None
        if w is None:  # a ragged last block: pad, scale, cut
            padded = np.full((n, blocks * QK), 8, dtype=np.uint8)
            padded[:, :k] = q
            w = (padded.reshape(n, blocks, QK).astype(np.float32) - 8) * s[..., None]
        return np.ascontiguousarray(w.reshape(n, -1)[:, :k])

    return Tensor((n, k), f32, values if k % QK == 0 else None)


def q8_0_bytes(a: np.ndarray) -> bytes:
    """ggml's quantize_row_q8_0_ref over the rows of a [out, in] matrix (in a multiple of 32):
    per block a float16 scale amax / 127 and 32 int8."""
    blocks = a.astype(np.float32).reshape(-1, QK)
    d = np.abs(blocks).max(axis=1) / 127.0
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d > 0)
    out = np.empty(len(blocks), dtype=[("d", "<f2"), ("q", "i1", QK)])
    out["d"] = d.astype(np.float16)
    out["q"] = np.round(blocks * inv[:, None]).astype(np.int8)
    return out.tobytes()


def q4_0_from_f32(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ggml's quantize_row_q4_0_ref: a block's scale is its largest-magnitude value over -8, each
    value min(15, trunc(x / scale + 8.5)). Returns (values 0..15 [out, in], scales [out, in/32])."""
    rows = a.shape[0]
    blocks = a.astype(np.float32).reshape(rows, -1, QK)
    idx = np.abs(blocks).argmax(axis=2)
    vmax = np.take_along_axis(blocks, idx[..., None], axis=2)[..., 0]
    d = vmax / -8.0
    inv = np.divide(1.0, d, out=np.zeros_like(d), where=d != 0)
    q = np.minimum(15, (blocks * inv[..., None] + 8.5).astype(np.int8)).astype(np.uint8)
    return q.reshape(rows, -1), d


def q4_0_bytes(values: np.ndarray, scales: np.ndarray) -> bytes:
    """ggml's block_q4_0 for each block of 32 along a row: a float16 scale, then 16 bytes whose
    low nibble is value j and high nibble value j + 16 (not MatMulNBits' even/odd pairing)."""
    q = values.reshape(-1, QK).astype(np.uint8)
    out = np.empty(len(q), dtype=[("d", "<f2"), ("qs", "u1", QK // 2)])
    out["d"] = scales.reshape(-1).astype(np.float16)
    out["qs"] = q[:, : QK // 2] | (q[:, QK // 2 :] << 4)
    return out.tobytes()
