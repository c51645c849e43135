/**
 * A token tree verified in one target pass as batch rows: every root-to-leaf path a row over the
 * target's cache tiled to one row per path (any graph whose batch dimension is dynamic). The
 * target's row after each node is read in a batch row whose path holds the node (the walk:
 * treeWalk.ts, or sampling's in treeSampling.ts), and the cache then keeps the accepted path's row.
 */
import type { TreeVerifyMode } from '../../../shared/events';
import type { OnnxCausalLM } from '../../model/causalLm';
import type { TokenTree } from './tokenTree';
import { greedyWalker, type TreeVerdict, type TreeWalker } from './treeWalk';

export class RowsTreeVerifier {
  readonly mode: TreeVerifyMode = 'rows';

  constructor(
    withProbs: boolean,
    /** the rule that reads the pass: greedy, unless told (sampling's, or under repetition controls) */
    private readonly walk: TreeWalker = greedyWalker(withProbs),
  ) {}

  /**
   * Every row feeds what the target has not seen of the context (at least the pending token) and
   * one root-to-leaf path, padded after a short (end-of-text) leaf with its last token: causal
   * attention keeps the padding out of every position that is read.
   */
  async verify(
    target: OnnxCausalLM,
    context: readonly number[],
    tree: TokenTree,
  ): Promise<TreeVerdict> {
    const fed = context.slice(target.length);
    const leaves = tree.leaves();
    const depth = tree.depth;
    const rows = leaves.map((leaf) => {
      const path = tree.pathTokens(leaf);
      const pad = Array<number>(depth - path.length).fill(path[path.length - 1]!);
      return [...fed, ...path, ...pad];
    });
    target.selectRows(leaves.map(() => 0));
    const logits = await target.forwardRows(rows);
    const width = fed.length + depth;
    const base = fed.length - 1; // the column that predicts the root's children
    // the batch row whose path holds `node` (any row for the root)
    const rowHolding = (node: number): number =>
      node < 0 ? 0 : leaves.findIndex((leaf) => tree.isUnder(leaf, node));
    const rowOf = (node: number): number =>
      rowHolding(node) * width + base + (node < 0 ? 0 : tree.nodes[node]!.depth);
    const walk = this.walk(tree, logits, rowOf, context);
    const keepRow = rowHolding(walk.accepted.at(-1) ?? -1);
    return {
      ...walk,
      gather: (keep) => {
        target.selectRows([keepRow]);
        if (target.length > keep) target.crop(keep);
      },
    };
  }
}
