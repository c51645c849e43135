/**
 * Token trees under controlled acceptance (`--tree 3,2,1 --acceptance A`): the rank rule the tree
 * oracle draws from and Sequoia's model predicts, and which combinations it refuses, in one place
 * for the engine, the results and the app's set-up.
 *
 * The rule: at every node whose path is the target's text, each child slot, in the draft's rank
 * order, holds the target's token with probability A given the earlier slots did not (one seeded
 * draw per slot); the other slots hold the draft model's own next-best tokens. So p_r = A at every
 * rank r, and the target's token is the draft's r-th choice with probability A (1 - A)^(r-1): a
 * 1-wide tree is the chain oracle (p_1 = A), and a node with b children catches the target's
 * token with probability 1 - (1 - A)^b.
 */

/** p_r for ranks 1..`ranks` under the tree oracle: A at every rank */
export function oracleRankAcceptance(acceptance: number, ranks: number): number[] {
  return Array.from({ length: Math.max(0, ranks) }, () => acceptance);
}

export const TREE_ACCEPTANCE_SAMPLING_REFUSAL =
  "Controlled acceptance with token trees needs greedy decoding: the oracle knows the greedy target's token, not a sampled draw. Set the temperature to 0, or sweep the trees without --acceptance.";

export const TREE_ACCEPTANCE_BUDGET_REFUSAL =
  "A node budget's tree is shaped by the draft's probabilities, which the oracle's tokens no longer follow: sweep static shapes (--tree 3,2,1) with --acceptance, or run the budgets without it.";

/**
 * Why token trees cannot run under controlled acceptance with these choices; null when they can
 * (greedy, static shapes). The engine's sweep check and the app's set-up both ask this.
 */
export function treeAcceptanceProblem(choices: {
  /** decoding samples (temperature above 0) */
  sampling: boolean;
  /** node budgets (`--tree-budget`) are among the trees */
  budgets: boolean;
}): string | null {
  if (choices.sampling) return TREE_ACCEPTANCE_SAMPLING_REFUSAL;
  if (choices.budgets) return TREE_ACCEPTANCE_BUDGET_REFUSAL;
  return null;
}
