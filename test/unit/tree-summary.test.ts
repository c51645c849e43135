/**
 * Token trees in a sweep's summary: each shape, budget and way of verifying its own
 * configuration, labelled and ordered after the chains; a depth-1 tree never measures alpha.
 */
import { describe, expect, it } from 'vitest';
import { measuresAlpha } from '../../src/results/strategy';
import { summarizeRows, variantLabel } from '../../src/results/summary';
import type { RunRow } from '../../src/shared/protocol';
import { runRow } from '../support/helpers';

const tree = (
  t: NonNullable<RunRow['tree']>['verify'],
  k: number,
  more: object,
): Partial<RunRow> => ({
  k,
  policy: 'fixed',
  drafter: 'model',
  tree: { verify: t, nodesPerStep: [4], ...more },
});

describe('trees in the summary', () => {
  it('one configuration per shape, budget and verification, after the chains', () => {
    const rows = [
      runRow({ mode: 'baseline', k: null }),
      runRow(tree('rows', 3, { shape: [3, 2, 1] })),
      runRow(tree('mask', 8, { budget: 16 })),
      runRow(tree('mask', 8, { budget: 8 })),
      runRow(tree('mask', 3, { shape: [3, 2, 1] })),
      runRow(tree('mask', 2, { shape: [4, 1] })),
      runRow({ k: 3, policy: 'fixed', drafter: 'model' }),
    ];
    const summary = summarizeRows(rows);
    expect(summary.map((s) => variantLabel(s, false))).toEqual([
      'baseline',
      'K=3',
      'tree 4,1',
      'tree 3,2,1',
      'tree 3,2,1 rows',
      'tree budget 8',
      'tree budget 16',
    ]);
    expect(summary.map((s) => s.key)).toContain('speculative:model:fixed:3:t3,2,1:rows');
    expect(summary.find((s) => s.tree?.budget === 16)!.tree).toEqual({
      budget: 16,
      verify: 'mask',
      nodesPerStep: expect.objectContaining({ median: 4 }),
    });
  });

  it('a depth-1 tree is no K=1 chain: it never measures alpha', () => {
    expect(measuresAlpha(runRow({ k: 1, drafter: 'model' }))).toBe(true);
    expect(measuresAlpha(runRow(tree('mask', 1, { shape: [3] })))).toBe(false);
  });
});
