/**
 * The greedy verdict on a token tree, whichever way the target pass ran: from the root, follow
 * the child whose token is the target's argmax after its parent; the target's own token ends
 * the walk. What a verifier returns, with how to leave the target's cache on the accepted path.
 */
import type { Logits } from '../../model/logits';
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

/**
 * The walk over one pass's logits; `rowOf(node)` is the logits row after `node` (-1: the root,
 * the pending token).
 */
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
