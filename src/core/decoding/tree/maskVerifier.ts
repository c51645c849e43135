/**
 * A token tree verified in one target pass under a tree mask: the nodes flattened depth by depth
 * after the tokens the target has not seen, each at the pending token's position + its depth and
 * attending to its ancestors only (an additive bias on attention's scores: the tree_bias input of
 * the target's tree graph, model/treeMaskSession.ts: the fused rebuild's, or the export's own
 * attention given one). The cache then keeps the accepted path's positions.
 */
import type { TreeVerifyMode } from '../../../shared/events';
import type { OnnxCausalLM } from '../../model/causalLm';
import type { TokenTree } from './tokenTree';
import { greedyWalker, type TreeVerdict, type TreeWalker } from './treeWalk';

/** what a masked-out score gets added: far below any logit, finite so no row is all -inf */
const MASKED = -1e9;

export class MaskTreeVerifier {
  readonly mode: TreeVerifyMode = 'mask';

  constructor(
    withProbs: boolean,
    /** the rule that reads the pass: greedy, unless told (sampling's, or under repetition controls) */
    private readonly walk: TreeWalker = greedyWalker(withProbs),
  ) {}

  async verify(
    target: OnnxCausalLM,
    context: readonly number[],
    tree: TokenTree,
  ): Promise<TreeVerdict> {
    const past = target.length;
    const fed = context.slice(past);
    const prefix = context.length; // the positions before the tree: the cache keeps them all
    const tokens = [...fed, ...tree.nodes.map((n) => n.tokenId)];
    const pending = prefix - 1;
    const positions = [...fed.map((_, i) => past + i), ...tree.nodes.map((n) => pending + n.depth)];
    const logits = await target.forwardTree(tokens, positions, treeMask(tree, past, fed.length));
    const base = fed.length - 1; // the row after the pending token
    const rowOf = (node: number): number => (node < 0 ? base : fed.length + node);
    const walk = this.walk(tree, logits, rowOf, context);
    return {
      ...walk,
      gather: (keep) => {
        target.keepPositions(
          prefix,
          walk.accepted.map((node) => prefix + node),
        );
        if (target.length > keep) target.crop(keep);
      },
    };
  }
}

/**
 * The bias, [fed + nodes, past + fed + nodes] row-major: every row sees the cache and the fed
 * tokens up to itself (causal), and a node row sees of the nodes only itself and its ancestors.
 */
export function treeMask(tree: TokenTree, past: number, fed: number): Float32Array {
  const n = fed + tree.size;
  const total = past + n;
  const bias = new Float32Array(n * total);
  for (let r = 0; r < n; r++) {
    for (let c = past + r + 1; c < total; c++) bias[r * total + c] = MASKED;
    if (r < fed) continue;
    const node = r - fed;
    for (let other = 0; other < node; other++)
      if (!tree.isUnder(node, other)) bias[r * total + past + fed + other] = MASKED;
  }
  return bias;
}
