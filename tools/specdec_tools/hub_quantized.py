"""The 8-bit and bitsandbytes 4-bit files transformers.js' quantize script writes (scripts/quantize.py
in huggingface/transformers.js), made from a LazyModel one tensor at a time (hub_layout.py):

- `quantize_8bit` (`_int8`, `_uint8`, and `_quantized`, which that script writes with int8 weights
  for models without Conv or fused attention operators, as these): onnxruntime's ONNXQuantizer in
  IntegerOps mode (dynamic), per tensor, MatMulConstBOnly. Each MatMul with a constant 2-D weight
  becomes `DynamicQuantizeLinear` on its activation (uint8, once per activation), `MatMulInteger`
  on `{w}_quantized` (int8 symmetric, zero point 0; or uint8 asymmetric), a Cast to float and the
  two scales multiplied back. The token table of the embedding `Gather` is quantized as an
  activation is (uint8, asymmetric) and the Gather's output dequantized (`DequantizeLinear`);
  a tied head's Transpose of the table reads the uint8 table too (onnxruntime's Direct8BitOp),
  dequantized after it, and its MatMul stays float (its weight is no constant).
- `quantize_bnb4` (`_bnb4`): onnxruntime's MatMulBnb4Quantizer with the script's defaults (NF4,
  block 64): each MatMul with a constant 2-D weight B [K, N] becomes com.microsoft `MatMulBnb4`
  (K, N, block_size, quant_type) reading `{B}_Bnb4`, uint8 [(N K + 1) / 2]: B transposed ([N, K]),
  flattened, cut into blocks, each value divided by its block's largest magnitude and mapped to the
  nearest of the 16 NF4 (or FP4) levels by onnxruntime's thresholds, two codes a byte, the first in
  the high nibble; and `{B}_absmax` [blocks] (the blocks' largest magnitudes).
"""

from __future__ import annotations

import copy

import numpy as np
import onnx
import torch
from onnx import TensorProto, helper, numpy_helper
from torch import nn

from .hub_layout import LazyModel, PairCache, replace_nodes, stub

F32 = TensorProto.FLOAT

# onnxruntime's ranges for 8-bit weights: int8 symmetric [-127, 127], uint8 [0, 255]
RANGES = {TensorProto.INT8: (-127, 127), TensorProto.UINT8: (0, 255)}

FP4, NF4 = 0, 1
BNB4_BLOCK = 64
# blockwise_quant_block_bnb4.h: a value (divided by its block's absmax) gets the code of the
# interval it falls in, x > threshold moving up (NF4: codes 0..15 in order of level)
NF4_THRESHOLDS = np.array(
    [-0.8480964004993439, -0.6106329262256622, -0.4599952697753906, -0.33967943489551544, -0.23460740596055984,
     -0.13791173323988914, -0.045525018125772476, 0.03979014977812767, 0.1202552504837513, 0.2035212516784668,
     0.2920137718319893, 0.3893125355243683, 0.5016634166240692, 0.6427869200706482, 0.8614784181118011],
    dtype=np.float32,
)
NF4_LEVELS = np.array(
    [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453, -0.28444138169288635, -0.18477343022823334,
     -0.09105003625154495, 0.0, 0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
     0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0],
    dtype=np.float32,
)
# FP4: a sign bit (8) over 3 bits; the magnitude's thresholds and the code of each interval
FP4_THRESHOLDS = np.array([0.00260417, 0.0859375, 0.20833333, 0.29166667, 0.4166667, 0.583333, 0.8333333], dtype=np.float32)
FP4_CODES = np.array([0b000, 0b001, 0b110, 0b111, 0b100, 0b101, 0b010, 0b011], dtype=np.uint8)
FP4_LEVELS = np.array(
    [0.0, 5.208333333e-03, 0.66666667, 1.0, 0.33333333, 0.5, 0.16666667, 0.25,
     -0.0, -5.208333333e-03, -0.66666667, -1.0, -0.33333333, -0.5, -0.16666667, -0.25],
    dtype=np.float32,
)


def quantize_8bit_tensor(w: np.ndarray, qtype: int, symmetric: bool) -> tuple[np.ndarray, np.float32, np.ndarray]:
    """(values, scale, zero point) of one tensor, as onnxruntime's compute_scale_zp and
    quantize_nparray give them: the range widened to hold 0, scale (rmax - rmin) / (qmax - qmin),
    zero point round(qmin - rmin / scale), values round-half-even(w / scale) + zero point, clipped."""
    qmin, qmax = RANGES[qtype]
    rmin, rmax = min(float(w.min()), 0.0), max(float(w.max()), 0.0)
    if symmetric:
        absmax = max(abs(rmin), abs(rmax))
        rmin, rmax = -absmax, absmax
    scale = np.float32((rmax - rmin) / (qmax - qmin)) if rmax > rmin else np.float32(1.0)
    zero_point = int(round(qmin - rmin / float(scale)))
    dtype = np.int8 if qtype == TensorProto.INT8 else np.uint8
    q = np.clip(np.rint(w.astype(np.float32) / scale) + zero_point, qmin, qmax).astype(dtype)
    return q, scale, np.array(zero_point, dtype=dtype)


def _quantized_triple(read, name: str, qtype: int, symmetric: bool) -> PairCache:
    def compute():
        q, scale, zp = quantize_8bit_tensor(numpy_helper.to_array(read()), qtype, symmetric)
        return (
            numpy_helper.from_array(q, f"{name}_quantized"),
            numpy_helper.from_array(np.array(scale, dtype=np.float32), f"{name}_scale"),
            numpy_helper.from_array(zp, f"{name}_zero_point"),
        )

    return PairCache(compute)


def _add_triple(lazy: LazyModel, source: LazyModel, weight: onnx.TensorProto, qtype: int, symmetric: bool) -> list[onnx.TensorProto]:
    cache = _quantized_triple(source.tensors[weight.name], weight.name, qtype, symmetric)
    names = [f"{weight.name}_quantized", f"{weight.name}_scale", f"{weight.name}_zero_point"]
    for i, n in enumerate(names):
        lazy.tensors[n] = lambda cache=cache, i=i: cache.take(i)
    return [stub(names[0], qtype, weight.dims), stub(names[1], F32, []), stub(names[2], qtype, [])]


def quantize_8bit(source: LazyModel, weight_type: int) -> LazyModel:
    """The `_int8` (weight_type INT8) or `_uint8` (UINT8) file; `_quantized` is the INT8 one."""
    lazy = source.derive()
    stubs = lazy.stubs()
    nodes: list[onnx.NodeProto] = []
    extra: list[onnx.TensorProto] = []
    activations: set[str] = set()
    tables: dict[str, str] = {}  # float table -> its uint8 name

    def dequantized(node: onnx.NodeProto, table: str) -> None:
        """node (a Gather or Transpose of the table) on the uint8 table, then DequantizeLinear."""
        out = node.output[0]
        moved = onnx.NodeProto()
        moved.CopyFrom(node)
        moved.input[0] = f"{table}_quantized"
        moved.output[0] = f"{out}_quantized"
        nodes.append(moved)
        nodes.append(
            helper.make_node(
                "DequantizeLinear", [f"{out}_quantized", f"{table}_scale", f"{table}_zero_point"], [out], name=f"{out}_DequantizeLinear"
            )
        )

    for node in lazy.model.graph.node:
        first = stubs.get(node.input[0]) if node.input else None
        if node.op_type == "Gather" and first is not None and first.data_type == F32:
            # quantized as an activation: uint8, asymmetric
            extra += _add_triple(lazy, source, first, TensorProto.UINT8, symmetric=False)
            tables[first.name] = f"{first.name}_quantized"
            dequantized(node, first.name)
            continue
        if node.op_type == "Transpose" and node.input[0] in tables:
            dequantized(node, node.input[0])
            continue
        weight = stubs.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if weight is None or weight.data_type != F32 or len(weight.dims) != 2:
            nodes.append(node)
            continue
        a, out = node.input[0], node.output[0]
        if a not in activations:
            activations.add(a)
            nodes.append(
                helper.make_node(
                    "DynamicQuantizeLinear", [a], [f"{a}_quantized", f"{a}_scale", f"{a}_zero_point"], name=f"{a}_QuantizeLinear"
                )
            )
        extra += _add_triple(lazy, source, weight, weight_type, symmetric=weight_type == TensorProto.INT8)
        base = f"{node.name}_quant" if node.name else f"{out}_quant"
        nodes += [
            helper.make_node(
                "MatMulInteger",
                [f"{a}_quantized", f"{weight.name}_quantized", f"{a}_zero_point", f"{weight.name}_zero_point"],
                [f"{out}_output_quantized"],
                name=base,
            ),
            helper.make_node(
                "Cast", [f"{out}_output_quantized"], [f"{out}_output_quantized_cast_output"], name=f"{out}_output_quantized_cast", to=F32
            ),
            helper.make_node("Mul", [f"{a}_scale", f"{weight.name}_scale"], [f"{base}_scales_mul:0"], name=f"{base}_scales_mul"),
            helper.make_node(
                "Mul", [f"{out}_output_quantized_cast_output", f"{base}_scales_mul:0"], [out], name=f"{base}_output_scale_mul"
            ),
        ]
    replace_nodes(lazy, nodes, extra, microsoft=False)
    return lazy


def bnb4_codes(v: np.ndarray, quant_type: int) -> np.ndarray:
    """Codes of values already divided by their block's absmax (onnxruntime's QuantizeOneNF4/FP4)."""
    if quant_type == NF4:
        return np.searchsorted(NF4_THRESHOLDS, v, side="left").astype(np.uint8)
    sign = np.where(v < 0, 8, 0).astype(np.uint8)
    return FP4_CODES[np.searchsorted(FP4_THRESHOLDS, np.abs(v), side="left")] + sign


def bnb4_blocks(w: np.ndarray, quant_type: int, block: int = BNB4_BLOCK) -> tuple[np.ndarray, np.ndarray]:
    """w [K, N] -> (packed uint8 [(N K + 1) / 2], absmax [blocks] in w's type)."""
    flat = np.ascontiguousarray(w.T).reshape(-1).astype(np.float32)
    numel = flat.size
    blocks = (numel + block - 1) // block
    padded = np.zeros(blocks * block, dtype=np.float32)
    padded[:numel] = flat
    cut = padded.reshape(blocks, block)
    absmax = np.abs(cut).max(axis=1)
    reciprocal = np.where(absmax > 0, np.float32(1.0) / np.where(absmax > 0, absmax, 1), 0).astype(np.float32)
    codes = bnb4_codes((cut * reciprocal[:, None]).reshape(-1)[:numel], quant_type)
    if numel % 2:
        codes = np.concatenate([codes, bnb4_codes(np.zeros(1, dtype=np.float32), quant_type)])
    packed = ((codes[0::2] << 4) | codes[1::2]).astype(np.uint8)
    return packed, absmax.astype(w.dtype)


def dequantize_bnb4(packed: np.ndarray, absmax: np.ndarray, k: int, n: int, quant_type: int, block: int = BNB4_BLOCK) -> np.ndarray:
    """The weight a MatMulBnb4 computes with: [K, N] float32 (for tests and checks)."""
    codes = np.empty(packed.size * 2, dtype=np.uint8)
    codes[0::2], codes[1::2] = packed >> 4, packed & 0x0F
    levels = (NF4_LEVELS if quant_type == NF4 else FP4_LEVELS)[codes[: k * n]]
    scales = np.repeat(absmax.astype(np.float32), block)[: k * n]
    return (levels * scales).reshape(n, k).T


def quantize_bnb4(source: LazyModel, quant_type: int = NF4, block: int = BNB4_BLOCK) -> LazyModel:
    """The `_bnb4` file: every MatMul with a constant 2-D float weight as MatMulBnb4."""
    lazy = source.derive()
    stubs = lazy.stubs()
    nodes: list[onnx.NodeProto] = []
    extra: list[onnx.TensorProto] = []
    for node in lazy.model.graph.node:
        weight = stubs.get(node.input[1]) if node.op_type == "MatMul" and len(node.input) == 2 else None
        if weight is None or weight.data_type not in (F32, TensorProto.FLOAT16) or len(weight.dims) != 2:
            nodes.append(node)
            continue
        k, n = weight.dims

        def compute(name=weight.name, read=source.tensors[weight.name]):
            packed, absmax = bnb4_blocks(numpy_helper.to_array(read()), quant_type, block)
            return numpy_helper.from_array(packed, f"{name}_Bnb4"), numpy_helper.from_array(absmax, f"{name}_absmax")

        pair = PairCache(compute)
        lazy.tensors[f"{weight.name}_Bnb4"] = lambda pair=pair: pair.take(0)
        lazy.tensors[f"{weight.name}_absmax"] = lambda pair=pair: pair.take(1)
        extra += [
            stub(f"{weight.name}_Bnb4", TensorProto.UINT8, [(k * n + 1) // 2]),
            stub(f"{weight.name}_absmax", weight.data_type, [(k * n + block - 1) // block]),
        ]
        nodes.append(
            helper.make_node(
                "MatMulBnb4",
                [node.input[0], f"{weight.name}_Bnb4", f"{weight.name}_absmax"],
                [node.output[0]],
                name=f"{node.name}_Bnb4" if node.name else "",
                domain="com.microsoft",
                K=k,
                N=n,
                block_size=block,
                quant_type=quant_type,
            )
        )
    replace_nodes(lazy, nodes, extra, microsoft=True)
    return lazy


class DynamicQuantLinear(nn.Module):
    """What an `_int8` / `_uint8` file's MatMul computes, in PyTorch (for the tiny stand-ins'
    reference logits): the activation quantized as ONNX's DynamicQuantizeLinear does (range
    widened to hold 0, scale (max - min) / 255, zero point round(-min / scale), values
    round-half-even(x / scale) + zero point, saturated to uint8), the integer product exact, then
    scaled by the two scales' product; a bias added in float after it."""

    def __init__(self, linear: nn.Linear, weight_type: int) -> None:
        super().__init__()
        w = linear.weight.detach().numpy().T
        q, scale, zp = quantize_8bit_tensor(w, weight_type, symmetric=weight_type == TensorProto.INT8)
        self.weight_ints = torch.from_numpy(q.astype(np.float64) - float(zp))
        self.weight_scale = np.float32(scale)
        self.bias = linear.bias

    def forward(self, x):
        x = x.to(torch.float32)
        low, high = min(float(x.min()), 0.0), max(float(x.max()), 0.0)
        scale = np.float32(np.float32(high) - np.float32(low)) / np.float32(255.0)
        if scale == 0:
            scale = np.float32(1.0)
        zero_point = float(np.clip(np.rint(np.float32(0.0) - np.float32(low) / scale), 0, 255))
        xq = torch.clamp(torch.round(x / float(scale)) + zero_point, 0, 255)
        ints = (xq.double() - zero_point) @ self.weight_ints
        y = ints.float() * float(np.float32(scale * self.weight_scale))
        return y + self.bias if self.bias is not None else y


def emulate_8bit(model: nn.Module, weight_type: int) -> nn.Module:
    """A copy of a LlamaLM computing what its `quantize_8bit` file computes: every Linear as
    DynamicQuantLinear, the token table (and a tied head reading it) as its uint8 values give it back."""
    emulated = copy.deepcopy(model)
    with torch.no_grad():
        table = emulated.embed_tokens.weight
        q, scale, zp = quantize_8bit_tensor(table.numpy(), TensorProto.UINT8, symmetric=False)
        table.copy_(torch.from_numpy((q.astype(np.float32) - np.float32(zp)) * np.float32(scale)))
    for parent in list(emulated.modules()):
        for name, child in list(parent.named_children()):
            if isinstance(child, nn.Linear):
                setattr(parent, name, DynamicQuantLinear(child, weight_type))
    return emulated
