/**
 * What a token tree should accept, from how often the target's token was the draft's 1st, 2nd,
 * 3rd... choice (Sequoia's depth-independent model: a child of rank r is accepted with p_r given
 * its parent was and its earlier siblings were not), and Sequoia's best static tree for a budget.
 */
import { addRankCounts, emptyRankCounts, type RankCounts } from '../shared/treeRanks';
import { MAX_TREE_DEPTH, type TreeShape } from '../shared/treeShape';

// counted beside every tree run (src/shared/treeRanks.ts); read here
export { addRankCounts, emptyRankCounts, type RankCounts };

/** counts summed (runs of several trees pool into one picture of the pair) */
export function sumRankCounts(all: readonly RankCounts[]): RankCounts {
  const ranks = Math.max(0, ...all.map((c) => Math.max(c.tested.length, c.accepted.length)));
  const total = (pick: (c: RankCounts) => number[], r: number): number =>
    all.reduce((n, c) => n + (pick(c)[r] ?? 0), 0);
  return {
    tested: Array.from({ length: ranks }, (_, r) => total((c) => c.tested, r)),
    accepted: Array.from({ length: ranks }, (_, r) => total((c) => c.accepted, r)),
  };
}

/**
 * p_r, r = 1, 2, ...: accepted / tested at each rank, up to the last rank that was tested (a rank
 * never tested is unknown, not 0: the list ends before it).
 */
export function rankAcceptance(counts: RankCounts): number[] {
  const p: number[] = [];
  for (let r = 0; r < counts.tested.length; r++) {
    const tested = counts.tested[r] ?? 0;
    if (tested === 0) break;
    p.push((counts.accepted[r] ?? 0) / tested);
  }
  return p;
}

/**
 * q_r = p_r (1 - p_1) ... (1 - p_{r-1}): the chance the target's token is the draft's r-th choice
 * at a position (given the parent was accepted). A rank past `p` is never accepted.
 */
export function rankShares(p: readonly number[]): number[] {
  let missed = 1;
  return p.map((pr) => {
    const q = missed * pr;
    missed *= 1 - pr;
    return q;
  });
}

/**
 * Expected tokens per verification of a tree (1 + expected accepted nodes: the target's own token
 * always comes), a tree given as each node's parent (-1: the root), siblings in rank order.
 */
export function expectedTokensOfTree(parents: readonly number[], p: readonly number[]): number {
  const q = rankShares(p);
  const reach: number[] = [];
  const seen = new Map<number, number>();
  let sum = 1;
  parents.forEach((parent, i) => {
    if (parent >= i) throw new Error('expectedTokensOfTree: a parent comes before its children');
    const rank = seen.get(parent) ?? 0;
    seen.set(parent, rank + 1);
    reach[i] = (parent < 0 ? 1 : reach[parent]!) * (q[rank] ?? 0);
    sum += reach[i]!;
  });
  return sum;
}

/**
 * Expected tokens per verification of a static shape (`--tree 3,2,1`): the walk reaches depth d
 * with prod_{i <= d} (q_1 + ... + q_{b_i}), every node at depth i having b_i children.
 * A chain of K (a shape of ones) gives 1 + p_1 + ... + p_1^K.
 */
export function expectedTokensOfShape(shape: TreeShape, p: readonly number[]): number {
  const q = rankShares(p);
  let reach = 1;
  let sum = 1;
  for (const branching of shape) {
    reach *= q.slice(0, branching).reduce((s, v) => s + v, 0);
    sum += reach;
  }
  return sum;
}

export interface BestTree {
  /** nodes (at most the budget), each node's parent (-1: the root), depth by depth */
  parents: number[];
  /** nodes at each depth 1..D */
  nodesPerDepth: number[];
  /** expected tokens per verification */
  expected: number;
}

/**
 * Sequoia's dynamic programme: the static tree of at most `budget` nodes and `maxDepth` depths
 * with the most expected tokens per verification under per-rank acceptance `p`. T(n, d), the best
 * expected accepted nodes below an accepted node with n nodes and d depths to spend, gives its
 * children ranks 1, 2, ... in turn: the child of rank r with a subtree of s nodes adds
 * q_r (1 + T(s - 1, d - 1)). Children are always a prefix of the ranks (the drafter's top-b).
 */
export function bestStaticTree(
  budget: number,
  p: readonly number[],
  maxDepth = MAX_TREE_DEPTH,
): BestTree {
  const q = rankShares(p);
  const ranks = q.length;
  // g[d][r][n]: best value using children of rank >= r (0-based) with n nodes, d depths below
  const g: number[][][] = [];
  const choice: number[][][] = [];
  const t = (n: number, d: number): number => (d <= 0 || n <= 0 ? 0 : g[d]![0]![n]!);
  for (let d = 1; d <= maxDepth; d++) {
    g[d] = [];
    choice[d] = [];
    for (let r = ranks; r >= 0; r--) {
      g[d]![r] = [0];
      choice[d]![r] = [0];
      for (let n = 1; n <= budget; n++) {
        let best = 0;
        let bestS = 0;
        if (r < ranks) {
          for (let s = 1; s <= n; s++) {
            const v = q[r]! * (1 + t(s - 1, d - 1)) + g[d]![r + 1]![n - s]!;
            // strictly better only: the smaller subtree wins a tie, so no node is spent for nothing
            if (v > best + 1e-12) {
              best = v;
              bestS = s;
            }
          }
        }
        g[d]![r]![n] = best;
        choice[d]![r]![n] = bestS;
      }
    }
  }
  // rebuild the tree: each node's children with their subtree sizes, breadth first
  const parents: number[] = [];
  const depthOf: number[] = [];
  const queue: Array<{ node: number; n: number; d: number; depth: number }> = [
    { node: -1, n: budget, d: maxDepth, depth: 0 },
  ];
  while (queue.length > 0) {
    const { node, n, d, depth } = queue.shift()!;
    if (d <= 0) continue;
    let left = n;
    for (let r = 0; r < ranks && left > 0; r++) {
      const s = choice[d]![r]![left]!;
      if (s === 0) break;
      parents.push(node);
      depthOf.push(depth + 1);
      queue.push({ node: parents.length - 1, n: s - 1, d: d - 1, depth: depth + 1 });
      left -= s;
    }
  }
  const nodesPerDepth: number[] = [];
  for (const depth of depthOf) nodesPerDepth[depth - 1] = (nodesPerDepth[depth - 1] ?? 0) + 1;
  return { parents, nodesPerDepth, expected: 1 + t(budget, maxDepth) };
}

/**
 * The best shape one can type (`--tree b1,b2,...`) of at most `budget` nodes, by the same
 * expectation; a rank past `p` adds nothing, so branching stays within the measured ranks.
 * Ties go to fewer nodes.
 */
export function bestShape(
  budget: number,
  p: readonly number[],
  maxDepth = MAX_TREE_DEPTH,
): { shape: number[]; nodes: number; expected: number } | null {
  const widest = Math.max(1, p.length);
  let best: { shape: number[]; nodes: number; expected: number } | null = null;
  const visit = (shape: number[], width: number, nodes: number): void => {
    if (shape.length > 0) {
      const expected = expectedTokensOfShape(shape, p);
      if (
        best === null ||
        expected > best.expected + 1e-12 ||
        (Math.abs(expected - best.expected) <= 1e-12 && nodes < best.nodes)
      )
        best = { shape: [...shape], nodes, expected };
    }
    if (shape.length >= maxDepth) return;
    for (let b = 1; b <= widest && nodes + width * b <= budget; b++)
      visit([...shape, b], width * b, nodes + width * b);
  };
  visit([], 1, 0);
  return best;
}
