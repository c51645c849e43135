/**
 * Controlled acceptance (as llama.cpp's synthetic acceptance rates): the draft model runs every
 * pass it would run, but each proposal is replaced, with probability A, by the token the target
 * will choose there (the baseline's, same prompt and repeat) and otherwise by one it will not.
 * Verification stays the real target pass, so the output is the baseline's and acceptance is
 * i.i.d. with rate A per checked position, at what this machine charges for drafting.
 */
import type { DraftModelAgreement } from '../../../../shared/events';
import type { Draft, Drafter, DrafterTraits } from './drafter';
import type { ProposalReplacement } from './modelDrafter';

/** What the oracle knows and how often it tells the truth. */
export interface OracleSettings {
  /** A: the probability that a drafted token is the target's (0 < A < 1) */
  acceptance: number;
  /** the baseline's output for this prompt and repeat: the target's greedy choice at each step */
  baselineTokenIds: readonly number[];
  /** seeds the draws (one per drafted position), so a run is reproducible */
  seed: number;
}

/** What the oracle drafter is built from: the model drafter it wraps and the truth it tells. */
export interface OracleInputs {
  /** the model drafter on the pair's draft model, with the oracle's say over each proposal */
  modelDrafter(replace: ProposalReplacement): Drafter;
  /** whether a token ends the text (the pair's end-of-text ids) */
  endsText(tokenId: number): boolean;
  acceptance: number;
  /** the prompt then the baseline's output: the target's token at every position it reached */
  reference: readonly number[];
  /** one uniform draw in [0, 1) per drafted position */
  random: () => number;
}

export class OracleDrafter implements Drafter {
  /**
   * Its tokens are not the draft model's own, so it has no probabilities to give a policy; and it
   * knows the target's greedy choice, not a sampled one (the registry refuses sampling with it).
   */
  static readonly traits: DrafterTraits = {
    label: 'the oracle drafter (controlled acceptance)',
    hasProbabilities: false,
    needsDraftModel: true,
    greedyOnly:
      'knows the token the greedy target chooses (from the baseline), not what a sampled target draws',
  };
  private readonly model: Drafter;
  /** context positions checked against the reference so far */
  private checkedUpTo = 0;
  /** false once the context left the reference (a near-tie the batched pass broke otherwise) */
  private onReference = true;
  /** false once this draft drafted a token off the reference: later positions see a wrong context */
  private draftOnReference = true;
  /** the draft model's own greedy token against the target's, where its context was the target's */
  private readonly agreement: DraftModelAgreement = { positions: 0, agreed: 0 };

  constructor(private readonly inputs: OracleInputs) {
    this.model = inputs.modelDrafter((position, proposed) => this.choose(position, proposed));
  }

  async propose(context: readonly number[], k: number): Promise<Draft> {
    this.follow(context);
    this.draftOnReference = true;
    // greedy drafting on the model's own cache; no probabilities (the traits say so)
    const { tokens } = await this.model.propose(context, k);
    return { tokens, probs: null };
  }

  rollback(keep: number): void {
    this.model.rollback(keep);
  }

  /**
   * The pair's own alpha, measured under the oracle: at every drafted position whose context was
   * the target's text (as at a K=1 step), whether the draft model's greedy token was the target's.
   */
  draftModelAgreement(): DraftModelAgreement {
    return { ...this.agreement };
  }

  /** Whether the context is still the reference's prefix (checked once per position). */
  private follow(context: readonly number[]): void {
    const { reference } = this.inputs;
    if (context.length > reference.length) this.onReference = false;
    for (let i = this.checkedUpTo; i < context.length && this.onReference; i++) {
      if (context[i] !== reference[i]) this.onReference = false;
    }
    this.checkedUpTo = Math.max(this.checkedUpTo, context.length);
  }

  /**
   * The token drafted at `position`: the target's (probability A) or one it will not choose. One
   * draw per drafted position, whether or not the target gets to check it. Off the reference
   * (past the baseline's end, or after the context left it) nothing is known: the model's own.
   */
  private choose(position: number, proposed: number): number {
    const right = this.inputs.random() < this.inputs.acceptance;
    const target = this.inputs.reference[position];
    if (!this.onReference || target === undefined) return proposed;
    if (this.draftOnReference) {
      this.agreement.positions++;
      if (proposed === target) this.agreement.agreed++;
    }
    if (right) return target;
    this.draftOnReference = false;
    return this.wrong(target, proposed);
  }

  /**
   * A token the target will not choose: the model's own when it differs from the target's (the
   * draft a real disagreement gives), else the lowest id that is neither the target's nor an end
   * of text (an end would cut the draft short, and the draft passes with it).
   */
  private wrong(target: number, proposed: number): number {
    const { endsText } = this.inputs;
    if (proposed !== target && !endsText(proposed)) return proposed;
    let id = 0;
    while (id === target || endsText(id)) id++;
    return id;
  }
}
