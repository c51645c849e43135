/**
 * One step's token tree: the nodes a tree drafter proposed, depth by depth (a node's parent comes
 * before it; -1 is the root, the pending token), and the paths the verifier and the caches read.
 */

export interface TreeNode {
  /** the parent's index; -1: the root (the pending token, whose position is the context's last) */
  parent: number;
  /** 1 for the root's children */
  depth: number;
  tokenId: number;
  /** the draft's probability of the token; null when probabilities are not computed */
  draftProb: number | null;
}

export class TokenTree {
  readonly nodes: TreeNode[] = [];
  private readonly childLists: number[][] = [];
  private readonly rootChildren: number[] = [];
  /** sampled trees: the draft's (warped) distribution each node's children were drawn from */
  private readonly childDists = new Map<number, Float64Array>();

  /** Add a node under `parent` (-1: the root); returns its index. */
  add(parent: number, tokenId: number, draftProb: number | null): number {
    if (parent >= this.nodes.length) throw new Error(`TokenTree: no node ${parent}`);
    const depth = parent < 0 ? 1 : this.nodes[parent]!.depth + 1;
    const index = this.nodes.length;
    this.nodes.push({ parent, depth, tokenId, draftProb });
    this.childLists.push([]);
    (parent < 0 ? this.rootChildren : this.childLists[parent]!).push(index);
    return index;
  }

  /** Record the distribution the children of `node` (-1: the root) are drawn from. */
  setChildDist(node: number, q: Float64Array): void {
    this.childDists.set(node, q);
  }

  /** the distribution the children of `node` were drawn from; undefined for a greedy tree */
  childDist(node: number): Float64Array | undefined {
    return this.childDists.get(node);
  }

  get size(): number {
    return this.nodes.length;
  }

  /**
   * the children of a node (-1: the root's), in the order they were drafted: greedy first, or,
   * sampled, in the order they were drawn
   */
  children(node: number): readonly number[] {
    return node < 0 ? this.rootChildren : this.childLists[node]!;
  }

  /** the deepest node's depth (0 for an empty tree) */
  get depth(): number {
    return this.nodes.reduce((d, n) => Math.max(d, n.depth), 0);
  }

  /** the nodes from the root's child down to `node` (empty for the root) */
  path(node: number): number[] {
    const path: number[] = [];
    for (let at = node; at >= 0; at = this.nodes[at]!.parent) path.push(at);
    return path.reverse();
  }

  /** the tokens from the root's child down to `node` */
  pathTokens(node: number): number[] {
    return this.path(node).map((i) => this.nodes[i]!.tokenId);
  }

  /** the nodes with no children, in node order: one root-to-leaf path each */
  leaves(): number[] {
    return this.nodes.map((_, i) => i).filter((i) => this.childLists[i]!.length === 0);
  }

  /** true when `node` is `ancestor` or under it (-1, the root, is above every node) */
  isUnder(node: number, ancestor: number): boolean {
    for (let at = node; at >= 0; at = this.nodes[at]!.parent) if (at === ancestor) return true;
    return ancestor < 0;
  }
}
