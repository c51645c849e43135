/**
 * Drafting with a small model on its own KV cache: greedy or sampled, under the run's repetition
 * controls, ending early where the draft-length policy says so (the confidence policy).
 */
import { argmax, probOf } from '../../../model/argmax';
import type { OnnxCausalLM } from '../../../model/causalLm';
import { applyRepetition, type RepetitionParams } from '../../repetition';
import { sample, warp } from '../../sampling';
import type { Draft, DraftRequest, Drafter, DrafterTraits } from './drafter';

/**
 * What a wrapper puts in place of the model's proposal for the token at `position` (the
 * context's index it will sit at): the token that is drafted, ends the draft if it ends the
 * text, and is fed to the model's next pass.
 */
export type ProposalReplacement = (position: number, proposed: number) => number;

export class ModelDrafter implements Drafter {
  static readonly traits: DrafterTraits = {
    label: 'the model drafter',
    hasProbabilities: true,
    needsDraftModel: true,
  };
  private readonly gap = new Float64Array(1);

  constructor(
    private readonly lm: OnnxCausalLM,
    /** the ids that end the text: a draft stops after one */
    private readonly eosTokenIds: readonly number[],
    private readonly repetition: RepetitionParams | null = null,
    /** a wrapper's say over each proposal (the oracle drafter's): the token drafted and fed on */
    private readonly replace: ProposalReplacement | null = null,
  ) {}

  async propose(context: readonly number[], k: number, request: DraftRequest = {}): Promise<Draft> {
    const { withProbs = false, sampler, endsAfter } = request;
    const tokens: number[] = [];
    const probs: number[] | null = withProbs ? [] : null;
    const dists: Float64Array[] | undefined = sampler ? [] : undefined;
    const needProb = withProbs || endsAfter !== undefined;
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
      if (this.replace) {
        // what is drafted is what the next pass feeds, so the cache holds the proposals made
        const chosen = this.replace(context.length + tokens.length, token);
        if (chosen !== token && needProb) p = logits.prob(last, chosen);
        token = chosen;
      }
      tokens.push(token);
      probs?.push(p);
      if (this.eosTokenIds.includes(token)) break;
      // The policy may end the draft at this token: the target checks it and what came before.
      if (endsAfter?.(p)) break;
      feed = [token];
    }
    return { tokens, probs, ...(dists ? { dists } : {}) };
  }

  rollback(keep: number): void {
    if (keep < this.lm.length) this.lm.crop(keep);
  }
}
