/**
 * Sequoia's theory of token trees (src/results/treeTheory.ts): acceptance by draft rank counted
 * from verify events, expected tokens per verification of a tree and of a shape against
 * hand-computed cases, and the dynamic programme's best tree against a brute-force search.
 */
import { describe, expect, it } from 'vitest';
import {
  addRankCounts,
  bestShape,
  bestStaticTree,
  emptyRankCounts,
  expectedTokensOfShape,
  expectedTokensOfTree,
  rankAcceptance,
  rankShares,
  sumRankCounts,
} from '../../src/results/treeTheory';
import type { TreeNodeEvent } from '../../src/shared/events';

type Verdict = TreeNodeEvent['verdict'];
const node = (parent: number, verdict: Verdict): Pick<TreeNodeEvent, 'parent' | 'verdict'> => ({
  parent,
  verdict,
});

describe('acceptance by draft rank, from the nodes', () => {
  it('counts the ranks tested in order up to the one the target chose', () => {
    // root: A (rank 1, rejected), B (rank 2, accepted), C (rank 3, rejected: checked, not chosen)
    // B: D (rank 1, accepted); D: E (rank 1, rejected); A's child never checked
    const nodes = [
      node(-1, 'rejected'), // 0 A
      node(-1, 'accepted'), // 1 B
      node(-1, 'rejected'), // 2 C
      node(0, 'unchecked'), // 3 under A
      node(1, 'accepted'), // 4 D
      node(4, 'rejected'), // 5 E
    ];
    const counts = emptyRankCounts();
    addRankCounts(counts, nodes);
    // positions: root (ranks 1, 2 tested; 2 accepted), B (rank 1 accepted), D (rank 1 rejected)
    expect(counts).toEqual({ tested: [3, 1], accepted: [1, 1] });
    expect(rankAcceptance(counts)).toEqual([1 / 3, 1]);
  });

  it('a walk that rejects every child tests them all; a leaf reached tests nothing more', () => {
    const counts = emptyRankCounts();
    addRankCounts(counts, [node(-1, 'rejected'), node(-1, 'rejected')]);
    addRankCounts(counts, [node(-1, 'accepted'), node(-1, 'rejected')]);
    expect(counts).toEqual({ tested: [2, 1], accepted: [1, 0] });
    expect(sumRankCounts([counts, { tested: [1], accepted: [1] }])).toEqual({
      tested: [3, 1],
      accepted: [2, 0],
    });
  });

  it('a rank never tested is unknown, not 0', () => {
    expect(rankAcceptance({ tested: [4, 0, 2], accepted: [2, 0, 1] })).toEqual([0.5]);
    expect(rankShares([0.5, 0.4, 1])).toEqual([0.5, 0.2, 0.3]);
  });
});

describe('expected tokens per verification', () => {
  it('a chain of K: 1 + a + a^2 + ... + a^K', () => {
    const a = 0.6;
    expect(expectedTokensOfShape([1, 1, 1], [a])).toBeCloseTo(1 + a + a * a + a ** 3, 12);
    expect(expectedTokensOfTree([-1, 0, 1], [a, 0.9])).toBeCloseTo(1 + a + a * a + a ** 3, 12);
  });

  it('a 2-wide tree of depth 1: 1 + p1 + (1 - p1) p2', () => {
    expect(expectedTokensOfShape([2], [0.6, 0.5])).toBeCloseTo(1 + 0.6 + 0.4 * 0.5, 12);
    expect(expectedTokensOfTree([-1, -1], [0.6, 0.5])).toBeCloseTo(1.8, 12);
  });

  it('3,2,1 by hand, and the same from its node list', () => {
    const p = [0.5, 0.4, 0.2];
    const q1 = 0.5;
    const q12 = 0.5 + 0.5 * 0.4; // 0.7
    const q123 = q12 + 0.5 * 0.6 * 0.2; // 0.76
    const byHand = 1 + q123 + q123 * q12 + q123 * q12 * q1;
    expect(expectedTokensOfShape([3, 2, 1], p)).toBeCloseTo(byHand, 12);
    // the same tree as parents, depth by depth: 3 roots' children, 2 under each, 1 under those
    const parents = [-1, -1, -1, 0, 0, 1, 1, 2, 2, 3, 4, 5, 6, 7, 8];
    expect(expectedTokensOfTree(parents, p)).toBeCloseTo(byHand, 12);
  });

  it('a rank past the measured ones is never accepted', () => {
    expect(expectedTokensOfShape([3], [0.5])).toBeCloseTo(1.5, 12);
  });
});

/** every ordered tree of at most n nodes, at most `ranks` children a node, `depth` deep: brute force */
function bruteBest(n: number, q: readonly number[], depth: number): number {
  // best over forests: the first child's subtree takes s nodes, the rest of the ranks the others
  const forest = (budget: number, rank: number, d: number): number => {
    if (budget === 0 || rank >= q.length || d === 0) return 0;
    let best = 0;
    for (let s = 1; s <= budget; s++)
      best = Math.max(
        best,
        q[rank]! * (1 + forest(s - 1, 0, d - 1)) + forest(budget - s, rank + 1, d),
      );
    return best;
  };
  return 1 + forest(n, 0, depth);
}

describe("Sequoia's best static tree", () => {
  it('one rank only: the chain as deep as the budget allows', () => {
    const a = 0.7;
    const best = bestStaticTree(4, [a], 3);
    expect(best.nodesPerDepth).toEqual([1, 1, 1]);
    expect(best.expected).toBeCloseTo(1 + a + a * a + a ** 3, 12);
  });

  it('two nodes: the chain when the first choice is good, the pair of siblings when not', () => {
    // chain 1 + .6 + .36 = 1.96 against siblings 1 + .6 + .4 * .5 = 1.8
    expect(bestStaticTree(2, [0.6, 0.5]).nodesPerDepth).toEqual([1, 1]);
    // chain 1 + .4 + .16 = 1.56 against siblings 1 + .4 + .6 * .5 = 1.7
    const wide = bestStaticTree(2, [0.4, 0.5]);
    expect(wide.nodesPerDepth).toEqual([2]);
    expect(wide.parents).toEqual([-1, -1]);
    expect(wide.expected).toBeCloseTo(1.7, 12);
    expect(bestShape(2, [0.4, 0.5])).toMatchObject({ shape: [2], nodes: 2 });
    expect(bestShape(2, [0.6, 0.5])).toMatchObject({ shape: [1, 1], nodes: 2 });
  });

  it('matches a brute-force search, and its tree scores what it claims', () => {
    for (const p of [
      [0.5, 0.3, 0.2],
      [0.8, 0.4],
      [0.3, 0.3, 0.3, 0.3],
    ]) {
      for (let n = 1; n <= 7; n++) {
        for (const depth of [2, 4]) {
          const best = bestStaticTree(n, p, depth);
          expect(best.expected).toBeCloseTo(bruteBest(n, rankShares(p), depth), 12);
          expect(best.parents.length).toBeLessThanOrEqual(n);
          expect(best.nodesPerDepth.length).toBeLessThanOrEqual(depth);
          expect(expectedTokensOfTree(best.parents, p)).toBeCloseTo(best.expected, 12);
          // no typed shape beats the best tree
          expect(bestShape(n, p, depth)!.expected).toBeLessThanOrEqual(best.expected + 1e-12);
        }
      }
    }
  });
});
