"""Export a GPT2LM (or a LlamaLM) to ONNX with the Hub's with-past interface and write a Hugging Face model folder."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import torch

from .bpe import CutBPE
from .llama import LlamaLM
from .model import GPT2LM

OPSET = 14


def legacy_exporter() -> dict:
    """torch.onnx.export's TorchScript exporter: the graph layout the Hub's GPT-2 exports have.
    PyTorch 2.9 and later default to the dynamo exporter (another graph, opset 18); older ones
    have no `dynamo` argument at all."""
    return {"dynamo": False} if "dynamo" in inspect.signature(torch.onnx.export).parameters else {}


def io_names(n_layer: int) -> tuple[list[str], list[str]]:
    past = [f"past_key_values.{i}.{kv}" for i in range(n_layer) for kv in ("key", "value")]
    present = [f"present.{i}.{kv}" for i in range(n_layer) for kv in ("key", "value")]
    return ["input_ids", "attention_mask", "position_ids", *past], ["logits", *present]


def export_onnx(model: GPT2LM | LlamaLM, path: Path) -> None:
    """The with-past decoder, with the cache's kv heads (the heads, unless the family groups them)."""
    cfg = model.cfg
    kv_heads = getattr(cfg, "n_kv_heads", None) or cfg.n_head
    model = model.eval()
    inputs, outputs = io_names(cfg.n_layer)
    past_len, seq_len = 3, 2
    example = (
        torch.zeros(1, seq_len, dtype=torch.long),
        torch.ones(1, past_len + seq_len, dtype=torch.long),
        torch.arange(past_len, past_len + seq_len).unsqueeze(0),
        *[torch.zeros(1, kv_heads, past_len, cfg.head_dim) for _ in range(2 * cfg.n_layer)],
    )
    dynamic = {
        "input_ids": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "past_sequence_length + sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
    }
    for name in inputs[3:]:
        dynamic[name] = {0: "batch_size", 2: "past_sequence_length"}
    for name in outputs[1:]:
        dynamic[name] = {0: "batch_size", 2: "past_sequence_length + sequence_length"}
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            model,
            example,
            str(path),
            input_names=inputs,
            output_names=outputs,
            dynamic_axes=dynamic,
            opset_version=OPSET,
            do_constant_folding=True,
            **legacy_exporter(),
        )


class NoPast(torch.nn.Module):
    """The decoder without past inputs (optimum's decoder_model.onnx): the merged file's first pass."""

    def __init__(self, model: GPT2LM | LlamaLM) -> None:
        super().__init__()
        self.model = model

    def forward(self, input_ids, attention_mask, position_ids):
        cfg = self.model.cfg
        kv_heads = getattr(cfg, "n_kv_heads", None) or cfg.n_head
        b = input_ids.shape[0]
        empty = [torch.zeros(b, kv_heads, 0, cfg.head_dim) for _ in range(2 * cfg.n_layer)]
        return self.model(input_ids, attention_mask, position_ids, *empty)


def export_no_past(model: GPT2LM | LlamaLM, path: Path) -> None:
    cfg = model.cfg
    outputs = ["logits", *[f"present.{i}.{kv}" for i in range(cfg.n_layer) for kv in ("key", "value")]]
    dynamic = {
        "input_ids": {0: "batch_size", 1: "sequence_length"},
        "attention_mask": {0: "batch_size", 1: "sequence_length"},
        "position_ids": {0: "batch_size", 1: "sequence_length"},
        "logits": {0: "batch_size", 1: "sequence_length"},
        **{name: {0: "batch_size", 2: "sequence_length"} for name in outputs[1:]},
    }
    example = (torch.zeros(1, 3, dtype=torch.long), torch.ones(1, 3, dtype=torch.long), torch.arange(3).unsqueeze(0))
    path.parent.mkdir(parents=True, exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(
            NoPast(model).eval(),
            example,
            str(path),
            input_names=["input_ids", "attention_mask", "position_ids"],
            output_names=outputs,
            dynamic_axes=dynamic,
            opset_version=OPSET,
            do_constant_folding=True,
            **legacy_exporter(),
        )


def write_config(cfg, bpe: CutBPE, out_dir: Path) -> None:
    """config.json and generation_config.json, as the Hub's gpt2 repo has them."""
    out_dir.mkdir(parents=True, exist_ok=True)
    config = {
        "architectures": ["GPT2LMHeadModel"],
        "model_type": "gpt2",
        "activation_function": "gelu_new",
        "n_layer": cfg.n_layer,
        "n_head": cfg.n_head,
        "n_embd": cfg.n_embd,
        "n_positions": cfg.n_positions,
        "n_ctx": cfg.n_positions,
        "vocab_size": cfg.vocab_size,
        "bos_token_id": bpe.eos_id,
        "eos_token_id": bpe.eos_id,
        "layer_norm_epsilon": 1e-5,
        "tie_word_embeddings": True,
        "use_cache": True,
    }
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    generation = {"bos_token_id": bpe.eos_id, "eos_token_id": bpe.eos_id, "do_sample": False}
    (out_dir / "generation_config.json").write_text(json.dumps(generation, indent=2) + "\n")


def write_folder(model: GPT2LM, bpe: CutBPE, out_dir: Path, card: str) -> None:
    """config.json, generation_config.json, tokenizer files, onnx/model.onnx and README.md."""
    cfg = model.cfg
    write_config(cfg, bpe, out_dir)
    bpe.write_hf(out_dir, cfg.n_positions)
    export_onnx(model, out_dir / "onnx" / "model.onnx")
    (out_dir / "README.md").write_text(card)
