/**
 * Candidate generation, kept apart from verification (as in Hugging Face's candidate_generator):
 * a new way of drafting is a new Drafter, not a new branch in the decoding loop.
 */
import { argmax, probOf } from '../model/argmax';
import type { OnnxCausalLM } from '../model/causalLm';

export interface Draft {
  tokens: number[];
  /** the drafter's probability of each token, when asked for */
  probs: number[] | null;
}

export interface Drafter {
  /** Propose up to k tokens to follow `context` (fewer if it drafts an end of text). */
  propose(context: readonly number[], k: number, withProbs: boolean): Promise<Draft>;
  /** The first `keep` tokens of the context are final: forget any state past them. */
  rollback(keep: number): void;
}

/** Greedy drafting with a small model on its own KV cache. */
export class ModelDrafter implements Drafter {
  constructor(
    private readonly lm: OnnxCausalLM,
    private readonly eosTokenId: number | null,
  ) {}

  async propose(context: readonly number[], k: number, withProbs: boolean): Promise<Draft> {
    const tokens: number[] = [];
    const probs: number[] | null = withProbs ? [] : null;
    // The first pass also feeds whatever the draft has not seen yet (the prompt, or the target's
    // correction/bonus token and any accepted drafts it never fed).
    let feed: number[] = context.slice(this.lm.length);
    while (tokens.length < k) {
      const logits = await this.lm.forward(feed);
      const row = logits.row(logits.rows - 1);
      const token = argmax(row);
      tokens.push(token);
      probs?.push(probOf(row, token));
      if (token === this.eosTokenId) break;
      feed = [token];
    }
    return { tokens, probs };
  }

  rollback(keep: number): void {
    if (keep < this.lm.length) this.lm.crop(keep);
  }
}
