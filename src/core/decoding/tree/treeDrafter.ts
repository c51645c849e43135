/**
 * Drafting a static token tree with the draft model (`--tree 3,2,1`): one draft pass per depth,
 * the depth's nodes batched as rows over the draft's cache gathered to one row per parent, each
 * node's children its top-b tokens (the first the greedy one, so the tree holds the chain).
 */
import { probOf, topK } from '../../model/argmax';
import type { OnnxCausalLM } from '../../model/causalLm';
import type { TreeShape } from '../../../shared/treeShape';
import { TokenTree } from './tokenTree';

export class TreeDrafter {
  /** the node each cache row's path ends at (-1: the root) after the last draft() */
  private rowNodes: number[] = [-1];
  /** context length the last draft() started from: row r holds it and rowNodes[r]'s path */
  private base = 0;
  private tree = new TokenTree();

  constructor(
    private readonly lm: OnnxCausalLM,
    /** the ids that end the text: a node with one gets no children */
    private readonly eosTokenIds: readonly number[],
  ) {}

  /**
   * The tree after `context` at `shape` (cut to its first `depth` depths): the first pass feeds
   * whatever the draft has not seen, then each depth's expanded nodes go in one batched pass.
   */
  async draft(
    context: readonly number[],
    shape: TreeShape,
    depth: number,
    withProbs: boolean,
  ): Promise<TokenTree> {
    const tree = new TokenTree();
    let logits = await this.lm.forward(context.slice(this.lm.length));
    // the frontier: the nodes whose children come next, and the logits row that scores them
    let frontier = [{ node: -1, row: logits.rows - 1 }];
    let rowNodes = [-1];
    for (let d = 0; d < depth; d++) {
      const children: number[] = [];
      for (const { node, row } of frontier) {
        const scores = logits.row(row);
        for (const token of topK(scores, shape[d]!))
          children.push(tree.add(node, token, withProbs ? probOf(scores, token) : null));
      }
      const expand = children.filter((c) => !this.eosTokenIds.includes(tree.nodes[c]!.tokenId));
      if (d === depth - 1 || expand.length === 0) break;
      // one cache row per expanded node: its parent's row, then the node's own token on top
      this.lm.selectRows(expand.map((c) => rowNodes.indexOf(tree.nodes[c]!.parent)));
      logits = await this.lm.forwardRows(expand.map((c) => [tree.nodes[c]!.tokenId]));
      frontier = expand.map((node, row) => ({ node, row }));
      rowNodes = expand;
    }
    this.rowNodes = rowNodes;
    this.base = context.length;
    this.tree = tree;
    return tree;
  }

  /**
   * The first `keep` tokens of the context are final, `accepted` (the last tree's nodes on the
   * accepted path) among them: keep the cache row that shares the most of that path, cropped to
   * what stands; the next draft feeds the rest.
   */
  rollback(keep: number, accepted: readonly number[]): void {
    let best = 0;
    let shared = 0;
    this.rowNodes.forEach((node, row) => {
      const path = node < 0 ? [] : this.tree.path(node);
      let n = 0;
      while (n < path.length && n < accepted.length && path[n] === accepted[n]) n++;
      if (n > shared) [best, shared] = [row, n];
    });
    if (this.lm.batch > 1) this.lm.selectRows([best]);
    this.rowNodes = [-1];
    const stands = Math.min(keep, this.base + shared);
    if (stands < this.lm.length) this.lm.crop(stands);
  }

  /** a step with no tree (no room to draft): the cache keeps what is final */
  forget(keep: number): void {
    if (keep < this.lm.length) this.lm.crop(keep);
  }
}
