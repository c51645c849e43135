/**
 * Candidate generation, kept apart from verification (as in Hugging Face's candidate_generator):
 * a new way of drafting is a new Drafter, not a new branch in the decoding loop.
 */
import { argmax, probOf } from '../model/argmax';
import type { OnnxCausalLM } from '../model/causalLm';
import { applyRepetition, type RepetitionParams } from './repetition';
import { sample, warp, type SamplingParams } from './sampling';

export interface Draft {
  tokens: number[];
  /** the drafter's probability of each token, when asked for */
  probs: number[] | null;
  /** when sampling: the distribution each token was drawn from (absent: a certain proposal) */
  dists?: Float64Array[];
}

/** How a sampling drafter draws: the warp settings and the run's random source. */
export interface DraftSampler {
  params: SamplingParams;
  random: () => number;
}

export interface Drafter {
  /** Propose up to k tokens to follow `context` (fewer if it drafts an end of text). */
  propose(
    context: readonly number[],
    k: number,
    withProbs: boolean,
    sampler?: DraftSampler,
  ): Promise<Draft>;
  /** The first `keep` tokens of the context are final: forget any state past them. */
  rollback(keep: number): void;
}

export type { DrafterKind } from '../../shared/decoding';

/**
 * Greedy drafting with a small model on its own KV cache. With `pMin`, the draft ends at the
 * first token whose probability under the draft model falls below it (Hugging Face's assistant
 * confidence threshold): tokens after a doubtful one are unlikely to be accepted.
 */
export class ModelDrafter implements Drafter {
  private readonly gap = new Float64Array(1);

  constructor(
    private readonly lm: OnnxCausalLM,
    private readonly eosTokenId: number | null,
    private readonly pMin: number | null = null,
    private readonly repetition: RepetitionParams | null = null,
  ) {}

  async propose(
    context: readonly number[],
    k: number,
    withProbs: boolean,
    sampler?: DraftSampler,
  ): Promise<Draft> {
    const tokens: number[] = [];
    const probs: number[] | null = withProbs ? [] : null;
    const dists: Float64Array[] | undefined = sampler ? [] : undefined;
    const needProb = withProbs || this.pMin !== null;
    // The first pass also feeds whatever the draft has not seen yet (the prompt, or the target's
    // correction/bonus token and any accepted drafts it never fed).
    let feed: number[] = context.slice(this.lm.length);
    // greedy with no repetition controls: the argmax (and its probability) is all a pass reads
    const plain = !sampler && !this.repetition;
    while (tokens.length < k) {
      const logits = await this.lm.forward(feed, plain ? {} : undefined);
      const last = logits.rows - 1;
      let token: number;
      let p: number;
      if (plain) {
        token = logits.argmax(last, this.gap);
        p = needProb ? logits.prob(last, token) : 0;
      } else {
        const row = logits.row(last);
        if (this.repetition) applyRepetition(row, this.repetition, context, tokens);
        if (sampler) {
          const q = warp(row, sampler.params);
          token = sample(q, sampler.random);
          p = q[token]!;
          dists!.push(q);
        } else {
          token = argmax(row);
          p = needProb ? probOf(row, token) : 0;
        }
      }
      tokens.push(token);
      probs?.push(p);
      if (token === this.eosTokenId) break;
      // The draft ends at its first doubtful token: the target checks it and what came before.
      if (this.pMin !== null && p < this.pMin) break;
      feed = [token];
    }
    return { tokens, probs, ...(dists ? { dists } : {}) };
  }

  rollback(keep: number): void {
    if (keep < this.lm.length) this.lm.crop(keep);
  }
}

/**
 * Prompt-lookup drafting (no draft model): find the latest earlier place where the context's last
 * n tokens occurred (n from maxNgram down to 1) and propose the tokens that followed it there.
 * Strong when the output repeats the prompt (summaries, code edits) and free to run.
 */
export class PromptLookupDrafter implements Drafter {
  constructor(private readonly maxNgram = 3) {}

  propose(context: readonly number[], k: number): Promise<Draft> {
    const len = context.length;
    for (let n = Math.min(this.maxNgram, len - 1); n >= 1; n--) {
      // latest start s < len - n with context[s..s+n) equal to the last n tokens
      for (let s = len - n - 1; s >= 0; s--) {
        let match = true;
        for (let j = 0; j < n && match; j++) match = context[s + j] === context[len - n + j];
        if (match) {
          const tokens = context.slice(s + n, Math.min(s + n + k, len));
          if (tokens.length > 0) return Promise.resolve({ tokens, probs: null });
        }
      }
    }
    return Promise.resolve({ tokens: [], probs: null });
  }

  rollback(): void {
    // no state: every proposal is computed from the context
  }
}
