/**
 * Token trees under controlled acceptance in the app's pure helpers: the set-up refuses what the
 * engine refuses (src/shared/treeAcceptance.ts) in the app's words, the heat map's trees table
 * lays out sweepAcceptanceGrid's trees without recomputing them, the scatter keeps oracle points
 * apart from real drafting's (a series per alpha), and a controlled tree run is named with its alpha.
 */
import { describe, expect, it } from 'vitest';
import { acceptanceGrid } from '../../src/results/acceptanceGrid';
import { badgeRow, summarizeRows } from '../../src/results/summary';
import type { RunRow } from '../../src/shared/protocol';
import {
  TREE_ACCEPTANCE_BUDGET_REFUSAL,
  TREE_ACCEPTANCE_SAMPLING_REFUSAL,
} from '../../src/shared/treeAcceptance';
import { treeRefusal } from '../../src/renderer/src/lib/treeSetup';
import { treeAlphaRows } from '../../src/renderer/src/lib/treesAtAlpha';
import { treeScatterData, type ScatterPoint } from '../../src/renderer/src/lib/treeScatter';
import { runConfig } from '../../src/renderer/src/state/runs.svelte';
import { runRow } from '../support/helpers';

const REPEATS = [0, 1, 2];
const common = { drafter: 'model', policy: 'fixed' } as const;

const baselines = REPEATS.map((repeat) =>
  runRow({ mode: 'baseline', k: null, repeat, timeS: 1, speedup: null, acceptanceTarget: null }),
);

function chain(alpha: number | null, k: number, timeS: number, perPass: number): RunRow[] {
  return REPEATS.map((repeat) =>
    runRow({
      ...common,
      k,
      repeat,
      timeS,
      speedup: 1 / timeS,
      tokensPerTargetPass: perPass,
      acceptanceTarget: alpha,
    }),
  );
}

function tree(
  alpha: number | null,
  shape: number[],
  timeS: number,
  meanAcceptanceLength: number,
): RunRow[] {
  return REPEATS.map((repeat) =>
    runRow({
      ...common,
      k: shape.length,
      repeat,
      timeS,
      speedup: 1 / timeS,
      tokensPerTargetPass: meanAcceptanceLength - 0.1,
      acceptanceTarget: alpha,
      meanAcceptanceLength,
      tree: {
        shape,
        verify: 'mask',
        nodesPerStep: [3, 3],
        ranks: { tested: [10, 5], accepted: [5, 2] },
      },
    }),
  );
}

const controlled: RunRow[] = [
  ...baselines,
  ...chain(0.5, 1, 0.9, 1.5),
  ...chain(0.5, 2, 0.85, 1.7),
  ...tree(0.5, [2, 1], 0.8, 2.0),
  ...chain(0.9, 1, 0.7, 1.9),
  ...chain(0.9, 2, 0.6, 2.6),
  ...tree(0.9, [2, 1], 0.62, 2.7),
];

describe('trees with controlled acceptance at the set-up', () => {
  const greedy = { sampling: false, budgets: false, acceptance: true };

  it('runs greedy static shapes with acceptance targets', () => {
    expect(treeRefusal(greedy)).toBeNull();
  });

  it("refuses a node budget or sampling with the engine's reason and the app's controls", () => {
    const budget = treeRefusal({ ...greedy, budgets: true });
    const sampling = treeRefusal({ ...greedy, sampling: true });
    // the engine's reason, up to its advice
    expect(budget).toContain(TREE_ACCEPTANCE_BUDGET_REFUSAL.split(':')[0]!);
    expect(sampling).toContain(TREE_ACCEPTANCE_SAMPLING_REFUSAL.split(':')[0]!);
    expect(budget).toMatch(/remove the node budgets .* or remove the acceptance targets/);
    expect(sampling).toMatch(/Choose Greedy under Decoding, or remove the acceptance targets/);
    // the app names its controls, never a command-line flag
    for (const message of [
      budget,
      sampling,
      treeRefusal({ ...greedy, sampling: true, budgets: true }),
    ])
      expect(message).not.toMatch(/--/);
    // without targets neither is the oracle's business
    expect(treeRefusal({ ...greedy, acceptance: false, budgets: true })).toBeNull();
  });
});

describe('the heat map’s trees at each alpha', () => {
  const grid = acceptanceGrid(controlled, null)!;

  it('lays out the grid’s trees a row each, high alpha first, without recomputing them', () => {
    expect(grid.trees.map((t) => t.alpha)).toEqual([0.5, 0.9]);
    const rows = treeAlphaRows(grid.trees);
    expect(rows.map((r) => r.alpha)).toEqual([0.9, 0.5]);
    for (const row of rows) {
      const at = grid.trees.find((t) => t.alpha === row.alpha)!;
      const t = at.trees[0]!;
      expect(row).toMatchObject({
        first: true,
        span: 1,
        tree: 'tree 2,1',
        label: `tree 2,1 alpha ${row.alpha}`,
        measuredTokens: t.measuredTokens,
        predictedTokens: t.predictedTokens,
        ratio: t.ratio,
        speedup: t.speedup,
        fastestChainK: at.fastestChain!.k,
        treeWins: at.treeWins,
      });
    }
    // at 0.5 the tree (0.8 s) beat the fastest chain, K=2 (0.85 s), in every repeat
    const low = rows.find((r) => r.alpha === 0.5)!;
    expect(low.fastestChain).toBe('K=2 (1.18x)');
    expect(low.treeWins).toBe(true);
    expect(low.verdict).toBe('tree 2,1 beat it');
    // at 0.9 the chain K=2 (0.6 s) was faster than the tree (0.62 s)
    const high = rows.find((r) => r.alpha === 0.9)!;
    expect(high.treeWins).toBe(false);
    expect(high.verdict).toBe('no tree beat it');
    expect(high.title).toMatch(/p_1 0\.50 \(30 tested\)/);
  });

  it('gives a rowspan to each alpha’s shared cells when it has several trees', () => {
    const two = acceptanceGrid([...controlled, ...tree(0.9, [1, 1], 0.65, 2.5)], null)!;
    const rows = treeAlphaRows(two.trees).filter((r) => r.alpha === 0.9);
    expect(rows.map((r) => [r.first, r.span])).toEqual([
      [true, 2],
      [false, 2],
    ]);
  });
});

describe('the scatter under controlled acceptance', () => {
  it('puts each alpha’s chains and trees in series of their own, apart from real drafting', () => {
    const rows = [...controlled, ...chain(null, 2, 0.9, 1.6), ...tree(null, [2, 1], 0.88, 1.8)];
    const summary = summarizeRows(rows);
    const data = treeScatterData(summary, badgeRow(summary), false);
    const byLabel = Object.fromEntries(
      data.datasets.map((d) => [d.label, (d.data as ScatterPoint[]).map((p) => p.label)]),
    );
    expect(byLabel['Chains (K)']).toEqual(['K=2']);
    expect(byLabel['Trees']).toEqual(['tree 2,1']);
    expect(byLabel['Chains alpha 0.5']).toEqual(['K=1 alpha 0.5', 'K=2 alpha 0.5']);
    expect(byLabel['Trees alpha 0.5']).toEqual(['tree 2,1 alpha 0.5']);
    expect(byLabel['Chains alpha 0.9']).toEqual(['K=1 alpha 0.9', 'K=2 alpha 0.9']);
    expect(byLabel['Trees alpha 0.9']).toEqual(['tree 2,1 alpha 0.9']);
    // one colour per alpha, chains circles and trees triangles
    const series = (label: string) => data.datasets.find((d) => d.label === label)!;
    expect(series('Chains alpha 0.9').borderColor).toBe(series('Trees alpha 0.9').borderColor);
    expect(series('Chains alpha 0.9').borderColor).not.toBe(series('Chains alpha 0.5').borderColor);
    expect(series('Trees alpha 0.9').pointStyle).toBe('triangle');
    // a series with no point is left out: a sweep all under the oracle has no real chains
    const oracleOnly = treeScatterData(summarizeRows(controlled), null, false);
    expect(oracleOnly.datasets.map((d) => d.label)).toEqual([
      'Baseline',
      'Chains alpha 0.5',
      'Trees alpha 0.5',
      'Chains alpha 0.9',
      'Trees alpha 0.9',
    ]);
  });
});

describe('a controlled tree run’s name', () => {
  it('carries its alpha, as the summary names it', () => {
    const start = { mode: 'speculative', k: 2 } as const;
    const shape = { shape: [2, 1], verify: 'mask' };
    expect(runConfig(start, null, 0.9, shape)).toBe('tree 2,1 alpha 0.9');
    expect(runConfig(start, null, null, shape)).toBe('tree 2,1');
    expect(runConfig(start, null, 0.5, { ...shape, verify: 'rows' })).toBe(
      'tree 2,1 rows alpha 0.5',
    );
  });
});
