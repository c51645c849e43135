"""Random-weight stand-ins of the catalog's Llama, Qwen2 and Phi-3 models (`build_standin.py
--model NAME`) at their real dimensions (hub_models.py) in the Hub's layouts (hub_layout.py):
DIR/NAME/{config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
onnx/model{,_fp16,_q4,_q4f16}.onnx (+ _data files)}, and on request model_{int8,uint8,quantized,
bnb4}.onnx (hub_quantized.py) and decoder_model_merged.onnx (hub_merged.py). With --tiny, the same
block at test size in DIR/NAME-tiny/, every file's weights in external data split into small
chunks, and PyTorch's logits beside it (reference-logits.json) so that a test can check what the
engine computes. Each variant is made one tensor at a time as it is written (hub_layout.LazyModel):
at real size the peak memory is torch's exporter's, not several copies of the weights.
"""

from __future__ import annotations

import copy
import gc
import json
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import numpy as np
import torch
from onnx import TensorProto
from torch import nn

from .bpe import CutBPE
from .export import export_no_past, export_onnx
from .families import rounded, write_llama_config
from .hub_layout import (
    PROTOBUF_LIMIT,
    dequantize_q4,
    lazy_load,
    quantize_blocks,
    quantize_q4,
    save_hub_onnx,
    share_tied_head,
    to_float16,
    weight_bytes,
)
from .hub_merged import merge_lazy
from .hub_models import HUB_MODELS, HubModel
from .hub_quantized import NF4, bnb4_blocks, dequantize_bnb4, emulate_8bit, quantize_8bit, quantize_bnb4
from .llama import LlamaLM

FAMILY_FORMATS = ("model", "fp16", "q4", "q4f16", "int8", "uint8", "quantized", "bnb4", "merged")
# what `--formats` defaults to: the files onnx-community's Llama-family repos all carry
DEFAULT_FAMILY_FORMATS = ("model", "fp16", "q4", "q4f16")
SUFFIX = {
    "model": "",
    "fp16": "_fp16",
    "q4": "_q4",
    "q4f16": "_q4f16",
    "int8": "_int8",
    "uint8": "_uint8",
    "quantized": "_quantized",
    "bnb4": "_bnb4",
}
# each format's file: model{suffix}.onnx, and optimum's merged decoder (in fp32) for `merged`
FILES = {**{f: f"model{suffix}.onnx" for f, suffix in SUFFIX.items()}, "merged": "decoder_model_merged.onnx"}
# the KV cache of each file that keeps it in float16, as onnx-community's configs declare it
KV_CACHE_DTYPE = {"fp16": "float16", "q4f16": "float16"}
TINY_MERGES = 300
# tiny fixtures: data files of at most this size, so that even a tiny model is split (_data_1 ...)
TINY_CHUNK_BYTES = 64 * 1024
GPT2_MERGES = 50_000
REFERENCE_IDS = [464, 262, 286, 290, 13, 11, 257, 284, 40, 101]
REFERENCE_PREFIX = 6


def tokenizer_for(vocab_size: int, encoder_dir: Path, tiny: bool) -> CutBPE:
    """GPT-2's BPE with as many merges as fit the vocabulary (SmolLM2's 49,152 ids: 48,895
    merges), all of them where the vocabulary is larger (its other ids become reserved tokens)."""
    if tiny:
        return CutBPE(encoder_dir, TINY_MERGES)
    return CutBPE(encoder_dir, min(GPT2_MERGES, vocab_size - 257))


def real_init(model: LlamaLM) -> LlamaLM:
    """transformers' initialisation (normal, std 0.02; norms 1): activations stay in float16's
    range through every layer, so the fp16 files compute what the fp32 one does."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            if name.endswith("norm.weight"):
                nn.init.ones_(p)
            elif name.endswith("bias"):
                nn.init.zeros_(p)
            else:
                nn.init.normal_(p, std=0.02)
    return model


def q4_weight(w: np.ndarray) -> np.ndarray:
    packed, scales = quantize_blocks(w)
    return dequantize_q4(packed, scales, w.shape[0])


def bnb4_weight(w: np.ndarray) -> np.ndarray:
    packed, absmax = bnb4_blocks(w, NF4)
    return dequantize_bnb4(packed, absmax, *w.shape, NF4)


def with_linear_weights(model: LlamaLM, weight: Callable[[np.ndarray], np.ndarray]) -> LlamaLM:
    """A copy whose every Linear computes with `weight(W)` (W as the ONNX MatMul reads it, [in, out])."""
    copied = copy.deepcopy(model)
    with torch.no_grad():
        for module in copied.modules():
            if isinstance(module, nn.Linear):
                w = module.weight.detach().numpy().T
                module.weight.copy_(torch.from_numpy(np.ascontiguousarray(weight(w).T)))
    return copied


def write_config(spec: HubModel, cfg, eos_id: int, folder: Path, data_files: dict[str, list[str]], tiny: bool) -> None:
    """The family's config.json (families.py) with the real model's other fields where it is at
    real size (at test size the family's writer derives them from the tiny dimensions), its
    rope_scaling, and transformers.js_config."""
    write_llama_config(spec.family, cfg, eos_id, isinstance(spec.eos_token_id, list), folder)
    path = folder / "config.json"
    config = json.loads(path.read_text())
    if not tiny:
        config.update(spec.extra)
    config["rope_scaling"] = cfg.rope_scaling
    config["transformers.js_config"] = {
        "kv_cache_dtype": {f: KV_CACHE_DTYPE[f] for f in ("q4f16", "fp16") if f in data_files},
        "use_external_data_format": {
            FILES[f]: (len(files) if len(files) > 1 else True) for f, files in data_files.items() if files
        },
    }
    path.write_text(json.dumps(config, indent=2) + "\n")


def build_hub_model(name: str, formats: set[str], out: Path, seed: int, tiny: bool, encoder_dir: Path) -> Path:
    spec = HUB_MODELS[name]
    bpe = tokenizer_for(spec.vocab_size, encoder_dir, tiny)
    cfg = spec.tiny_config(bpe.vocab_size) if tiny else spec.config()
    torch.manual_seed(seed)
    model = LlamaLM(cfg)
    model = (model.randomize() if tiny else real_init(model)).eval()
    folder = out / (f"{name}-tiny" if tiny else name)
    if (folder / "onnx").exists():
        shutil.rmtree(folder / "onnx")
    (folder / "onnx").mkdir(parents=True)
    bpe.write_hf(folder, cfg.max_position_embeddings, vocab_size=cfg.vocab_size)

    params = sum(p.numel() for p in model.parameters())
    data_files: dict[str, list[str]] = {}
    written: list[str] = []
    with tempfile.TemporaryDirectory(prefix="specdec-standin-") as tmp:
        # above 2 GB, the exporter writes the weights as files beside the graph
        export_onnx(model, Path(tmp) / "model.onnx")
        if "merged" in formats:
            export_no_past(model, Path(tmp) / "no_past" / "decoder_model.onnx")
        if not tiny:
            # at real size PyTorch's copy is no longer needed (the tiny one gives the references)
            del model
            gc.collect()
        # one copy of the fp32 weights (or none, where they are in files); each variant makes
        # its tensors one at a time as they are written
        fp32 = share_tied_head(lazy_load(Path(tmp) / "model.onnx"))
        variants = {
            "model": lambda: fp32,
            "fp16": lambda: to_float16(fp32),
            "q4": lambda: quantize_q4(fp32),
            "q4f16": lambda: quantize_q4(to_float16(fp32)),
            "int8": lambda: quantize_8bit(fp32, TensorProto.INT8),
            "uint8": lambda: quantize_8bit(fp32, TensorProto.UINT8),
            # transformers.js' q8: int8 weights unless the graph has Conv or fused attention
            "quantized": lambda: quantize_8bit(fp32, TensorProto.INT8),
            "bnb4": lambda: quantize_bnb4(fp32, NF4),
            "merged": lambda: merge_lazy(share_tied_head(lazy_load(Path(tmp) / "no_past" / "decoder_model.onnx")), fp32),
        }
        for fmt in FAMILY_FORMATS:
            if fmt not in formats:
                continue
            variant = variants[fmt]()
            file = folder / "onnx" / FILES[fmt]
            # the Hub keeps fp32 and fp16 weights beside the graph, and any file's that pass 2 GB;
            # the tiny fixtures keep every file's there, in small chunks
            external = tiny or fmt in ("model", "fp16", "merged") or weight_bytes(variant) >= PROTOBUF_LIMIT
            data_files[fmt] = save_hub_onnx(variant, file, external, TINY_CHUNK_BYTES if tiny else PROTOBUF_LIMIT)
            written += [f"onnx/{file.name}", *(f"onnx/{d}" for d in data_files[fmt])]
            del variant
    write_config(spec, cfg, bpe.eos_id, folder, data_files, tiny)
    if tiny:
        with torch.no_grad():
            reference = {
                "inputIds": REFERENCE_IDS,
                "logits": rounded(model.full_pass(REFERENCE_IDS)),
                "prefix": REFERENCE_PREFIX,
                "cachedLogits": rounded(model.cached_pass(REFERENCE_IDS[:REFERENCE_PREFIX], REFERENCE_IDS[REFERENCE_PREFIX:])),
            }
            # what the 4-bit files compute: every Linear's weight as its blocks give it back (a
            # tied head reads the float embedding, as in the Hub's q4 and bnb4 files)
            if formats & {"q4", "q4f16"}:
                reference["q4Logits"] = rounded(with_linear_weights(model, q4_weight).full_pass(REFERENCE_IDS))
            if "bnb4" in formats:
                reference["bnb4Logits"] = rounded(with_linear_weights(model, bnb4_weight).full_pass(REFERENCE_IDS))
            # what the 8-bit files compute (the activations quantized per pass)
            for fmt, weight_type in (("int8", TensorProto.INT8), ("uint8", TensorProto.UINT8)):
                if fmt in formats or (fmt == "int8" and "quantized" in formats):
                    reference[f"{fmt}Logits"] = rounded(emulate_8bit(model, weight_type).full_pass(REFERENCE_IDS))
        (folder / "reference-logits.json").write_text(json.dumps(reference))
    dims = (
        f"{cfg.num_hidden_layers} layers, hidden {cfg.hidden_size}, {cfg.num_attention_heads} query heads over "
        f"{cfg.num_key_value_heads} key/value heads of {cfg.head_dim}, SwiGLU {cfg.intermediate_size}, rope_theta "
        f"{cfg.rope_theta:g}{' with llama3 rope_scaling' if cfg.rope_scaling else ''}, context "
        f"{cfg.max_position_embeddings}, vocabulary {cfg.vocab_size}, {'tied' if cfg.tie_word_embeddings else 'untied'} head"
    )
    what = "a test-size model of the same block as" if tiny else "a shape-faithful stand-in for"
    (folder / "README.md").write_text(
        f"# {folder.name}: {what} {spec.repo}\n\n"
        f"**Random weights, not a language model.** {dims}; {params / 1e6:.2f}M parameters. Seed {seed}.\n"
        f"Dimensions from {spec.source}. Files: {', '.join(written)}.\n"
        "Built by `tools/build_standin.py`; see tools/README.md for what is faithful to the Hub's export and what is not.\n"
    )
    (folder / "standin.json").write_text(
        json.dumps({"model": name, "repo": spec.repo, "seed": seed, "tiny": tiny, "params": params, "files": written}, indent=2) + "\n"
    )
    return folder
