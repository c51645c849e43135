/**
 * The greedy verdict on a token tree, whichever way the target pass ran: from the root, follow
 * the child whose token is the target's argmax after its parent; the target's own token ends
 * the walk. What a verifier returns, with how to leave the target's cache on the accepted path;
 * a walk (this one, or sampling's in treeSampling.ts) under the repetition controls.
 */
import type { Logits } from '../../model/logits';
import { applyRepetition, type RepetitionParams } from '../repetition';
import type { TokenTree } from './tokenTree';

export type NodeVerdict = 'accepted' | 'rejected' | 'unchecked';

export interface TreeVerdict {
  /** the accepted path's nodes, root's child first */
  accepted: number[];
  /** each node's verdict, in node order (rejected: a child of the walk the target chose against) */
  verdicts: NodeVerdict[];
  /** the target's token after the root and after each accepted node: the last is the final one */
  targetTokenIds: number[];
  /** the target's probability of each node's token (after its parent); null when not asked */
  targetProbs: number[] | null;
  /** the target's probability of the final token; null when not asked */
  finalProb: number | null;
  /** smallest top-two logit gap along the walk */
  margin: number;
  /**
   * Leave the target's cache with its first `keep` tokens: the context before the tree, then the
   * accepted path (keep counts no more than those)
   */
  gather(keep: number): void;
}

/** what a walk decides: the verdict without the cache's gather */
export type TreeWalk = Omit<TreeVerdict, 'gather'>;

/**
 * A walk over one pass's logits; `rowOf(node)` is the logits row after `node` (-1: the root, the
 * pending token), `context` the tokens before the tree (the pending token last).
 */
export type TreeWalker = (
  tree: TokenTree,
  logits: Logits,
  rowOf: (node: number) => number,
  context: readonly number[],
) => TreeWalk;

/** the greedy walk (walkTree) */
export function greedyWalker(withProbs: boolean): TreeWalker {
  return (tree, logits, rowOf) => walkTree(tree, logits, rowOf, withProbs);
}

/**
 * `walk` over rows each processed by the repetition controls with its own prefix: the context,
 * then the path down to the node (as a chain's row i counts the drafts before it), so every row
 * is the one the baseline processes at that point.
 */
export function withRepetition(walk: TreeWalker, repetition: RepetitionParams): TreeWalker {
  return (tree, logits, rowOf, context) => {
    for (let node = -1; node < tree.size; node++)
      applyRepetition(logits.row(rowOf(node)), repetition, context, tree.pathTokens(node));
    return walk(tree, logits, rowOf, context);
  };
}

/** The greedy walk over one pass's logits (rowOf as TreeWalker's). */
export function walkTree(
  tree: TokenTree,
  logits: Logits,
  rowOf: (node: number) => number,
  withProbs: boolean,
): Omit<TreeVerdict, 'gather'> {
  const gap = new Float64Array(1);
  const verdicts: NodeVerdict[] = tree.nodes.map(() => 'unchecked');
  const accepted: number[] = [];
  const targetTokenIds: number[] = [];
  let margin = Infinity;
  let at = -1;
  for (;;) {
    const choice = logits.argmax(rowOf(at), gap);
    targetTokenIds.push(choice);
    margin = Math.min(margin, gap[0]!);
    const children = tree.children(at);
    const next = children.find((c) => tree.nodes[c]!.tokenId === choice);
    for (const c of children) verdicts[c] = c === next ? 'accepted' : 'rejected';
    if (next === undefined) break;
    accepted.push(next);
    at = next;
  }
  const targetProbs = withProbs
    ? tree.nodes.map((n) => logits.prob(rowOf(n.parent), n.tokenId))
    : null;
  const finalProb = withProbs ? logits.prob(rowOf(at), targetTokenIds.at(-1)!) : null;
  return { accepted, verdicts, targetTokenIds, targetProbs, finalProb, margin };
}
