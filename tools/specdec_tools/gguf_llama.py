"""The llama-like families' half of tools/export_gguf.py: a Llama (Qwen2, Phi-3) ONNX decoder's
weights found by where they sit in the graph, renamed and laid out as llama.cpp's `llama` (`qwen2`,
`phi3`) architecture reads them, and its metadata, following llama.cpp's convert_hf_to_gguf.py: for
`llama` (LlamaModel) the attn_q / attn_k rows permuted from Hugging Face's rotate_half pairing (a
head's two halves) to llama.cpp's (adjacent values), and Llama 3's rope_scaling as the
`rope_freqs` tensor of per-frequency divisors; `qwen2` (Qwen2Model) keeps the rows, llama.cpp
rotating it in the NeoX (rotate_half) way, and adds the q/k/v biases; `phi3` (Phi3MiniModel)
keeps Phi-3's fused qkv_proj as attn_qkv and gate_up_proj as ffn_up (NeoX rotary too). Reads
our folders and the Hub's layouts (weights in external data, a tied head read through a
Transpose of the embedding, 4-bit MatMulNBits). No `output` tensor when the head is the token embedding (llama.cpp then ties
it itself). Only numpy and onnx are needed.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import onnx

from .gguf_tensors import Tensor, load_graph, matmul_weight, nbits_weight

# the weight MatMuls of one block, in the order the forward pass runs them: Phi-3 keeps q, k, v as
# one qkv_proj (llama.cpp's fused attn_qkv, rows [q | k | v]) and gate, up as one gate_up_proj
# (llama.cpp's phi3 ffn_up of 2 x n_ff rows, [gate | up], split by its SwiGLU)
BLOCK_MATMULS = {
    "llama": ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"),
    "qwen2": ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"),
    "phi3": ("attn_qkv", "attn_output", "ffn_up", "ffn_down"),
}


def expected_rows(role: str, config: dict, head_dim: int, arch: str) -> int:
    """a projection's output width ([out, in] rows) as the config gives it"""
    n_head = config["num_attention_heads"]
    n_kv = config.get("num_key_value_heads") or n_head
    ff = config["intermediate_size"]
    return {
        "attn_q": n_head * head_dim,
        "attn_k": n_kv * head_dim,
        "attn_v": n_kv * head_dim,
        "attn_qkv": (n_head + 2 * n_kv) * head_dim,
        "attn_output": config["hidden_size"],
        "ffn_gate": ff,
        "ffn_up": 2 * ff if arch == "phi3" else ff,
        "ffn_down": config["hidden_size"],
    }[role]


def permute_rotary(w: np.ndarray, n_head: int) -> np.ndarray:
    """convert_hf_to_gguf.py's LlamaModel.permute: the rows of each head, [first half | second
    half], interleaved (row i of the first half beside row i of the second)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def read_llama_weights(onnx_path: Path, config: dict, arch: str = "llama") -> dict[str, Tensor]:
    """llama.cpp tensor name -> Tensor ([out, in] for matrices).

    In node order each block has an RMSNorm scale (a Mul by a hidden-sized initializer), the
    q, k, v (Phi-3: one qkv) and output projections, a second RMSNorm scale, then gate, up
    (Phi-3: one gate_up) and down; then the final norm and the head (the token embedding transposed when tied: a Transpose node in the
    Hub's layouts, a transposed copy in a plain export). A projection is a MatMul on a constant,
    or a MatMulNBits on 4-bit blocks. Names are not trusted: exporters fold the matrices into
    constants with generated names.
    """
    n_layer = config["num_hidden_layers"]
    hidden = config["hidden_size"]
    n_head = config["num_attention_heads"]
    n_kv = config.get("num_key_value_heads") or n_head
    head_dim = config.get("head_dim") or hidden // n_head
    roles = BLOCK_MATMULS[arch]
    graph, nodes, inits = load_graph(onnx_path)

    table = next((n.input[0] for n in nodes if n.op_type == "Gather" and inits.ndim(n.input[0]) == 2), None)
    consumers: dict[str, list[onnx.NodeProto]] = {}
    producer: dict[str, onnx.NodeProto] = {}
    for n in nodes:
        for i in n.input:
            consumers.setdefault(i, []).append(n)
        for o in n.output:
            producer[o] = n

    def bias_of(matmul: onnx.NodeProto) -> Tensor | None:
        """the 1-D initializer an Add puts on the projection's output (a Linear with a bias)"""
        for add in (c for c in consumers.get(matmul.output[0], []) if c.op_type == "Add"):
            for i in add.input:
                if inits.ndim(i) == 1:
                    return Tensor.of(np.asarray(inits[i], dtype=np.float32))
        return None

    def projection(n: onnx.NodeProto) -> Tensor | str | None:
        """the node's weight as [out, in], "tied" for a MatMul on the transposed token table"""
        if n.op_type == "MatMul" and len(n.input) == 2:
            if inits.ndim(n.input[1]) == 2:
                return matmul_weight(inits[n.input[1]])
            source = producer.get(n.input[1])
            if source is not None and source.op_type == "Transpose" and table is not None and source.input[0] == table:
                return "tied"
        if n.op_type == "MatMulNBits" and n.domain == "com.microsoft":
            attrs = {a.name: onnx.helper.get_attribute_value(a) for a in n.attribute}
            if attrs.get("bits", 4) != 4 or len(n.input) > 3 and n.input[3]:
                raise SystemExit(f"{onnx_path}: MatMulNBits {n.name!r} has {attrs.get('bits')} bits or zero points; the exporter reads symmetric 4-bit blocks only.")
            if attrs.get("block_size") != 32:
                raise SystemExit(f"{onnx_path}: MatMulNBits {n.name!r} has block_size {attrs.get('block_size')}; the exporter reads blocks of 32 (the Hub's q4 files).")
            return nbits_weight(inits[n.input[1]], inits[n.input[2]], attrs["K"], attrs["N"])
        return None

    projections = [(n, w) for n in nodes if (w := projection(n)) is not None]
    scales = [
        i for n in nodes if n.op_type == "Mul" for i in n.input if inits.ndim(i) == 1 and inits.dims(i) == (hidden,)
    ]
    per_block = len(roles)
    if table is None or len(projections) != per_block * n_layer + 1 or len(scales) != 2 * n_layer + 1:
        raise SystemExit(
            f"{onnx_path}: expected a token embedding, {per_block * n_layer} weight MatMuls and the head, and "
            f"{2 * n_layer + 1} RMSNorm scales for {n_layer} layers, found {len(projections)} and {len(scales)}: "
            f"not a {arch} graph this exporter can read."
        )
    embedding = inits[table]
    out: dict[str, Tensor] = {"token_embd.weight": Tensor(tuple(embedding.shape), lambda: np.asarray(embedding, dtype=np.float32))}
    for i in range(n_layer):
        for j, role in enumerate(roles):
            node, w = projections[per_block * i + j]
            if not isinstance(w, Tensor):
                raise SystemExit(f"{onnx_path}: layer {i} {role} reads the token table; not a {arch} graph this exporter can read.")
            if w.shape != (expected_rows(role, config, head_dim, arch), w.shape[1]):
                raise SystemExit(
                    f"{onnx_path}: layer {i} {role} is {w.shape[1]} -> {w.shape[0]} wide where config.json implies "
                    f"{expected_rows(role, config, head_dim, arch)} outputs: not a {arch} graph this exporter can read."
                )
            b = bias_of(node)
            if arch == "llama" and role in ("attn_q", "attn_k"):
                if b is not None:
                    raise SystemExit(f"{onnx_path}: layer {i} {role} has a bias, which llama.cpp's llama architecture has no place for.")
                heads = n_head if role == "attn_q" else n_kv
                w = w.rows_permuted(lambda a, h=heads: permute_rotary(a, h))
            out[f"blk.{i}.{role}.weight"] = w
            if b is not None:
                out[f"blk.{i}.{role}.bias"] = b
        out[f"blk.{i}.attn_norm.weight"] = Tensor.of(np.asarray(inits[scales[2 * i]], dtype=np.float32))
        out[f"blk.{i}.ffn_norm.weight"] = Tensor.of(np.asarray(inits[scales[2 * i + 1]], dtype=np.float32))
    out["output_norm.weight"] = Tensor.of(np.asarray(inits[scales[-1]], dtype=np.float32))
    head = projections[-1][1]
    if isinstance(head, Tensor) and (head.q4 is not None or head.shape != embedding.shape or not np.array_equal(head.f32(), embedding)):
        out["output.weight"] = head  # an untied head; llama.cpp ties it when absent
    return out


def rope_scaling_metadata(config: dict, arch: str, head_dim: int) -> tuple[list[tuple[str, str, object]], dict[str, Tensor]]:
    """config.json's rope_scaling as convert_hf_to_gguf.py writes it: Llama 3's `llama3` type as a
    `rope_freqs` tensor (head_dim / 2 divisors of the rotary frequencies: 1 for short wavelengths,
    `factor` for long ones, interpolated between), `linear` as rope.scaling.type and factor."""
    scaling = config.get("rope_scaling")
    if not scaling:
        return [], {}
    kind = scaling.get("rope_type", scaling.get("type"))
    if kind == "linear":
        return [(f"{arch}.rope.scaling.type", "str", "linear"), (f"{arch}.rope.scaling.factor", "f32", float(scaling["factor"]))], {}
    if kind in ("longrope", "su") and arch == "phi3":
        raise SystemExit(
            f"config.json: rope_scaling type {kind!r} (Phi-3's long-context variants): not written by this exporter "
            "(llama.cpp reads it as rope_factors_long/short and rope.scaling.attn_factor, which no stand-in here "
            "checks); export a 4k model."
        )
    if kind != "llama3" or arch != "llama":
        raise SystemExit(f"config.json: rope_scaling type {kind!r} on {arch}: the exporter writes llama3 (Llama 3.1/3.2) and linear scaling only.")
    base = float(config.get("rope_theta", 10000.0))
    factor = float(scaling["factor"])
    low, high = float(scaling.get("low_freq_factor", 1.0)), float(scaling.get("high_freq_factor", 4.0))
    old_context = float(scaling.get("original_max_position_embeddings", 8192))
    low_wavelen, high_wavelen = old_context / low, old_context / high
    factors = []
    for i in range(0, head_dim, 2):
        wavelen = 2 * math.pi * base ** (i / head_dim)
        if wavelen < high_wavelen:
            factors.append(1.0)
        elif wavelen > low_wavelen:
            factors.append(factor)
        else:
            smooth = (old_context / wavelen - low) / (high - low)
            factors.append(1 / ((1 - smooth) / factor + smooth))
    return [], {"rope_freqs.weight": Tensor.of(np.array(factors, dtype=np.float32))}


def llama_metadata(config: dict, weights: dict[str, Tensor], arch: str = "llama") -> list[tuple[str, str, object]]:
    """(key, kind, value) for the `llama`, `qwen2` or `phi3` architecture; kind is u32, f32 or str.
    Adds the rope_scaling tensor to `weights` where the config has one. Phi-3 also gets what
    convert_hf_to_gguf.py's Phi3MiniModel writes: the original context length and the sliding
    window (which llama.cpp reads and then turns off for phi3, as our engine never applies it)."""
    n_head = config["num_attention_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // n_head
    scaling_kv, scaling_tensors = rope_scaling_metadata(config, arch, head_dim)
    weights.update(scaling_tensors)
    phi3_kv = (
        [
            (f"{arch}.rope.scaling.original_context_length", "u32",
             config.get("original_max_position_embeddings") or config["max_position_embeddings"]),
            (f"{arch}.attention.sliding_window", "u32", config.get("sliding_window") or 0),
        ]
        if arch == "phi3"
        else []
    )
    return [
        (f"{arch}.context_length", "u32", config["max_position_embeddings"]),
        (f"{arch}.embedding_length", "u32", config["hidden_size"]),
        (f"{arch}.feed_forward_length", "u32", weights["blk.0.ffn_down.weight"].shape[1]),
        (f"{arch}.block_count", "u32", config["num_hidden_layers"]),
        (f"{arch}.attention.head_count", "u32", n_head),
        (f"{arch}.attention.head_count_kv", "u32", config.get("num_key_value_heads") or n_head),
        (f"{arch}.attention.key_length", "u32", head_dim),
        (f"{arch}.attention.value_length", "u32", head_dim),
        (f"{arch}.rope.dimension_count", "u32", head_dim),
        (f"{arch}.rope.freq_base", "f32", float(config.get("rope_theta", 10000.0))),
        (f"{arch}.attention.layer_norm_rms_epsilon", "f32", float(config.get("rms_norm_eps", 1e-6))),
        (f"{arch}.vocab_size", "u32", config["vocab_size"]),
        *scaling_kv,
        *phi3_kv,
    ]
