/**
 * Greedy verification of a token tree in one target pass, its root-to-leaf paths as batch rows
 * over the target's cache tiled to one row per path: works with any graph whose batch dimension
 * is dynamic. The target's argmax after each node is read from a row whose path holds the node;
 * the tree's accepted path is the walk from the root along the children the target agrees with.
 */
import type { OnnxCausalLM } from '../../model/causalLm';
import type { Logits } from '../../model/logits';
import type { TokenTree } from './tokenTree';

export type NodeVerdict = 'accepted' | 'rejected' | 'unchecked';

export interface TreeVerdict {
  /** the accepted path's nodes, root's child first */
  accepted: number[];
  /** each node's verdict, in node order */
  verdicts: NodeVerdict[];
  /** the target's token after the root and after each accepted node: the last is the final one */
  targetTokenIds: number[];
  /** the target's probability of each node's token (after its parent); null when not asked */
  targetProbs: number[] | null;
  /** the target's probability of the final token; null when not asked */
  finalProb: number | null;
  /** smallest top-two logit gap along the walk */
  margin: number;
  /** the batch row whose path holds the accepted path (the cache row to keep) */
  keepRow: number;
  /** rows the pass ran (one per leaf) */
  rows: number;
}

export class RowsTreeVerifier {
  private readonly gap = new Float64Array(1);

  constructor(private readonly withProbs: boolean) {}

  /**
   * One target pass: every row feeds what the target has not seen of the context (at least the
   * pending token) and one root-to-leaf path, padded after a short (end-of-text) leaf with its
   * last token: causal attention keeps the padding out of every row that is read.
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
    // the logits row after `node` (-1: the root), read in a row whose path holds it
    const rowOf = (node: number): number => {
      const r = node < 0 ? 0 : leaves.findIndex((leaf) => tree.isUnder(leaf, node));
      return r * width + base + (node < 0 ? 0 : tree.nodes[node]!.depth);
    };
    return this.walk(tree, logits, rowOf, leaves, width);
  }

  private walk(
    tree: TokenTree,
    logits: Logits,
    rowOf: (node: number) => number,
    leaves: readonly number[],
    width: number,
  ): TreeVerdict {
    const verdicts: NodeVerdict[] = tree.nodes.map(() => 'unchecked');
    const accepted: number[] = [];
    const targetTokenIds: number[] = [];
    let margin = Infinity;
    let at = -1;
    for (;;) {
      const choice = logits.argmax(rowOf(at), this.gap);
      targetTokenIds.push(choice);
      margin = Math.min(margin, this.gap[0]!);
      const children = tree.children(at);
      const next = children.find((c) => tree.nodes[c]!.tokenId === choice);
      for (const c of children) verdicts[c] = c === next ? 'accepted' : 'rejected';
      if (next === undefined) break;
      accepted.push(next);
      at = next;
    }
    const targetProbs = this.withProbs
      ? tree.nodes.map((n) => logits.prob(rowOf(n.parent), n.tokenId))
      : null;
    const finalProb = this.withProbs ? logits.prob(rowOf(at), targetTokenIds.at(-1)!) : null;
    const keepRow = at < 0 ? 0 : leaves.findIndex((leaf) => tree.isUnder(leaf, at));
    return {
      accepted,
      verdicts,
      targetTokenIds,
      targetProbs,
      finalProb,
      margin,
      keepRow,
      rows: Math.max(1, logits.rows / width),
    };
  }
}
