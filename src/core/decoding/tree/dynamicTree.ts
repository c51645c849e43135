/**
 * A dynamic token tree under a node budget (EAGLE-2): every drafted candidate scored by the
 * product of the draft's probabilities along its path, and the N best kept. A child never
 * scores above its parent, so the N best (ties to the shallower, then the earlier) are a tree,
 * and a candidate below the N-th best score can never have a descendant among them.
 */
import { TokenTree } from './tokenTree';

export interface Candidate {
  /** the parent candidate's index; -1: the root */
  parent: number;
  tokenId: number;
  depth: number;
  /** the draft's probability of the token after its parent */
  prob: number;
  /** the product of the draft's probabilities along the path */
  score: number;
}

export class BudgetGrowth {
  readonly candidates: Candidate[] = [];

  constructor(private readonly budget: number) {}

  /** Add a candidate under `parent` (-1: the root); returns its index. */
  add(parent: number, tokenId: number, prob: number): number {
    const above = parent < 0 ? null : this.candidates[parent]!;
    this.candidates.push({
      parent,
      tokenId,
      depth: above ? above.depth + 1 : 1,
      prob,
      score: (above?.score ?? 1) * prob,
    });
    return this.candidates.length - 1;
  }

  /** the candidates in the order the budget keeps them: best score, then shallower, then earlier */
  private ranked(): number[] {
    return this.candidates
      .map((_, i) => i)
      .sort((a, b) => {
        const [x, y] = [this.candidates[a]!, this.candidates[b]!];
        return y.score - x.score || x.depth - y.depth || a - b;
      });
  }

  /**
   * Of `added` (the newest depth's candidates), those among the best N so far: only they can
   * have a descendant among the best N, which at most the best N of them can fill.
   */
  worthExpanding(added: readonly number[]): number[] {
    const kept = new Set(this.ranked().slice(0, this.budget));
    return added.filter((c) => kept.has(c));
  }

  /** The best N candidates as a token tree, depth by depth (parents before children). */
  tree(): TokenTree {
    const kept = this.ranked()
      .slice(0, this.budget)
      .sort((a, b) => this.candidates[a]!.depth - this.candidates[b]!.depth || a - b);
    const tree = new TokenTree();
    const node = new Map<number, number>();
    for (const c of kept) {
      const { parent, tokenId, prob } = this.candidates[c]!;
      const under = parent < 0 ? -1 : node.get(parent);
      if (under === undefined) throw new Error('BudgetGrowth: a kept candidate without its parent');
      node.set(c, tree.add(under, tokenId, prob));
    }
    return tree;
  }
}
