/**
 * Controlled acceptance for token trees (the rule, and why Sequoia's model predicts it:
 * src/shared/treeAcceptance.ts). The draft model drafts the tree for real, every depth's pass
 * fed what the tree holds; at every node whose path is the target's text (the baseline's, same
 * prompt and repeat) its children are chosen by rank: each slot, in the draft's order, holds the
 * target's token with probability A given the earlier slots did not, the others the draft's own
 * next-best tokens. Verification is the real target pass, so the output is the baseline's.
 */
import type { DraftModelAgreement } from '../../../shared/events';
import { emptyRankCounts, type RankCounts } from '../../../shared/treeRanks';

/** What the tree oracle knows and how often it tells the truth. */
export interface TreeOracleInputs {
  /** A: the probability that a slot holds the target's token, given the earlier slots did not */
  acceptance: number;
  /** the prompt then the baseline's output: the target's token at every position it reached */
  reference: readonly number[];
  /** one uniform draw in [0, 1) per child slot, drafted depth by depth */
  random: () => number;
  /** whether a token ends the text (such a sibling would get no children, and the tree shrink) */
  endsText(tokenId: number): boolean;
}

export class TreeOracle {
  /** context positions checked against the reference so far */
  private checkedUpTo = 0;
  /** false once the context left the reference (a near-tie a batched pass broke otherwise) */
  private onReference = true;
  /** the draft model's own greedy token against the target's, where its context was the target's */
  private readonly agreement: DraftModelAgreement = { positions: 0, agreed: 0 };
  /** the draft model's own rank of the target's token there: the pair's own p_r */
  private readonly ownRanks: RankCounts = emptyRankCounts();

  constructor(private readonly inputs: TreeOracleInputs) {}

  /** Before each tree: whether its context is still the reference's prefix (checked once a position). */
  follow(context: readonly number[]): void {
    const { reference } = this.inputs;
    if (context.length > reference.length) this.onReference = false;
    for (let i = this.checkedUpTo; i < context.length && this.onReference; i++) {
      if (context[i] !== reference[i]) this.onReference = false;
    }
    this.checkedUpTo = Math.max(this.checkedUpTo, context.length);
  }

  /**
   * The `count` children of the node whose tokens after `context` are `path`, from the draft's
   * ranking `ranked` (best first). One draw per slot, whether or not the target gets to check it
   * (as the chain oracle draws one per drafted position, so a 1-wide tree draws as a chain does).
   * Off the target's text nothing is known and nothing is checked: the draft's own top tokens.
   */
  children(
    context: readonly number[],
    path: readonly number[],
    ranked: readonly number[],
    count: number,
  ): number[] {
    const { acceptance, reference, endsText } = this.inputs;
    const draws = Array.from({ length: count }, () => this.inputs.random() < acceptance);
    const target = reference[context.length + path.length];
    const onText =
      this.onReference &&
      target !== undefined &&
      path.every((token, i) => token === reference[context.length + i]);
    if (!onText) return ranked.slice(0, count);
    this.agreement.positions++;
    if (ranked[0] === target) this.agreement.agreed++;
    // the draft's own ranking read down to the target's token, as far as it was computed
    for (const [r, token] of ranked.entries()) {
      const hit = token === target;
      this.ownRanks.tested[r] = (this.ownRanks.tested[r] ?? 0) + 1;
      this.ownRanks.accepted[r] = (this.ownRanks.accepted[r] ?? 0) + (hit ? 1 : 0);
      if (hit) break;
    }
    const at = draws.indexOf(true);
    // the draft's own choices that the target will not take, best first, never an end of text;
    // the lowest ids after them where the ranking runs short
    const others = ranked.filter((token) => token !== target && !endsText(token));
    for (let id = 0; others.length < count; id++)
      if (id !== target && !endsText(id) && !others.includes(id)) others.push(id);
    const slots = others.slice(0, at < 0 ? count : count - 1);
    if (at >= 0) slots.splice(at, 0, target);
    return slots;
  }

  /**
   * The pair's own alpha behind the oracle: at every node on the target's text, whether the draft
   * model's greedy token was the target's (what a chain's K=1 would accept).
   */
  draftModelAgreement(): DraftModelAgreement {
    return { ...this.agreement };
  }

  /**
   * The draft model's own acceptance by rank behind the oracle, where its context was the
   * target's text: at each such node its ranking tested rank by rank down to the target's token
   * (the ranks a node computed: its children's count, one more and one per end-of-text id).
   */
  draftModelRanks(): RankCounts {
    return { tested: [...this.ownRanks.tested], accepted: [...this.ownRanks.accepted] };
  }
}
