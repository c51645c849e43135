"""A GPT-2 architecture language model whose ONNX export matches the Hugging Face Hub gpt2 exports.

Learned absolute positions, pre-LayerNorm blocks, GELU (tanh) MLP, tied input/output embeddings.
The forward signature is the one `optimum` exports for gpt2 with past: input_ids, attention_mask,
position_ids and past key/values shaped [batch, heads, past_len, head_dim].
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import torch
from torch import nn


@dataclass
class GPT2Config:
    vocab_size: int
    n_positions: int = 512
    n_embd: int = 256
    n_layer: int = 4
    n_head: int = 4
    dropout: float = 0.0

    @property
    def head_dim(self) -> int:
        return self.n_embd // self.n_head

    def to_dict(self) -> dict:
        return asdict(self)


class Attention(nn.Module):
    def __init__(self, cfg: GPT2Config) -> None:
        super().__init__()
        self.n_head = cfg.n_head
        self.head_dim = cfg.head_dim
        self.c_attn = nn.Linear(cfg.n_embd, 3 * cfg.n_embd)
        self.c_proj = nn.Linear(cfg.n_embd, cfg.n_embd)
        self.dropout = cfg.dropout

    def forward(self, x, mask, past_k=None, past_v=None):
        b, t, c = x.shape
        q, k, v = self.c_attn(x).split(c, dim=2)
        q = q.view(b, t, self.n_head, self.head_dim).transpose(1, 2)
        k = k.view(b, t, self.n_head, self.head_dim).transpose(1, 2)
        v = v.view(b, t, self.n_head, self.head_dim).transpose(1, 2)
        if past_k is not None:
            k = torch.cat([past_k, k], dim=2)
            v = torch.cat([past_v, v], dim=2)
        # Debian's PyTorch (1.13) has no fused attention: plain masked softmax attention.
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(self.head_dim))
        att = att.masked_fill(~mask, torch.finfo(att.dtype).min)
        y = torch.softmax(att, dim=-1) @ v
        y = y.transpose(1, 2).reshape(b, t, c)
        return self.c_proj(y), k, v


class Block(nn.Module):
    def __init__(self, cfg: GPT2Config) -> None:
        super().__init__()
        self.ln_1 = nn.LayerNorm(cfg.n_embd, eps=1e-5)
        self.attn = Attention(cfg)
        self.ln_2 = nn.LayerNorm(cfg.n_embd, eps=1e-5)
        self.mlp = nn.Sequential(
            nn.Linear(cfg.n_embd, 4 * cfg.n_embd),
            nn.GELU(approximate="tanh"),
            nn.Linear(4 * cfg.n_embd, cfg.n_embd),
        )
        self.drop = nn.Dropout(cfg.dropout)

    def forward(self, x, mask, past_k=None, past_v=None):
        a, k, v = self.attn(self.ln_1(x), mask, past_k, past_v)
        x = x + self.drop(a)
        x = x + self.drop(self.mlp(self.ln_2(x)))
        return x, k, v


class GPT2LM(nn.Module):
    def __init__(self, cfg: GPT2Config) -> None:
        super().__init__()
        self.cfg = cfg
        self.wte = nn.Embedding(cfg.vocab_size, cfg.n_embd)
        self.wpe = nn.Embedding(cfg.n_positions, cfg.n_embd)
        self.drop = nn.Dropout(cfg.dropout)
        self.h = nn.ModuleList([Block(cfg) for _ in range(cfg.n_layer)])
        self.ln_f = nn.LayerNorm(cfg.n_embd, eps=1e-5)
        self.apply(self._init)
        # GPT-2's scaled init of residual projections.
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight") or name.endswith("mlp.2.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * cfg.n_layer))

    @staticmethod
    def _init(m: nn.Module) -> None:
        if isinstance(m, nn.Linear):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)
            nn.init.zeros_(m.bias)
        elif isinstance(m, nn.Embedding):
            nn.init.normal_(m.weight, mean=0.0, std=0.02)

    def sharpen(self) -> "GPT2LM":
        """Scale a random init up so next-token distributions are peaked and the text varies: greedy
        decoding then has clear winners (few float-level near ties) and does not simply repeat the
        last prompt token, as GPT-2's own 0.02 init would. For random-weight test fixtures."""
        with torch.no_grad():
            self.wte.weight.mul_(6.0)
            self.wpe.weight.mul_(6.0)
            for pname, p in self.named_parameters():
                if p.dim() == 2 and not pname.startswith(("wte", "wpe")):
                    p.mul_(10.0)
        return self

    def num_params(self) -> int:
        return sum(p.numel() for p in self.parameters()) - self.wpe.weight.numel()

    def forward_train(self, idx: torch.Tensor) -> torch.Tensor:
        """Logits for a batch of full sequences (no cache), fused causal attention."""
        t = idx.shape[1]
        pos = torch.arange(t, device=idx.device)
        mask = torch.ones(t, t, dtype=torch.bool, device=idx.device).tril()
        x = self.drop(self.wte(idx) + self.wpe(pos))
        for block in self.h:
            x, _, _ = block(x, mask)
        return self.ln_f(x) @ self.wte.weight.T

    def forward(self, input_ids, attention_mask, position_ids, *past):
        """The Hub gpt2 interface: returns (logits, present.0.key, present.0.value, ...).

        attention_mask covers past + new tokens ([batch, past_len + seq_len], 1 = attend).
        """
        b, t = input_ids.shape
        past_len = past[0].shape[2]
        total = past_len + t
        x = self.wte(input_ids) + self.wpe(position_ids)
        # Causal mask over [past | new], combined with the padding mask.
        q_pos = torch.arange(t, device=input_ids.device).unsqueeze(1) + past_len
        k_pos = torch.arange(total, device=input_ids.device).unsqueeze(0)
        causal = (k_pos <= q_pos).unsqueeze(0).unsqueeze(0)
        pad = attention_mask.to(torch.bool).unsqueeze(1).unsqueeze(2)
        mask = causal & pad
        presents = []
        for i, block in enumerate(self.h):
            x, k, v = block(x, mask, past[2 * i], past[2 * i + 1])
            presents += [k, v]
        logits = self.ln_f(x) @ self.wte.weight.T
        return (logits, *presents)
