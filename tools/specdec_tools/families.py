"""Tiny stand-ins of the Hub's other decoder families (`build_standin.py --family NAME --tiny`): a
target, a smaller draft of its own (another seed, size and head layout: its drafts are nearly
always rejected) and an early-exit draft (the target's first block: about half accepted), sharing
the GPT-2 fixtures' byte-level BPE, in the Hub's layout as optimum/transformers.js export them,
with PyTorch reference logits for a first pass and for a pass on top of a cache (position_ids
offset) in `{family}-reference-logits.json` beside them. For llama also two variants of the target:
`llama-tiny-wide` (its logits padded with rows no token has, a pair whose logit widths differ as
Qwen2.5-0.5B's and 7B's do) and `llama-tiny-instruct` (the target with a chat template).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, replace
from pathlib import Path

import torch

from .bpe import CutBPE
from .export import export_onnx
from .llama import LlamaConfig, LlamaLM

MERGES = 300  # the GPT-2 fixtures' vocabulary: 256 bytes + 300 merges + <|endoftext|>
# Token sequences whose logits the TypeScript tests compare (ids below the 557-token vocabulary).
SEQUENCES = [[464, 262, 286, 290, 13, 11, 257, 284], [40, 101, 257, 318, 286, 262, 383, 301, 12, 423, 307, 379, 556, 464]]
# A cached pass: the first `PREFIX` tokens of each sequence, then the rest on top of their cache.
PREFIX = 5


@dataclass
class TinyModel:
    role: str
    seed: int
    cfg: LlamaConfig
    # config.json's eos_token_id: a list (as Llama 3's) or a number (as SmolLM2's)
    eos_as_list: bool


# the early-exit draft: the target's first block; the target's later blocks damped so that it
# agrees about half the time (measured on the tests' prompts: 40-55% of greedy tokens)
EARLY_LAYERS = 1
EARLY_DAMP = 0.4


FAMILIES = ("llama", "qwen2", "phi3")

# llama-tiny-wide: the target's logits padded to this many rows (Qwen2.5-7B has 128 more than
# Qwen2.5-0.5B, rows no token of the shared tokenizer has). Pad row 557 + j is 1.2 times the head
# row of token (7 j) mod 557, so it outscores that token wherever that token's logit is positive:
# a reader that does not keep to the shared ids picks padding often.
WIDE_ROWS = 640
WIDE_PAD_SCALE = 1.2

# llama-tiny-instruct's chat template: Llama 3's layout (a header per role, the turn closed by the
# end-of-turn token, the assistant's header opened for the reply), with the tiny vocabulary's one
# special token standing for both <|begin_of_text|> and <|eot_id|>.
CHAT_TEMPLATE = (
    "{{ bos_token }}{% for message in messages %}"
    "{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\n\n' + message['content'] | trim }}{{ eos_token }}"
    "{% endfor %}{% if add_generation_prompt %}{{ '<|start_header_id|>assistant<|end_header_id|>\n\n' }}{% endif %}"
)


def padded_rows(model: LlamaLM, rows: int, scale: float) -> LlamaLM:
    """The model with its (tied) token table padded to `rows` rows: the first rows unchanged, each
    pad row `scale` times the row of a token spread over the vocabulary (see WIDE_ROWS)."""
    vocab = model.cfg.vocab_size
    wide = LlamaLM(replace(model.cfg, vocab_size=rows))
    state = model.state_dict()
    table = state["embed_tokens.weight"]
    pads = torch.stack([table[(7 * j) % vocab] * scale for j in range(rows - vocab)])
    state["embed_tokens.weight"] = torch.cat([table, pads])
    wide.load_state_dict(state)
    return wide.eval()


def build_variants(target: LlamaLM, target_spec: TinyModel, out: Path, bpe: CutBPE) -> list[Path]:
    """llama-tiny-wide and llama-tiny-instruct beside the llama trio (no reference logits: their
    first 557 logits are the target's, which the reference pins)."""
    assert target.lm_head is None, "the padding is written into the tied token table"
    folders = []
    for role, model, template in (
        ("wide", padded_rows(target, WIDE_ROWS, WIDE_PAD_SCALE), None),
        ("instruct", target, CHAT_TEMPLATE),
    ):
        cfg = model.cfg
        folder = out / f"llama-tiny-{role}"
        (folder / "onnx").mkdir(parents=True, exist_ok=True)
        write_llama_config("llama", cfg, bpe.eos_id, target_spec.eos_as_list, folder)
        # the shared tokenizer (557 tokens) for both: the wide model's pad rows have no token
        bpe.write_hf(folder, cfg.max_position_embeddings)
        if template is not None:
            config_path = folder / "tokenizer_config.json"
            tokenizer_config = json.loads(config_path.read_text())
            tokenizer_config["chat_template"] = template
            config_path.write_text(json.dumps(tokenizer_config, indent=2) + "\n")
        export_onnx(model, folder / "onnx" / "model.onnx")
        what = (
            f"llama-tiny-target's weights with its tied token table padded to {WIDE_ROWS} rows: the logits have "
            f"{WIDE_ROWS} rows, the tokenizer {target.cfg.vocab_size} tokens "
            f"(pad row 557 + j is {WIDE_PAD_SCALE} times token (7 j) mod 557's row)"
            if role == "wide"
            else "llama-tiny-target's weights with a chat template in tokenizer_config.json (Llama 3's layout)"
        )
        (folder / "README.md").write_text(
            f"# llama-tiny-{role}: a random-weight llama decoder for tests\n\n"
            f"**Random weights, not a language model.** {what}.\n"
            f"GPT-2's byte-level BPE cut to 300 merges. Built by `tools/build_standin.py --family llama --tiny`; MIT.\n"
        )
        folders.append(folder)
    return folders


def family_pair(family: str, vocab_size: int) -> list[TinyModel]:
    """A family's target and own draft: Llama's (below); for Qwen2 the same shapes with biases on
    the q, k and v projections, other seeds, and eos_token_id a number in both (as Qwen2.5's
    config.json writes it); for Phi-3 the same shapes with Phi-3's fused qkv_proj and
    gate_up_proj, untied heads (as Phi-3's) and other seeds."""
    pair = llama_pair(vocab_size)
    if family == "llama":
        return pair
    if family == "qwen2":
        return [TinyModel(s.role, s.seed + 10, replace(s.cfg, attention_bias=True), False) for s in pair]
    return [
        TinyModel(s.role, s.seed + 20, replace(s.cfg, fused_projections=True, tie_word_embeddings=False), False)
        for s in pair
    ]


def llama_pair(vocab_size: int) -> list[TinyModel]:
    """A target (4 query heads over 2 kv heads, tied head) and a smaller draft (2 over 1, its own
    head, another rope_theta), both with grouped-query attention."""
    return [
        TinyModel(
            "target",
            31,
            LlamaConfig(vocab_size, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
                        num_key_value_heads=2, max_position_embeddings=128, rope_theta=10000.0, tie_word_embeddings=True),
            True,
        ),
        TinyModel(
            "draft",
            32,
            LlamaConfig(vocab_size, hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2,
                        num_key_value_heads=1, max_position_embeddings=128, rope_theta=100000.0, tie_word_embeddings=False),
            False,
        ),
    ]


def write_llama_config(family: str, cfg: LlamaConfig, eos_id: int, eos_as_list: bool, out_dir: Path) -> None:
    """config.json and generation_config.json as transformers' LlamaConfig (or Qwen2Config,
    Phi3Config) writes them."""
    eos = [eos_id] if eos_as_list else eos_id
    config = {
        "architectures": [{"llama": "LlamaForCausalLM", "qwen2": "Qwen2ForCausalLM", "phi3": "Phi3ForCausalLM"}[family]],
        "model_type": family,
        "hidden_act": "silu",
        "hidden_size": cfg.hidden_size,
        "intermediate_size": cfg.intermediate_size,
        "num_hidden_layers": cfg.num_hidden_layers,
        "num_attention_heads": cfg.num_attention_heads,
        "num_key_value_heads": cfg.num_key_value_heads,
        "head_dim": cfg.head_dim,
        "max_position_embeddings": cfg.max_position_embeddings,
        "vocab_size": cfg.vocab_size,
        "rms_norm_eps": cfg.rms_norm_eps,
        "rope_theta": cfg.rope_theta,
        "rope_scaling": None,
        "attention_bias": False,
        "mlp_bias": False,
        "bos_token_id": eos_id,
        "eos_token_id": eos,
        "tie_word_embeddings": cfg.tie_word_embeddings,
        "torch_dtype": "float32",
        "use_cache": True,
    }
    if family == "qwen2":
        # Qwen2Config has no head_dim (hidden_size / heads) and no bias switches (q, k, v have
        # biases), and writes its sliding-window fields
        for key in ("head_dim", "attention_bias", "mlp_bias"):
            del config[key]
        config.update(use_sliding_window=False, sliding_window=cfg.max_position_embeddings, max_window_layers=cfg.num_hidden_layers)
    if family == "phi3":
        # Phi3Config: no head_dim (hidden_size / heads), no bias switches, its original context and
        # sliding window (the block has none: a window as long as the context changes nothing)
        for key in ("head_dim", "attention_bias", "mlp_bias"):
            del config[key]
        config.update(original_max_position_embeddings=cfg.max_position_embeddings, sliding_window=cfg.max_position_embeddings)
    (out_dir / "config.json").write_text(json.dumps(config, indent=2) + "\n")
    generation = {"bos_token_id": eos_id, "eos_token_id": eos, "do_sample": False}
    (out_dir / "generation_config.json").write_text(json.dumps(generation, indent=2) + "\n")


def rounded(logits: torch.Tensor) -> list[list[float]]:
    """Rows of logits at 1e-6 (the tests compare within 1e-4): a smaller file."""
    return [[round(v, 6) for v in row] for row in logits.tolist()]


def tiny_models(family: str, vocab_size: int) -> list[tuple[TinyModel, LlamaLM]]:
    """The target, its own draft and its early exit, each with its weights."""
    target_spec, draft_spec = family_pair(family, vocab_size)
    torch.manual_seed(target_spec.seed)
    target = LlamaLM(target_spec.cfg).randomize().damp_last_layers(EARLY_LAYERS, EARLY_DAMP).eval()
    torch.manual_seed(draft_spec.seed)
    draft = LlamaLM(draft_spec.cfg).randomize().eval()
    early = target.early_exit(EARLY_LAYERS)
    early_spec = TinyModel("early", target_spec.seed, early.cfg, False)
    return [(target_spec, target), (draft_spec, draft), (early_spec, early)]


def build_tiny(family: str, out: Path, bpe: CutBPE) -> list[Path]:
    """DIR/{family}-tiny-{target,draft,early}/ and DIR/{family}-reference-logits.json; returns the
    folders."""
    if family not in FAMILIES:
        raise SystemExit(f"--family {family}: the builder writes {', '.join(FAMILIES)}")
    torch.set_num_threads(1)
    reference_path = out / f"{family}-reference-logits.json"
    reference: dict[str, dict] = {}
    folders = []
    models = tiny_models(family, bpe.vocab_size)
    for model_spec, model in models:
        cfg = model_spec.cfg
        name = f"{family}-tiny-{model_spec.role}"
        folder = out / name
        (folder / "onnx").mkdir(parents=True, exist_ok=True)
        write_llama_config(family, cfg, bpe.eos_id, model_spec.eos_as_list, folder)
        bpe.write_hf(folder, cfg.max_position_embeddings)
        export_onnx(model, folder / "onnx" / "model.onnx")
        with torch.no_grad():
            sequences = []
            for seq in SEQUENCES:
                full = model.full_pass(seq)
                cached = model.cached_pass(seq[:PREFIX], seq[PREFIX:])
                # the PyTorch cache itself must agree with a pass over the whole sequence
                drift = (cached - full[PREFIX:]).abs().max().item()
                if drift > 1e-4:
                    raise SystemExit(f"{name}: the cached pass differs from the full pass by {drift}")
                sequences.append(
                    {"inputIds": seq, "logits": rounded(full), "prefix": PREFIX, "cachedLogits": rounded(cached)}
                )
            reference[name] = {"sequences": sequences}
        params = sum(p.numel() for p in model.parameters())
        origin = " (the target's first block, with its embedding, norm and head)" if model_spec.role == "early" else ""
        dims = (
            f"{cfg.num_hidden_layers} layers, hidden {cfg.hidden_size}, {cfg.num_attention_heads} query heads over "
            f"{cfg.num_key_value_heads} key/value heads of {cfg.head_dim}, SwiGLU {cfg.intermediate_size}, rope_theta "
            f"{cfg.rope_theta:g}, context {cfg.max_position_embeddings}, vocabulary {cfg.vocab_size}, "
            f"{'tied' if cfg.tie_word_embeddings else 'untied'} head"
        )
        (folder / "README.md").write_text(
            f"# {name}: a random-weight {family} decoder for tests\n\n"
            f"**Random weights, not a language model.** {dims}; {params / 1e3:.0f}k parameters. Seed {model_spec.seed}{origin}.\n"
            f"GPT-2's byte-level BPE cut to 300 merges. Built by `tools/build_standin.py --family {family} --tiny`; MIT.\n"
        )
        folders.append(folder)
    reference_path.write_text(json.dumps(reference))
    if family == "llama":
        (target_spec, target), *_ = models
        folders += build_variants(target, target_spec, out, bpe)
    return folders
