/**
 * `specdec sweep --tree`: token trees from the command line beside chains in one sweep, the
 * table labelling them, every JSON run carrying its tree, output identical to the baseline, trees
 * at each controlled acceptance beside Sequoia's model, and what trees cannot run with refused
 * with the reason.
 */
import { describe, expect, it } from 'vitest';
import type { AcceptanceGrid } from '../../src/results/acceptanceGrid';
import { expectedTokensOfShape } from '../../src/results/treeTheory';
import type { RunRow } from '../../src/shared/protocol';
import { oracleRankAcceptance } from '../../src/shared/treeAcceptance';
import { PAIR_DRAFT, PAIR_TARGET, specdec } from '../support/helpers';

const embedded = ['--target', PAIR_TARGET, '--draft', PAIR_DRAFT, '--ep', 'cpu'];

describe('specdec sweep --tree', () => {
  it('compares trees and chains in one sweep; JSON runs carry the tree', async () => {
    const common = ['sweep', ...embedded, '--k', '3', '--max-new-tokens', '30'];
    const flags = [
      ...common,
      ...['--tree', '3,2,1;1,1,1', '--tree-verify', 'mask,rows', '--repeats', '1', '--warmup', '0'],
    ];
    const r = await specdec([...flags, '--json']);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { runs: RunRow[] };
    const trees = doc.runs.filter((run) => run.tree);
    // each shape verified each way: in one pass under the tree mask, and as a row per path
    expect(trees.map((t) => `${t.tree!.shape} ${t.tree!.verify}`)).toEqual([
      '3,2,1 mask',
      '1,1,1 mask',
      '3,2,1 rows',
      '1,1,1 rows',
    ]);
    const chain = doc.runs.find((run) => run.mode === 'speculative' && !run.tree)!;
    for (const t of trees) {
      expect(t.identical).toBe(true);
      expect(t.tree!.nodesPerStep).toEqual(t.kPerStep);
      expect(t.targetPasses).toBeLessThanOrEqual(chain.targetPasses);
    }
    // one child per depth is the chain of K=3, pass for pass
    expect(trees[1]!.targetPasses).toBe(chain.targetPasses);
    expect(trees[3]!.targetPasses).toBe(chain.targetPasses);
    expect(trees[0]!.draftedTokens).toBeGreaterThan(chain.draftedTokens);
    expect(trees[0]!.targetPasses).toBe(trees[2]!.targetPasses);
    const table = await specdec(flags);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/tree 3,2,1 /);
    expect(table.stdout).toMatch(/tree 3,2,1 rows/);
    expect(table.stdout).toMatch(/tree 1,1,1 /);
  });

  it('runs node budgets (dynamic trees) beside a chain, identical to the baseline', async () => {
    const r = await specdec([
      ...['sweep', ...embedded, '--k', '3', '--max-new-tokens', '24', '--json'],
      ...['--tree-budget', '4,16', '--repeats', '1', '--warmup', '0'],
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { runs: RunRow[]; summary: Array<{ key: string }> };
    const trees = doc.runs.filter((run) => run.tree);
    expect(trees.map((t) => t.tree!.budget)).toEqual([4, 16]);
    for (const t of trees) {
      expect(t.identical).toBe(true);
      expect(t.tree!.shape).toBeUndefined();
      expect(Math.max(...t.tree!.nodesPerStep)).toBeLessThanOrEqual(t.tree!.budget!);
    }
    expect(doc.summary.map((s) => s.key)).toContain('speculative:model:fixed:8:tbudget 16:mask');
  });

  it('samples static shapes, and runs trees under the repetition controls', async () => {
    const r = await specdec([
      ...['sweep', ...embedded, '--k', '2', '--max-new-tokens', '16', '--tree', '3,2'],
      ...['--temperature', '0.8', '--seed', '3', '--repetition-penalty', '1.2'],
      ...['--no-repeat-ngram', '3', '--repeats', '1', '--warmup', '0', '--json'],
    ]);
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { runs: RunRow[] };
    const tree = doc.runs.find((run) => run.tree)!;
    expect(tree.tree!.shape).toEqual([3, 2]);
    expect(tree.newTokens).toBe(16);
    expect(tree.draftedTokens).toBeGreaterThan(0);
  });

  it('runs trees under --acceptance: each alpha a configuration, the grid and the CLI say what trees did', async () => {
    const flags = [
      ...['sweep', ...embedded, '--k', '1,3', '--max-new-tokens', '24', '--repeats', '1'],
      ...['--warmup', '0', '--tree', '3,2', '--acceptance', '0.5,0.9'],
    ];
    const r = await specdec([...flags, '--json']);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout) as { runs: RunRow[]; acceptanceGrid: AcceptanceGrid };
    const trees = doc.runs.filter((run) => run.tree);
    expect(trees.map((t) => t.acceptanceTarget)).toEqual([0.5, 0.9]);
    for (const t of trees) {
      expect(t.identical).toBe(true);
      expect(t.tree!.ranks!.tested[0]).toBeGreaterThan(0);
    }
    // the chains' grid holds chains only; the trees sit beside it, one entry per alpha
    const grid = doc.acceptanceGrid;
    expect(grid.ks).toEqual([1, 3]);
    expect(grid.trees.map((t) => t.alpha)).toEqual([0.5, 0.9]);
    for (const at of grid.trees) {
      const [tree] = at.trees;
      expect(tree!.shape).toEqual([3, 2]);
      expect(tree!.predictedTokens).toBeCloseTo(
        expectedTokensOfShape([3, 2], oracleRankAcceptance(at.alpha, 9)),
        12,
      );
      expect(tree!.measuredTokens).toBe(
        trees.find((t) => t.acceptanceTarget === at.alpha)!.meanAcceptanceLength,
      );
      expect(at.fastestChain).not.toBeNull();
    }
    const printed = await specdec(flags);
    expect(printed.code).toBe(0);
    const lines = printed.stdout.split('\n');
    const at = lines.indexOf('Token trees at each alpha:');
    expect(at).toBeGreaterThan(0);
    expect(lines[at + 1]!.trim()).toMatch(
      /^At alpha 0\.5 \(Sequoia's model with p_r = 0\.5 at every rank; the runs drew p = .* by rank\), tree 3,2 verified \d\.\d\d tokens per pass against \d\.\d\d predicted; the fastest /,
    );
    expect(lines[at + 2]!.trim()).toMatch(/^At alpha 0\.9 /);
    expect(printed.stdout).toMatch(/tree 3,2 alpha 0\.9/);
  });

  it('refuses a sampled node budget, bad shapes and controlled acceptance with the reason', async () => {
    const base = ['sweep', ...embedded, '--max-new-tokens', '4'];
    const sampled = await specdec([...base, '--tree-budget', '8', '--temperature', '0.7']);
    expect(sampled.code).not.toBe(0);
    expect(sampled.stderr).toMatch(/static shape \(--tree 3,2,1\) or run the budget greedy/);
    const bad = await specdec([...base, '--tree', '3,0']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(
      /--tree 3,0: each depth's branching is a whole number of at least 1/,
    );
    // under controlled acceptance a budget's shape would follow probabilities the oracle overrides
    const oracle = await specdec([...base, '--tree-budget', '8', '--acceptance', '0.5']);
    expect(oracle.code).not.toBe(0);
    expect(oracle.stderr).toMatch(/sweep static shapes \(--tree 3,2,1\) with --acceptance/);
    const budget = await specdec([...base, '--tree-budget', '65']);
    expect(budget.code).not.toBe(0);
    expect(budget.stderr).toMatch(/--tree-budget takes node budgets, whole numbers from 1 to 64/);
    const verify = await specdec([...base, '--tree', '2,1', '--tree-verify', 'tiles']);
    expect(verify.code).not.toBe(0);
    expect(verify.stderr).toMatch(/--tree-verify takes auto, mask, rows/);
  });
});
