/**
 * Trees under controlled acceptance from hand-made runs (src/results/treeAcceptance.ts, through
 * the K x alpha grid): the grid keeps its chains, each tree is set beside Sequoia's model with
 * p_r = A (the tree oracle's rule, src/shared/treeAcceptance.ts), the ranks the runs drew are
 * pooled, and the fastest tree is judged against the fastest chain run for run.
 */
import { describe, expect, it } from 'vitest';
import { acceptanceGrid } from '../../src/results/acceptanceGrid';
import { treePairPlacement } from '../../src/results/treeAcceptance';
import { treesSection } from '../../src/results/analysis/trees';
import { groupRows, summarizeRows, variantLabel } from '../../src/results/summary';
import { expectedTokensOfShape, rankShares } from '../../src/results/treeTheory';
import type { RunRow } from '../../src/shared/protocol';
import { oracleRankAcceptance, treeAcceptanceProblem } from '../../src/shared/treeAcceptance';
import { runRow } from '../support/helpers';

const REPEATS = [0, 1, 2];
const baselines = REPEATS.map((repeat) =>
  runRow({ mode: 'baseline', k: null, repeat, timeS: 1, speedup: null, acceptanceTarget: null }),
);

const common = { drafter: 'model', policy: 'fixed' } as const;

function chain(alpha: number, k: number, timesS: readonly number[]): RunRow[] {
  return timesS.map((timeS, repeat) =>
    runRow({ ...common, k, repeat, timeS, speedup: 1 / timeS, acceptanceTarget: alpha }),
  );
}

function tree(
  alpha: number,
  shape: number[],
  timesS: readonly number[],
  meanAcceptanceLength: number,
): RunRow[] {
  return timesS.map((timeS, repeat) =>
    runRow({
      ...common,
      k: shape.length,
      repeat,
      timeS,
      speedup: 1 / timeS,
      acceptanceTarget: alpha,
      meanAcceptanceLength,
      tree: {
        shape,
        verify: 'mask',
        nodesPerStep: [6, 6],
        ranks: { tested: [10, 5], accepted: [5, 2 + repeat] },
      },
    }),
  );
}

const rows: RunRow[] = [
  ...baselines,
  ...chain(0.5, 1, [0.9, 0.9, 0.9]),
  ...chain(0.5, 3, [0.8, 0.81, 0.79]),
  ...tree(0.5, [3, 2], [0.7, 0.7, 0.7], 2.2),
  ...chain(0.9, 1, [0.7, 0.7, 0.7]),
  ...chain(0.9, 3, [0.5, 0.5, 0.5]),
  ...tree(0.9, [3, 2], [0.6, 0.6, 0.6], 2.9),
];

describe('the tree oracle’s rule', () => {
  it('is p_r = A at every rank: the target is the r-th choice with probability A (1 - A)^(r-1)', () => {
    const p = oracleRankAcceptance(0.7, 3);
    expect(p).toEqual([0.7, 0.7, 0.7]);
    rankShares(p).forEach((q, r) => expect(q).toBeCloseTo(0.7 * 0.3 ** r, 12));
    // a 1-wide tree is the chain: 1 + A + A^2 + A^3
    expect(expectedTokensOfShape([1, 1, 1], p)).toBeCloseTo(1 + 0.7 + 0.49 + 0.343, 12);
    // a node of b children catches the target's token with 1 - (1 - A)^b
    expect(expectedTokensOfShape([3], p)).toBeCloseTo(1 + (1 - 0.3 ** 3), 12);
  });

  it('refuses sampling and node budgets, saying what to do', () => {
    expect(treeAcceptanceProblem({ sampling: false, budgets: false })).toBeNull();
    expect(treeAcceptanceProblem({ sampling: true, budgets: false })).toMatch(/temperature to 0/);
    expect(treeAcceptanceProblem({ sampling: false, budgets: true })).toMatch(
      /sweep static shapes \(--tree 3,2,1\) with --acceptance/,
    );
  });
});

describe('trees in the K x alpha grid', () => {
  const grid = acceptanceGrid(rows, null)!;

  it('keeps the chains in the grid and sets the trees beside it, per alpha', () => {
    expect(grid.ks).toEqual([1, 3]);
    expect(grid.cells.flat().every((c) => c.key?.includes(':t') === false)).toBe(true);
    expect(grid.trees.map((t) => t.alpha)).toEqual([0.5, 0.9]);
    const [low, high] = grid.trees;
    const t = low!.trees[0]!;
    expect(t.label).toBe('tree 3,2 alpha 0.5');
    expect(t.nodes).toBe(9);
    expect(t.predictedTokens).toBeCloseTo(expectedTokensOfShape([3, 2], [0.5, 0.5, 0.5]), 12);
    expect(t.measuredTokens).toBe(2.2);
    expect(t.ratio).toBeCloseTo(2.2 / t.predictedTokens, 12);
    // ranks summed over the runs: 15 of 30, then 2 + 3 + 4 of 15
    expect(t.rankTested).toEqual([30, 15]);
    expect(t.rankAcceptance).toEqual([0.5, 0.6]);
    expect(low!.drawnRankAcceptance).toEqual([0.5, 0.6]);
    // Sequoia's best static tree of 9 nodes at A = 0.5 is at least the typed shape's expectation
    expect(t.bestStatic.expected).toBeGreaterThanOrEqual(t.bestShape!.expected - 1e-12);
    expect(t.bestShape!.expected).toBeGreaterThanOrEqual(t.predictedTokens - 1e-12);
    expect(high!.trees[0]!.predictedTokens).toBeGreaterThan(t.predictedTokens);
  });

  it('judges the fastest tree against the fastest chain run for run, in one sentence', () => {
    const [low, high] = grid.trees;
    // 0.5: the tree (0.7 s) beat K=3 (0.8 s) in every run
    expect(low!.fastestChain).toEqual({ k: 3, speedup: 1 / 0.8 });
    expect(low!.treeWins).toBe(true);
    expect(low!.sentence).toMatch(
      /^At alpha 0\.5 \(Sequoia's model with p_r = 0\.5 at every rank; the runs drew p = 0\.50, 0\.60 by rank\), tree 3,2 verified 2\.20 tokens per pass against 2\.\d\d predicted; the fastest tree, tree 3,2 \(1\.43x\), beat the fastest chain, K=3 \(1\.25x\), beyond noise over 3 runs paired\.$/,
    );
    // 0.9: K=3 (0.5 s) beat the tree (0.6 s) in every run
    expect(high!.treeWins).toBe(false);
    expect(high!.sentence).toMatch(/the fastest chain, K=3 \(2\.00x\), beat the fastest tree/);
  });
});

describe('the report’s "Token trees against chains" under controlled acceptance', () => {
  it('answers with the sentence per alpha and tables each tree against p_r = A', () => {
    const section = treesSection(summarizeRows(rows), groupRows(rows), (r) =>
      variantLabel(r, false),
    )!;
    const grid = acceptanceGrid(rows, null)!;
    expect(section.answers).toEqual(grid.trees.map((t) => t.sentence));
    expect(section.points.join(' ')).toMatch(/p_r = A at every rank/);
    const table = section.tables.find((t) => /controlled acceptance/.test(t.caption))!;
    expect(table.rows.map((r) => [r[0], r[1], r[5]])).toEqual(
      grid.trees.map((at) => [
        String(at.alpha),
        `tree 3,2 alpha ${at.alpha}`,
        at.trees[0]!.predictedTokens.toFixed(2),
      ]),
    );
  });
});

describe('the pair’s own draft on the trees’ picture', () => {
  it('pools the draft model’s own ranks behind the oracle and predicts each shape with them', () => {
    const own = (tested: number[], accepted: number[]): RunRow[] =>
      tree(0.5, [3, 2], [0.7], 2).map((r) => ({
        ...r,
        tree: { ...r.tree!, draftModelRanks: { tested, accepted } },
      }));
    // rank 3 was read at 10 positions only: too few, the ranks end before it
    const placed = treePairPlacement([
      ...baselines,
      ...own([60, 20, 5], [40, 10, 2]),
      ...own([40, 20, 5], [20, 5, 1]),
    ])!;
    expect(placed.rankTested).toEqual([100, 40, 10]);
    expect(placed.rankAcceptance).toEqual([0.6, 0.375]);
    expect(placed.shapes).toEqual([
      { shape: [3, 2], expected: expectedTokensOfShape([3, 2], [0.6, 0.375]) },
    ]);
    expect(placed.sentence).toMatch(
      /held the target's token at p_1 = 0\.60 \(of 100 positions\) and p_2 = 0\.38 \(of 40 positions\): with those ranks Sequoia's model puts tree 3,2 at \d\.\d\d tokens per pass, and Sequoia's best static tree of 9 nodes/,
    );
    // runs without it (real drafting, or saved before it was counted) place nothing
    expect(treePairPlacement(rows)).toBeNull();
  });
});
