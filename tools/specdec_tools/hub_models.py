"""The catalog's Llama, Qwen2 and Phi-3 models (src/shared/catalog.ts) at their real dimensions,
for `build_standin.py --model NAME`: every figure is copied from the model's published
config.json (the source below each entry), so that a stand-in costs what the model costs.

What the stand-ins cannot copy: the weights (random) and the tokenizer (GPT-2's byte-level BPE,
cut or padded with reserved tokens to the model's vocabulary size, since the real tokenizers are
not downloaded here): eos is the tokenizer's, written in the config's shape (a list for Llama 3).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from .llama import LlamaConfig

LLAMA3_ROPE_SCALING = {
    "factor": 32.0,
    "high_freq_factor": 4.0,
    "low_freq_factor": 1.0,
    "original_max_position_embeddings": 8192,
    "rope_type": "llama3",
}


@dataclass(frozen=True)
class HubModel:
    name: str
    family: str  # config.json's model_type
    repo: str  # the transformers.js-ready repo it stands in for
    source: str  # where the figures come from
    hidden_size: int
    intermediate_size: int
    num_hidden_layers: int
    num_attention_heads: int
    num_key_value_heads: int
    vocab_size: int
    max_position_embeddings: int
    rope_theta: float
    rms_norm_eps: float
    tie_word_embeddings: bool
    # the real config's eos_token_id (a list for Llama 3.2) and bos_token_id, recorded for the card
    eos_token_id: int | list[int]
    bos_token_id: int
    rope_scaling: dict | None = None
    # fields the real config carries beside the sizes, copied as they are (Qwen2's sliding window)
    extra: dict = field(default_factory=dict)

    def config(self) -> LlamaConfig:
        return LlamaConfig(
            self.vocab_size,
            hidden_size=self.hidden_size,
            intermediate_size=self.intermediate_size,
            num_hidden_layers=self.num_hidden_layers,
            num_attention_heads=self.num_attention_heads,
            num_key_value_heads=self.num_key_value_heads,
            max_position_embeddings=self.max_position_embeddings,
            rms_norm_eps=self.rms_norm_eps,
            rope_theta=self.rope_theta,
            tie_word_embeddings=self.tie_word_embeddings,
            attention_bias=self.family == "qwen2",
            fused_projections=self.family == "phi3",
            rope_scaling=self.rope_scaling,
        )

    def tiny_config(self, vocab_size: int) -> LlamaConfig:
        """The same block (family, grouped-query ratio, tied head, rope_theta and scaling) at test
        size: 2 layers, hidden 32, 4 query heads over 2 key/value heads of 8 (1 over 1 where
        the model has no grouping), SwiGLU 64, context 128."""
        grouped = self.num_key_value_heads < self.num_attention_heads
        return replace(
            self.config(),
            vocab_size=vocab_size,
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2 if grouped else 4,
            max_position_embeddings=128,
        )


CONFIG_SOURCE = "https://huggingface.co/{}/blob/main/config.json"
HUB_MODELS: dict[str, HubModel] = {
    m.name: m
    for m in [
        HubModel("smollm2-135m", "llama", "HuggingFaceTB/SmolLM2-135M-Instruct",
                 CONFIG_SOURCE.format("HuggingFaceTB/SmolLM2-135M-Instruct"),
                 hidden_size=576, intermediate_size=1536, num_hidden_layers=30, num_attention_heads=9,
                 num_key_value_heads=3, vocab_size=49152, max_position_embeddings=8192, rope_theta=100000.0,
                 rms_norm_eps=1e-5, tie_word_embeddings=True, eos_token_id=2, bos_token_id=1),
        HubModel("smollm2-360m", "llama", "HuggingFaceTB/SmolLM2-360M-Instruct",
                 CONFIG_SOURCE.format("HuggingFaceTB/SmolLM2-360M-Instruct"),
                 hidden_size=960, intermediate_size=2560, num_hidden_layers=32, num_attention_heads=15,
                 num_key_value_heads=5, vocab_size=49152, max_position_embeddings=8192, rope_theta=100000.0,
                 rms_norm_eps=1e-5, tie_word_embeddings=True, eos_token_id=2, bos_token_id=1),
        HubModel("smollm2-1.7b", "llama", "HuggingFaceTB/SmolLM2-1.7B-Instruct",
                 CONFIG_SOURCE.format("HuggingFaceTB/SmolLM2-1.7B-Instruct"),
                 hidden_size=2048, intermediate_size=8192, num_hidden_layers=24, num_attention_heads=32,
                 num_key_value_heads=32, vocab_size=49152, max_position_embeddings=8192, rope_theta=130000.0,
                 rms_norm_eps=1e-5, tie_word_embeddings=True, eos_token_id=2, bos_token_id=1),
        HubModel("qwen2.5-0.5b", "qwen2", "onnx-community/Qwen2.5-0.5B-Instruct",
                 CONFIG_SOURCE.format("Qwen/Qwen2.5-0.5B-Instruct"),
                 hidden_size=896, intermediate_size=4864, num_hidden_layers=24, num_attention_heads=14,
                 num_key_value_heads=2, vocab_size=151936, max_position_embeddings=32768, rope_theta=1000000.0,
                 rms_norm_eps=1e-6, tie_word_embeddings=True, eos_token_id=151645, bos_token_id=151643,
                 extra={"use_sliding_window": False, "sliding_window": 32768, "max_window_layers": 21}),
        HubModel("qwen2.5-1.5b", "qwen2", "onnx-community/Qwen2.5-1.5B-Instruct",
                 CONFIG_SOURCE.format("Qwen/Qwen2.5-1.5B-Instruct"),
                 hidden_size=1536, intermediate_size=8960, num_hidden_layers=28, num_attention_heads=12,
                 num_key_value_heads=2, vocab_size=151936, max_position_embeddings=32768, rope_theta=1000000.0,
                 rms_norm_eps=1e-6, tie_word_embeddings=True, eos_token_id=151645, bos_token_id=151643,
                 extra={"use_sliding_window": False, "sliding_window": 32768, "max_window_layers": 21}),
        HubModel("qwen2.5-3b", "qwen2", "onnx-community/Qwen2.5-3B-Instruct",
                 CONFIG_SOURCE.format("Qwen/Qwen2.5-3B-Instruct"),
                 hidden_size=2048, intermediate_size=11008, num_hidden_layers=36, num_attention_heads=16,
                 num_key_value_heads=2, vocab_size=151936, max_position_embeddings=32768, rope_theta=1000000.0,
                 rms_norm_eps=1e-6, tie_word_embeddings=True, eos_token_id=151645, bos_token_id=151643,
                 extra={"use_sliding_window": False, "sliding_window": 32768, "max_window_layers": 70}),
        HubModel("llama3.2-1b", "llama", "onnx-community/Llama-3.2-1B-Instruct",
                 CONFIG_SOURCE.format("meta-llama/Llama-3.2-1B-Instruct"),
                 hidden_size=2048, intermediate_size=8192, num_hidden_layers=16, num_attention_heads=32,
                 num_key_value_heads=8, vocab_size=128256, max_position_embeddings=131072, rope_theta=500000.0,
                 rms_norm_eps=1e-5, tie_word_embeddings=True, eos_token_id=[128001, 128008, 128009],
                 bos_token_id=128000, rope_scaling=LLAMA3_ROPE_SCALING),
        HubModel("llama3.2-3b", "llama", "onnx-community/Llama-3.2-3B-Instruct",
                 CONFIG_SOURCE.format("meta-llama/Llama-3.2-3B-Instruct"),
                 hidden_size=3072, intermediate_size=8192, num_hidden_layers=28, num_attention_heads=24,
                 num_key_value_heads=8, vocab_size=128256, max_position_embeddings=131072, rope_theta=500000.0,
                 rms_norm_eps=1e-5, tie_word_embeddings=True, eos_token_id=[128001, 128008, 128009],
                 bos_token_id=128000, rope_scaling=LLAMA3_ROPE_SCALING),
        # not in the catalog's pairs (no small Phi-3 drafts it): the phi3 family's Hub layout
        HubModel("phi3-mini-4k", "phi3", "Xenova/Phi-3-mini-4k-instruct",
                 CONFIG_SOURCE.format("microsoft/Phi-3-mini-4k-instruct"),
                 hidden_size=3072, intermediate_size=8192, num_hidden_layers=32, num_attention_heads=32,
                 num_key_value_heads=32, vocab_size=32064, max_position_embeddings=4096, rope_theta=10000.0,
                 rms_norm_eps=1e-5, tie_word_embeddings=False, eos_token_id=32000, bos_token_id=1,
                 extra={"original_max_position_embeddings": 4096, "sliding_window": 2047}),
    ]
}
