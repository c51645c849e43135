"""The llama-like families' half of tools/export_gguf.py: a Llama (or Qwen2) ONNX decoder's weights
found by where they sit in the graph, renamed and laid out as llama.cpp's `llama` (or `qwen2`)
architecture reads them, and its metadata, following llama.cpp's convert_hf_to_gguf.py: for
`llama` (LlamaModel) the attn_q / attn_k rows permuted from Hugging Face's rotate_half pairing (a
head's two halves) to llama.cpp's (adjacent values); `qwen2` (Qwen2Model) keeps them, llama.cpp
rotating it in the NeoX (rotate_half) way, and adds the q/k/v biases. No `output` tensor when the
head is the token embedding (llama.cpp then ties it itself). Only numpy and onnx are needed.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

# the weight MatMuls of one block, in the order the forward pass runs them
BLOCK_MATMULS = ("attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down")


def permute_rotary(w: np.ndarray, n_head: int) -> np.ndarray:
    """convert_hf_to_gguf.py's LlamaModel.permute: the rows of each head, [first half | second
    half], interleaved (row i of the first half beside row i of the second)."""
    return w.reshape(n_head, 2, w.shape[0] // n_head // 2, *w.shape[1:]).swapaxes(1, 2).reshape(w.shape)


def read_llama_weights(onnx_path: Path, config: dict, arch: str = "llama") -> dict[str, np.ndarray]:
    """llama.cpp tensor name -> array ([out, in] for matrices).

    In node order each block has an RMSNorm scale (a Mul by a hidden-sized initializer), the
    q, k, v and output projections, a second RMSNorm scale, then gate, up and down; then the
    final norm and the head (the token embedding's transposed copy when tied). Names are not
    trusted: exporters fold the matrices into constants with generated names.
    """
    n_layer = config["num_hidden_layers"]
    hidden = config["hidden_size"]
    n_head = config["num_attention_heads"]
    n_kv = config.get("num_key_value_heads") or n_head
    graph = onnx.load(str(onnx_path)).graph
    nodes = list(graph.node)
    if len(nodes) == 1 and nodes[0].op_type == "If":
        nodes = list(next(a.g for a in nodes[0].attribute if a.name == "then_branch").node)
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for n in [*graph.node, *nodes]:
        if n.op_type == "Identity" and n.input[0] in inits:
            inits[n.output[0]] = inits[n.input[0]]

    embedding = next(
        (inits[n.input[0]] for n in nodes if n.op_type == "Gather" and n.input[0] in inits and inits[n.input[0]].ndim == 2),
        None,
    )
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in nodes:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def bias_of(matmul: onnx.NodeProto) -> np.ndarray | None:
        """the 1-D initializer an Add puts on the MatMul's output (a Linear with a bias)"""
        for add in (c for c in consumers.get(matmul.output[0], []) if c.op_type == "Add"):
            for i in add.input:
                if i in inits and inits[i].ndim == 1:
                    return inits[i]
        return None

    weight_matmuls = [n for n in nodes if n.op_type == "MatMul" and inits.get(n.input[1]) is not None and inits[n.input[1]].ndim == 2]
    matmuls = [inits[n.input[1]] for n in weight_matmuls]
    biases = [bias_of(n) for n in weight_matmuls]
    scales = [
        inits[i]
        for n in nodes
        if n.op_type == "Mul"
        for i in n.input
        if i in inits and inits[i].ndim == 1 and inits[i].shape[0] == hidden
    ]
    per_block = len(BLOCK_MATMULS)
    if embedding is None or len(matmuls) != per_block * n_layer + 1 or len(scales) != 2 * n_layer + 1:
        raise SystemExit(
            f"{onnx_path}: expected a token embedding, {per_block * n_layer} weight MatMuls and the head, and "
            f"{2 * n_layer + 1} RMSNorm scales for {n_layer} layers, found {len(matmuls)} and {len(scales)}: "
            "not a Llama graph this exporter can read."
        )
    out: dict[str, np.ndarray] = {"token_embd.weight": embedding}
    for i in range(n_layer):
        for j, role in enumerate(BLOCK_MATMULS):
            w = np.ascontiguousarray(matmuls[per_block * i + j].T)  # [in, out] -> [out, in]
            b = biases[per_block * i + j]
            if arch == "llama" and role in ("attn_q", "attn_k"):
                if b is not None:
                    raise SystemExit(f"{onnx_path}: layer {i} {role} has a bias, which llama.cpp's llama architecture has no place for.")
                w = permute_rotary(w, n_head if role == "attn_q" else n_kv)
            out[f"blk.{i}.{role}.weight"] = np.ascontiguousarray(w)
            if b is not None:
                out[f"blk.{i}.{role}.bias"] = b
        out[f"blk.{i}.attn_norm.weight"] = scales[2 * i]
        out[f"blk.{i}.ffn_norm.weight"] = scales[2 * i + 1]
    out["output_norm.weight"] = scales[-1]
    head = np.ascontiguousarray(matmuls[-1].T)
    if not np.array_equal(head, embedding):
        out["output.weight"] = head  # an untied head; llama.cpp ties it when absent
    return out


def llama_metadata(config: dict, weights: dict[str, np.ndarray], arch: str = "llama") -> list[tuple[str, str, object]]:
    """(key, kind, value) for the `llama` or `qwen2` architecture; kind is u32 or f32."""
    n_head = config["num_attention_heads"]
    head_dim = config.get("head_dim") or config["hidden_size"] // n_head
    return [
        (f"{arch}.context_length", "u32", config["max_position_embeddings"]),
        (f"{arch}.embedding_length", "u32", config["hidden_size"]),
        (f"{arch}.feed_forward_length", "u32", weights["blk.0.ffn_up.weight"].shape[0]),
        (f"{arch}.block_count", "u32", config["num_hidden_layers"]),
        (f"{arch}.attention.head_count", "u32", n_head),
        (f"{arch}.attention.head_count_kv", "u32", config.get("num_key_value_heads") or n_head),
        (f"{arch}.attention.key_length", "u32", head_dim),
        (f"{arch}.attention.value_length", "u32", head_dim),
        (f"{arch}.rope.dimension_count", "u32", head_dim),
        (f"{arch}.rope.freq_base", "f32", float(config.get("rope_theta", 10000.0))),
        (f"{arch}.attention.layer_norm_rms_epsilon", "f32", float(config.get("rms_norm_eps", 1e-6))),
        (f"{arch}.vocab_size", "u32", config["vocab_size"]),
    ]
