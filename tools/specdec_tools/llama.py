"""A Llama-architecture decoder whose ONNX export has the interface optimum and transformers.js give
the Hub's llama exports (onnx-community/Llama-3.2-1B, HuggingFaceTB/SmolLM2-135M, ...), and with
`attention_bias` Qwen2's (biases on the q, k and v projections, the rest Llama's block).

RMSNorm, rotary position embeddings with the config's rope_theta (Llama's rotate_half convention:
the two halves of each head are the pairs), grouped-query attention (each key/value head serves
num_attention_heads / num_key_value_heads query heads), a SwiGLU MLP, input embeddings tied to the
output head or not. The forward signature is optimum's with past: input_ids, attention_mask,
position_ids and past key/values shaped [batch, kv_heads, past_len, head_dim]; the cache holds the
key/value heads before they are repeated for the query heads, as transformers' LlamaAttention does.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import torch
from torch import nn


@dataclass
class LlamaConfig:
    vocab_size: int
    hidden_size: int = 64
    intermediate_size: int = 128
    num_hidden_layers: int = 2
    num_attention_heads: int = 4
    num_key_value_heads: int = 2
    max_position_embeddings: int = 128
    rms_norm_eps: float = 1e-5
    rope_theta: float = 10000.0
    tie_word_embeddings: bool = True
    # biases on the q, k and v projections: Qwen2's one difference from Llama's block
    attention_bias: bool = False
    # Phi-3's layout of the same block: q, k and v as one qkv_proj, gate and up as one gate_up_proj
    fused_projections: bool = False
    # config.json's rope_scaling: None, or Llama 3.1/3.2's {"rope_type": "llama3", "factor", ...}
    rope_scaling: dict | None = None

    @property
    def head_dim(self) -> int:
        return self.hidden_size // self.num_attention_heads

    # the names the shared export helpers read (specdec_tools/export.py)
    @property
    def n_layer(self) -> int:
        return self.num_hidden_layers

    @property
    def n_kv_heads(self) -> int:
        return self.num_key_value_heads


class RMSNorm(nn.Module):
    def __init__(self, size: int, eps: float) -> None:
        super().__init__()
        self.weight = nn.Parameter(torch.ones(size))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def rotate_half(x):
    """Llama's convention: the first half of a head pairs with the second half."""
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def llama3_inv_freq(inv_freq: torch.Tensor, scaling: dict) -> torch.Tensor:
    """Llama 3.1's frequency rescaling (rope_type "llama3", as transformers'
    `_compute_llama3_parameters` and Meta's `apply_scaling`): wavelengths longer than
    original_max_position_embeddings / low_freq_factor are slowed down by `factor`, those shorter
    than original_max_position_embeddings / high_freq_factor are kept, and those between are
    interpolated smoothly between the two. No attention scaling (it is 1 for this type)."""
    factor = float(scaling["factor"])
    low, high = float(scaling["low_freq_factor"]), float(scaling["high_freq_factor"])
    old_context = float(scaling["original_max_position_embeddings"])
    low_freq_wavelen, high_freq_wavelen = old_context / low, old_context / high
    wavelen = 2 * math.pi / inv_freq
    scaled = torch.where(wavelen > low_freq_wavelen, inv_freq / factor, inv_freq)
    smooth = (old_context / wavelen - low) / (high - low)
    smoothed = (1 - smooth) * scaled / factor + smooth * scaled
    medium = (wavelen >= high_freq_wavelen) & (wavelen <= low_freq_wavelen)
    return torch.where(medium, smoothed, scaled)


class Rotary(nn.Module):
    """cos and sin per position, from position_ids (as transformers' LlamaRotaryEmbedding), with
    the config's rope_scaling where it has one (only Llama 3's type: the builder writes no other)."""

    def __init__(self, head_dim: int, theta: float, scaling: dict | None = None) -> None:
        super().__init__()
        inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim))
        if scaling is not None:
            kind = scaling.get("rope_type", scaling.get("type"))
            if kind != "llama3":
                raise ValueError(f"rope_scaling type {kind!r}: the builder implements llama3 only")
            inv_freq = llama3_inv_freq(inv_freq, scaling)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def forward(self, position_ids):
        # [batch, seq, head_dim / 2] -> [batch, 1, seq, head_dim]
        freqs = position_ids.to(torch.float32).unsqueeze(-1) * self.inv_freq
        emb = torch.cat((freqs, freqs), dim=-1).unsqueeze(1)
        return emb.cos(), emb.sin()


def repeat_kv(x, group: int):
    """transformers' repeat_kv: query head h reads key/value head h // group. Written with expand
    and reshape (not repeat_interleave, which the TorchScript exporter traces at the example's
    length)."""
    if group == 1:
        return x
    b, kv, s, d = x.shape
    return x[:, :, None, :, :].expand(b, kv, group, s, d).reshape(b, kv * group, s, d)


class Attention(nn.Module):
    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.n_head = cfg.num_attention_heads
        self.n_kv = cfg.num_key_value_heads
        self.head_dim = cfg.head_dim
        bias = cfg.attention_bias
        self.fused = cfg.fused_projections
        q_size, kv_size = self.n_head * self.head_dim, self.n_kv * self.head_dim
        if self.fused:
            # Phi3Attention: rows [q | k | v] of one matrix
            self.qkv_proj = nn.Linear(cfg.hidden_size, q_size + 2 * kv_size, bias=bias)
        else:
            self.q_proj = nn.Linear(cfg.hidden_size, q_size, bias=bias)
            self.k_proj = nn.Linear(cfg.hidden_size, kv_size, bias=bias)
            self.v_proj = nn.Linear(cfg.hidden_size, kv_size, bias=bias)
        self.o_proj = nn.Linear(self.n_head * self.head_dim, cfg.hidden_size, bias=False)

    def forward(self, x, mask, cos, sin, past_k, past_v):
        b, t, _ = x.shape
        if self.fused:
            q_size, kv_size = self.n_head * self.head_dim, self.n_kv * self.head_dim
            qkv = self.qkv_proj(x)
            q = qkv[..., :q_size].reshape(b, t, self.n_head, self.head_dim).transpose(1, 2)
            k = qkv[..., q_size : q_size + kv_size].reshape(b, t, self.n_kv, self.head_dim).transpose(1, 2)
            v = qkv[..., q_size + kv_size :].reshape(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        else:
            q = self.q_proj(x).view(b, t, self.n_head, self.head_dim).transpose(1, 2)
            k = self.k_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
            v = self.v_proj(x).view(b, t, self.n_kv, self.head_dim).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        k = torch.cat([past_k, k], dim=2)
        v = torch.cat([past_v, v], dim=2)
        k_all = repeat_kv(k, self.n_head // self.n_kv)
        v_all = repeat_kv(v, self.n_head // self.n_kv)
        att = (q @ k_all.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
        att = att.masked_fill(~mask, torch.finfo(att.dtype).min)
        y = torch.softmax(att, dim=-1) @ v_all
        y = y.transpose(1, 2).reshape(b, t, self.n_head * self.head_dim)
        return self.o_proj(y), k, v


class MLP(nn.Module):
    """SwiGLU: down(silu(gate(x)) * up(x))."""

    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.fused = cfg.fused_projections
        if self.fused:
            # Phi3MLP: rows [gate | up] of one matrix
            self.gate_up_proj = nn.Linear(cfg.hidden_size, 2 * cfg.intermediate_size, bias=False)
        else:
            self.gate_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
            self.up_proj = nn.Linear(cfg.hidden_size, cfg.intermediate_size, bias=False)
        self.down_proj = nn.Linear(cfg.intermediate_size, cfg.hidden_size, bias=False)

    def forward(self, x):
        if self.fused:
            gate, up = self.gate_up_proj(x).chunk(2, dim=-1)
            return self.down_proj(nn.functional.silu(gate) * up)
        return self.down_proj(nn.functional.silu(self.gate_proj(x)) * self.up_proj(x))


class Block(nn.Module):
    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.input_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.self_attn = Attention(cfg)
        self.post_attention_layernorm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.mlp = MLP(cfg)

    def forward(self, x, mask, cos, sin, past_k, past_v):
        a, k, v = self.self_attn(self.input_layernorm(x), mask, cos, sin, past_k, past_v)
        x = x + a
        x = x + self.mlp(self.post_attention_layernorm(x))
        return x, k, v


class LlamaLM(nn.Module):
    def __init__(self, cfg: LlamaConfig) -> None:
        super().__init__()
        self.cfg = cfg
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.hidden_size)
        self.layers = nn.ModuleList([Block(cfg) for _ in range(cfg.num_hidden_layers)])
        self.norm = RMSNorm(cfg.hidden_size, cfg.rms_norm_eps)
        self.rotary = Rotary(cfg.head_dim, cfg.rope_theta, cfg.rope_scaling)
        self.lm_head = None if cfg.tie_word_embeddings else nn.Linear(cfg.hidden_size, cfg.vocab_size, bias=False)

    def randomize(self) -> "LlamaLM":
        """Random weights scaled so next-token distributions are peaked and greedy text varies (few
        float-level near ties), with norm weights away from 1 so that a reader which drops them is
        caught. For random-weight stand-ins and test fixtures."""
        with torch.no_grad():
            nn.init.normal_(self.embed_tokens.weight, std=1.0)
            for name, p in self.named_parameters():
                if name.endswith("norm.weight"):
                    nn.init.uniform_(p, 0.5, 1.5)
                elif name.endswith("proj.bias"):
                    nn.init.normal_(p, std=1.0)
                elif p.dim() == 2 and name != "embed_tokens.weight":
                    nn.init.normal_(p, std=1.0 / math.sqrt(p.shape[1]))
                    # the blocks outweigh the token's own embedding in the residual (a tied head
                    # would otherwise read the input token back and repeat it), and attention is
                    # peaked enough for positions, hence rotary embeddings, to matter
                    if name.endswith(("o_proj.weight", "down_proj.weight")):
                        p.mul_(8.0)
                    elif name.endswith(("q_proj.weight", "k_proj.weight")):
                        p.mul_(3.0)
                    elif name.endswith("qkv_proj.weight"):
                        # the q and k rows of Phi-3's fused matrix, as q_proj and k_proj above
                        cfg = self.cfg
                        p[: (cfg.num_attention_heads + cfg.num_key_value_heads) * cfg.head_dim].mul_(3.0)
            if self.lm_head is not None:
                self.lm_head.weight.mul_(8.0)
        return self

    def early_exit(self, layers: int) -> "LlamaLM":
        """A smaller model that is this one's first `layers` blocks, with its embedding, final norm
        and head: a draft that agrees with this model part of the time (random weights give no
        other way to a draft with a mix of verdicts)."""
        small = LlamaLM(replace(self.cfg, num_hidden_layers=layers))
        small.load_state_dict({k: v for k, v in self.state_dict().items() if k in small.state_dict()})
        return small.eval()

    def damp_last_layers(self, keep: int, factor: float) -> "LlamaLM":
        """Scale the output projections of the blocks after the first `keep` by `factor`: the
        early exit at `keep` then agrees with the whole model more often."""
        with torch.no_grad():
            for block in self.layers[keep:]:
                block.self_attn.o_proj.weight.mul_(factor)
                block.mlp.down_proj.weight.mul_(factor)
        return self

    def head(self, x):
        x = self.norm(x)
        return self.lm_head(x) if self.lm_head is not None else x @ self.embed_tokens.weight.T

    def empty_past(self, batch: int = 1) -> list[torch.Tensor]:
        cfg = self.cfg
        return [torch.zeros(batch, cfg.num_key_value_heads, 0, cfg.head_dim) for _ in range(2 * cfg.num_hidden_layers)]

    def forward(self, input_ids, attention_mask, position_ids, *past):
        """The Hub llama interface: returns (logits, present.0.key, present.0.value, ...).

        attention_mask covers past + new tokens ([batch, past_len + seq_len], 1 = attend).
        """
        _, t = input_ids.shape
        past_len = past[0].shape[2]
        total = past_len + t
        x = self.embed_tokens(input_ids)
        cos, sin = self.rotary(position_ids)
        q_pos = torch.arange(t, device=input_ids.device).unsqueeze(1) + past_len
        k_pos = torch.arange(total, device=input_ids.device).unsqueeze(0)
        causal = (k_pos <= q_pos).unsqueeze(0).unsqueeze(0)
        pad = attention_mask.to(torch.bool).unsqueeze(1).unsqueeze(2)
        mask = causal & pad
        presents = []
        for i, block in enumerate(self.layers):
            x, k, v = block(x, mask, cos, sin, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        return (self.head(x), *presents)

    def full_pass(self, ids: list[int]) -> torch.Tensor:
        """Logits of a first pass over `ids` (no cache): [len(ids), vocab]."""
        n = len(ids)
        out = self(torch.tensor([ids]), torch.ones(1, n, dtype=torch.long), torch.arange(n).unsqueeze(0), *self.empty_past())
        return out[0][0]

    def cached_pass(self, prefix: list[int], ids: list[int]) -> torch.Tensor:
        """Logits of a pass over `ids` on top of the cache of a first pass over `prefix`, with
        position_ids starting at len(prefix): [len(ids), vocab]."""
        p, n = len(prefix), len(ids)
        first = self(torch.tensor([prefix]), torch.ones(1, p, dtype=torch.long), torch.arange(p).unsqueeze(0), *self.empty_past())
        out = self(
            torch.tensor([ids]), torch.ones(1, p + n, dtype=torch.long), torch.arange(p, p + n).unsqueeze(0), *first[1:]
        )
        return out[0][0]
