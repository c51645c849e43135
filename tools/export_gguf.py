#!/usr/bin/env python3
"""Export a GPT-2, Llama, Qwen2 or Phi-3 model folder (ours, or a Hub-layout ONNX folder) to GGUF for llama.cpp.

    npm run export:gguf -- MODEL_DIR OUT.gguf [--f16 | --q8 | --q4] [--onnx onnx/FILE.onnx]

The weights are read from the ONNX decoder's initializers (onnx/model.onnx, else
onnx/decoder_model_merged.onnx; with --q4, onnx/model_q4.onnx where the folder has one; --onnx
names another file), the tokenizer from tokenizer.json, the dimensions from config.json. Written
with llama.cpp's `gpt2` architecture: fused `attn_qkv`, `ffn_up`/`ffn_down`, weights as [out, in]
(ONNX MatMuls hold them as [in, out], so they are transposed), no `output` tensor when the LM head
is the token embedding (llama.cpp then ties it itself). --f16 stores the matrices in float16 and
keeps norms and biases float32, as llama.cpp's own converter does; --q8 stores them as llama.cpp's
Q8_0 (blocks of 32 values: a float16 scale, amax / 127, and 32 int8), quantized from the float32
weights the way ggml's reference quantizer does; --q4 stores the projections as llama.cpp's Q4_0
(blocks of 32: a float16 scale and 32 4-bit values offset by 8), taking a 4-bit file's own values
(MatMulNBits blocks repacked, their scales rounded to float16) or quantizing float32 weights the
way ggml's quantize_row_q4_0_ref does, and keeps the token embedding float32, as the Hub's q4
files do. A 4-bit file exported without --q4 is dequantized to float32.
A config with model_type "llama", "qwen2" or "phi3" is written with llama.cpp's `llama`, `qwen2`
or `phi3` architecture instead (specdec_tools/gguf_llama.py: separate attn_q/k/v, ffn_gate/up/down
(phi3: fused attn_qkv, and ffn_up holding gate then up), RMSNorm scales, for llama the q and k rows
permuted to llama.cpp's rotary pairing and Llama 3's rope_scaling as rope_freqs, for qwen2 the
q/k/v biases, rope_theta as rope.freq_base). general.name is the folder's name, spelled so that
llama.cpp's name-keyed Phi-3 vocabulary rule does not meet a vocabulary without Phi-3's tokens
(model_name). Tensors
are read and written one at a time (external data memory-mapped), so a model bigger than the
memory left exports.
Only numpy and onnx are needed (Debian's python3-onnx).
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
from pathlib import Path

import numpy as np
import onnx
from onnx import numpy_helper

sys.path.insert(0, str(Path(__file__).resolve().parent))
from specdec_tools.gguf_llama import llama_metadata, read_llama_weights  # noqa: E402
from specdec_tools.gguf_tensors import QK, Tensor, q4_0_bytes, q4_0_from_f32, q8_0_bytes  # noqa: E402

GGUF_MAGIC = 0x46554747  # "GGUF"
GGUF_VERSION = 3
ALIGNMENT = 32
# metadata value types
U32, I32, F32, BOOL, STRING, ARRAY = 4, 5, 6, 7, 8, 9
# tensor types
GGML_F32, GGML_F16, GGML_Q4_0, GGML_Q8_0 = 0, 1, 2, 8
# general.file_type: all float32, mostly float16, mostly Q4_0, mostly Q8_0 (llama.cpp's llama_ftype)
FTYPE = {"f32": 0, "f16": 1, "q4": 2, "q8": 7}
# bytes of one block of 32 values: a float16 scale and 32 values of 8 or 4 bits
BLOCK_BYTES = {GGML_Q8_0: 34, GGML_Q4_0: 18}
# tensors a 4-bit export keeps float32 beside the norms and biases: the Hub's q4 files keep the
# token table (and a tied head reading it) float
FLOAT_IN_Q4 = ("token_embd.weight", "position_embd.weight")
# llama.cpp token types
NORMAL, CONTROL = 1, 3


def gguf_string(s: str) -> bytes:
    b = s.encode("utf-8")
    return struct.pack("<Q", len(b)) + b


def gguf_value(vtype: int, value) -> bytes:
    if vtype == U32:
        return struct.pack("<I", value)
    if vtype == I32:
        return struct.pack("<i", value)
    if vtype == F32:
        return struct.pack("<f", value)
    if vtype == BOOL:
        return struct.pack("<?", value)
    if vtype == STRING:
        return gguf_string(value)
    raise ValueError(vtype)


def gguf_kv(key: str, vtype: int, value, elem_type: int | None = None) -> bytes:
    out = gguf_string(key) + struct.pack("<I", vtype)
    if vtype == ARRAY:
        assert elem_type is not None
        out += struct.pack("<IQ", elem_type, len(value))
        out += b"".join(gguf_value(elem_type, v) for v in value)
    else:
        out += gguf_value(vtype, value)
    return out


def read_weights(onnx_path: Path, n_layer: int, n_vocab: int) -> dict[str, np.ndarray]:
    """llama.cpp tensor name -> array, found by where each initializer sits in the graph.

    Names cannot be trusted: an exporter folds the MatMul weights into constants with generated
    names and keeps one initializer for equal values (all-zero biases, all-one norms). The graph
    follows the forward pass, so in node order each layer has four weight MatMuls (qkv, attention
    out, MLP up, MLP down), each followed by an Add of its bias, and two layer norms; then the
    final norm and the LM head.
    """
    model = onnx.load(str(onnx_path))
    graph = model.graph
    nodes = list(graph.node)
    if len(nodes) == 1 and nodes[0].op_type == "If":
        # the merged decoder: its with-past branch reads the outer graph's initializers
        nodes = list(next(a.g for a in nodes[0].attribute if a.name == "then_branch").node)
    inits = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    for n in [*graph.node, *nodes]:  # equal initializers exported once, aliased by Identity
        if n.op_type == "Identity" and n.input[0] in inits:
            inits[n.output[0]] = inits[n.input[0]]
    producer = {o: n for n in nodes for o in n.output}
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for n in nodes:
        for i in n.input:
            consumers.setdefault(i, []).append(n)

    def const_input(node: onnx.NodeProto, ndim: int) -> np.ndarray | None:
        for i in node.input:
            if i in inits and inits[i].ndim == ndim:
                return inits[i]
        return None

    out: dict[str, np.ndarray] = {}
    for n in nodes:
        if n.op_type == "Gather" and n.input[0] in inits and inits[n.input[0]].ndim == 2:
            w = inits[n.input[0]]
            out["token_embd.weight" if w.shape[0] == n_vocab else "position_embd.weight"] = w

    matmuls = []  # (weight [in, out], bias or None) in node order
    for n in nodes:
        w = inits.get(n.input[1]) if n.op_type == "MatMul" and len(n.input) == 2 else None
        if w is None or w.ndim != 2:
            continue
        adds = [c for c in consumers.get(n.output[0], []) if c.op_type == "Add"]
        matmuls.append((w, const_input(adds[0], 1) if adds else None))

    norms = []  # (scale, bias) in node order
    for n in nodes:
        if n.op_type == "LayerNormalization":
            norms.append((inits[n.input[1]], inits[n.input[2]]))
        elif n.op_type == "Mul" and n.input[0] in producer and producer[n.input[0]].op_type == "Div":
            scale = const_input(n, 1)
            adds = [c for c in consumers.get(n.output[0], []) if c.op_type == "Add"]
            bias = const_input(adds[0], 1) if adds else None
            if scale is not None and bias is not None:
                norms.append((scale, bias))

    if len(matmuls) not in (4 * n_layer, 4 * n_layer + 1) or len(norms) != 2 * n_layer + 1:
        raise SystemExit(
            f"{onnx_path}: expected {4 * n_layer} weight MatMuls (+ the LM head) and {2 * n_layer + 1} layer norms "
            f"for {n_layer} layers, found {len(matmuls)} and {len(norms)}: not a GPT-2 graph this exporter can read."
        )
    for i in range(n_layer):
        for j, role in enumerate(("attn_qkv", "attn_output", "ffn_up", "ffn_down")):
            w, b = matmuls[4 * i + j]
            if b is None:
                raise SystemExit(f"{onnx_path}: layer {i} {role} has no bias.")
            out[f"blk.{i}.{role}.weight"] = np.ascontiguousarray(w.T)  # [in, out] -> [out, in]
            out[f"blk.{i}.{role}.bias"] = b
        for j, role in enumerate(("attn_norm", "ffn_norm")):
            out[f"blk.{i}.{role}.weight"], out[f"blk.{i}.{role}.bias"] = norms[2 * i + j]
    out["output_norm.weight"], out["output_norm.bias"] = norms[-1]
    if len(matmuls) == 4 * n_layer + 1:
        head = np.ascontiguousarray(matmuls[-1][0].T)
        if not np.array_equal(head, out.get("token_embd.weight")):
            out["output.weight"] = head  # an untied head; llama.cpp ties it when absent
    return out


# llama.cpp (llama-vocab.cpp, load) keys a Phi-3 quirk on the file's name: where the lowercased
# general.name contains one of these, it sets attributes on Phi-3's SentencePiece tokens by text
# (token_to_id.at), and a vocabulary without them fails to load ("error loading model vocabulary:
# _Map_base::at"): a phi3 model on a GPT-2-style vocabulary (Phi-4's GPT2Tokenizer, our stand-ins)
PHI3_NAME_MARKS = ("phi-3", "phi3")
PHI3_QUIRK_TOKENS = ("</s>", "<unk>", "<s>", "<|endoftext|>")


def model_name(folder: Path, tokens: list[str]) -> str:
    """general.name: the folder's name, unless llama.cpp would read it as a Phi-3 name and apply
    its Phi-3 vocabulary rule to a vocabulary without Phi-3's tokens; then "phi3" / "phi-3" is
    written "phi 3", which the rule does not match (convert_hf_to_gguf.py's Phi-4, a phi3 model
    on a GPT-2 vocabulary, is named "Phi 4" and never meets it)."""
    name = folder.name
    if any(m in name.lower() for m in PHI3_NAME_MARKS) and not set(PHI3_QUIRK_TOKENS) <= set(tokens):
        return re.sub(r"phi-?3", lambda m: m.group(0)[:3] + " 3", name, flags=re.IGNORECASE)
    return name


def tokenizer_metadata(folder: Path) -> tuple[list[bytes], list[str], int]:
    tok = json.loads((folder / "tokenizer.json").read_text(encoding="utf-8"))
    vocab: dict[str, int] = dict(tok["model"]["vocab"])
    special = {}
    for added in tok.get("added_tokens", []):
        vocab[added["content"]] = added["id"]
        if added.get("special"):
            special[added["content"]] = added["id"]
    n = max(vocab.values()) + 1
    tokens = [""] * n
    for t, i in vocab.items():
        tokens[i] = t
    types = [CONTROL if t in special else NORMAL for t in tokens]
    merges = [m if isinstance(m, str) else " ".join(m) for m in tok["model"]["merges"]]
    config = json.loads((folder / "config.json").read_text())
    eos = config.get("eos_token_id", special.get("<|endoftext|>", n - 1))
    if isinstance(eos, list):  # Llama 3's list: llama.cpp keeps one eos id (the first)
        eos = eos[0]
    bos = config.get("bos_token_id", eos)
    kv = [
        gguf_kv("tokenizer.ggml.model", STRING, "gpt2"),
        gguf_kv("tokenizer.ggml.pre", STRING, "gpt-2"),
        gguf_kv("tokenizer.ggml.tokens", ARRAY, tokens, STRING),
        gguf_kv("tokenizer.ggml.token_type", ARRAY, types, I32),
        gguf_kv("tokenizer.ggml.merges", ARRAY, merges, STRING),
        gguf_kv("tokenizer.ggml.bos_token_id", U32, bos),
        gguf_kv("tokenizer.ggml.eos_token_id", U32, eos),
        gguf_kv("tokenizer.ggml.add_bos_token", BOOL, False),
    ]
    return kv, tokens, len(merges)


def source_file(folder: Path, dtype: str, onnx_file: str | None) -> Path:
    """The ONNX file to read: --onnx, else for --q4 the folder's 4-bit file where it has one (its
    own 4-bit values), else the float32 decoder."""
    if onnx_file is not None:
        path = folder / onnx_file
        if not path.exists():
            raise SystemExit(f"{path} does not exist.")
        return path
    names = ("onnx/model.onnx", "onnx/decoder_model_merged.onnx")
    if dtype == "q4":
        names = ("onnx/model_q4.onnx", "onnx/decoder_model_merged_q4.onnx", *names)
    found = next((folder / f for f in names if (folder / f).exists()), None)
    if found is None:
        raise SystemExit(f"{folder} has no onnx/model.onnx or onnx/decoder_model_merged.onnx to read the weights from.")
    return found


def export(folder: Path, out_path: Path, dtype: str = "f32", onnx_file: str | None = None) -> dict:
    config = json.loads((folder / "config.json").read_text())
    onnx_path = source_file(folder, dtype, onnx_file)
    arch = config.get("model_type")
    if arch in ("llama", "qwen2", "phi3"):
        weights = read_llama_weights(onnx_path, config, arch)
        kind = {"u32": U32, "f32": F32, "str": STRING}
        arch_kv = [gguf_kv(key, kind[k], v) for key, k, v in llama_metadata(config, weights, arch)]
        return write_gguf(folder, out_path, dtype, arch, weights, arch_kv, onnx_path)
    if arch not in (None, "gpt2"):
        raise SystemExit(f"config.json: model_type {arch!r} has no GGUF writer here (it writes gpt2, llama, qwen2, phi3).")
    n_layer, n_embd = config["n_layer"], config["n_embd"]
    arrays = read_weights(onnx_path, n_layer, config["vocab_size"])
    expected = {"token_embd.weight", "position_embd.weight", "output_norm.weight", "output_norm.bias"}
    for i in range(n_layer):
        for role in ("attn_qkv", "attn_output", "ffn_up", "ffn_down", "attn_norm", "ffn_norm"):
            expected |= {f"blk.{i}.{role}.weight", f"blk.{i}.{role}.bias"}
    missing = sorted(expected - set(arrays))
    if missing:
        raise SystemExit(f"{onnx_path}: could not find {', '.join(missing[:4])}{' ...' if len(missing) > 4 else ''} among the initializers.")
    arch_kv = [
        gguf_kv("gpt2.context_length", U32, config["n_positions"]),
        gguf_kv("gpt2.embedding_length", U32, n_embd),
        gguf_kv("gpt2.feed_forward_length", U32, arrays["blk.0.ffn_up.weight"].shape[0]),
        gguf_kv("gpt2.block_count", U32, n_layer),
        gguf_kv("gpt2.attention.head_count", U32, config["n_head"]),
        gguf_kv("gpt2.attention.layer_norm_epsilon", F32, float(config.get("layer_norm_epsilon", 1e-5))),
    ]
    weights = {k: Tensor.of(v) for k, v in arrays.items()}
    return write_gguf(folder, out_path, dtype, "gpt2", weights, arch_kv, onnx_path)


def storage(name: str, t: Tensor, dtype: str) -> int:
    """the ggml type a tensor is stored in: matrices only are converted (norms and biases stay
    float32, as in llama.cpp's own files), block types only where a row is whole blocks"""
    matrix = len(t.shape) == 2
    if matrix and dtype == "f16":
        return GGML_F16
    if matrix and dtype == "q8" and t.shape[1] % QK == 0:
        return GGML_Q8_0
    if matrix and dtype == "q4" and t.shape[1] % QK == 0 and name not in FLOAT_IN_Q4:
        return GGML_Q4_0
    return GGML_F32


def tensor_bytes(t: Tensor, ggml_type: int) -> bytes:
    if ggml_type == GGML_Q4_0:
        return q4_0_bytes(*(t.q4() if t.q4 is not None else q4_0_from_f32(t.f32())))
    a = t.f32()
    if ggml_type == GGML_Q8_0:
        return q8_0_bytes(a)
    return np.ascontiguousarray(a, dtype=np.float16 if ggml_type == GGML_F16 else np.float32).tobytes()


def write_gguf(
    folder: Path, out_path: Path, dtype: str, arch: str, weights: dict[str, Tensor], arch_kv: list[bytes], onnx_path: Path
) -> dict:
    """The GGUF file: general and architecture metadata, the tokenizer, then the tensors, each
    read, converted and written in turn."""
    tok_kv, tokens, n_merges = tokenizer_metadata(folder)
    n_vocab = len(tokens)
    written_name = model_name(folder, tokens)
    if weights["token_embd.weight"].shape[0] != n_vocab:
        raise SystemExit(f"tokenizer.json has {n_vocab} tokens but the embedding {weights['token_embd.weight'].shape[0]} rows.")
    kv = [
        gguf_kv("general.architecture", STRING, arch),
        gguf_kv("general.name", STRING, written_name),
        gguf_kv("general.file_type", U32, FTYPE[dtype]),
        gguf_kv("general.alignment", U32, ALIGNMENT),
        *arch_kv,
        *tok_kv,
    ]
    names = sorted(weights, key=_order)
    infos = b""
    types: list[int] = []
    offset = 0
    for name in names:
        t = weights[name]
        ggml_type = storage(name, t, dtype)
        types.append(ggml_type)
        count = int(np.prod(t.shape))
        size = count // QK * BLOCK_BYTES[ggml_type] if ggml_type in BLOCK_BYTES else count * (2 if ggml_type == GGML_F16 else 4)
        infos += gguf_string(name) + struct.pack("<I", len(t.shape))
        infos += b"".join(struct.pack("<Q", d) for d in reversed(t.shape))  # ggml: fastest dim first
        infos += struct.pack("<IQ", ggml_type, offset)
        offset += size + (-size) % ALIGNMENT
    header = struct.pack("<IIQQ", GGUF_MAGIC, GGUF_VERSION, len(names), len(kv)) + b"".join(kv) + infos
    header += b"\0" * ((-len(header)) % ALIGNMENT)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = out_path.with_name(out_path.name + ".partial")
    with open(tmp, "wb") as f:
        f.write(header)
        for name, ggml_type in zip(names, types):
            data = tensor_bytes(weights[name], ggml_type)
            f.write(data + b"\0" * ((-len(data)) % ALIGNMENT))
    tmp.replace(out_path)
    q4_native = sum(1 for n, ty in zip(names, types) if ty == GGML_Q4_0 and weights[n].q4 is not None)
    return {
        "source": str(onnx_path.relative_to(folder)),
        "architecture": arch,
        "name": written_name,
        "tensors": len(names),
        "vocab": n_vocab,
        "merges": n_merges,
        "tiedHead": "output.weight" not in weights,
        "ropeFreqs": "rope_freqs.weight" in weights,
        "q4Tensors": types.count(GGML_Q4_0),
        "q4FromFileBlocks": q4_native,
        "bytes": out_path.stat().st_size,
    }


def _order(name: str) -> tuple:
    m = re.match(r"blk\.(\d+)\.", name)
    return (1, int(m.group(1)), name) if m else (0 if not name.startswith("output") else 2, 0, name)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("model_dir", type=Path)
    parser.add_argument("out", type=Path)
    kind = parser.add_mutually_exclusive_group()
    kind.add_argument("--f16", action="store_true", help="float16 matrices (norms and biases stay float32)")
    kind.add_argument("--q8", action="store_true", help="Q8_0 matrices (norms and biases stay float32)")
    kind.add_argument("--q4", action="store_true", help="Q4_0 projections (the token embedding, norms and biases stay float32)")
    parser.add_argument("--onnx", help="the ONNX file inside MODEL_DIR to read (default: onnx/model.onnx; with --q4 onnx/model_q4.onnx where present)")
    args = parser.parse_args()
    if not (args.model_dir / "config.json").exists():
        sys.exit(f"{args.model_dir} is not a model folder (no config.json).")
    dtype = "f16" if args.f16 else "q8" if args.q8 else "q4" if args.q4 else "f32"
    print(json.dumps(export(args.model_dir, args.out, dtype, args.onnx)))
