/**
 * The K x alpha picture (src/results/acceptanceGrid.ts) from hand-made runs: a clear best, a tie
 * within noise, an alpha where no K beat the baseline, the theory beside each cell, and where the
 * pair's own alpha sits.
 */
import { describe, expect, it } from 'vitest';
import { acceptanceGrid, type GridCosts } from '../../src/results/acceptanceGrid';
import { expectedSpeedupMeasuredCost } from '../../src/results/theory';
import type { RunRow } from '../../src/shared/protocol';
import { runRow } from '../support/helpers';

const REPEATS = [0, 1, 2];
const baselines = REPEATS.map((repeat) =>
  runRow({ mode: 'baseline', k: null, repeat, timeS: 1, speedup: null, acceptanceTarget: null }),
);

/** one controlled configuration's runs, one per repeat, at these times (baseline: 1 s) */
function config(alpha: number, k: number, timesS: readonly number[]): RunRow[] {
  return timesS.map((timeS, repeat) =>
    runRow({
      k,
      repeat,
      timeS,
      speedup: 1 / timeS,
      drafter: 'model',
      policy: 'fixed',
      acceptanceTarget: alpha,
      acceptedTokens: 8,
      draftTokensTested: 10,
      meanAcceptanceLength: 2.5,
    }),
  );
}

const sweep: RunRow[] = [
  ...baselines,
  // alpha 0.5: nothing beats the baseline (K=1 at 1.00x is the fastest, run for run a coin toss)
  ...config(0.5, 1, [0.99, 1.01, 1.0]),
  ...config(0.5, 2, [1.1, 1.12, 1.08]),
  ...config(0.5, 3, [1.2, 1.22, 1.18]),
  ...config(0.5, 4, [1.3, 1.32, 1.28]),
  // alpha 0.8: K=3 has the best median, K=4 is tied with it, K=1 and K=2 are beaten every run
  ...config(0.8, 1, [0.8, 0.8, 0.8]),
  ...config(0.8, 2, [0.6, 0.6, 0.6]),
  ...config(0.8, 3, [0.5, 0.5, 0.5]),
  ...config(0.8, 4, [0.49, 0.52, 0.51]),
  // alpha 0.9: K=4 is faster than everything in every run
  ...config(0.9, 1, [0.75, 0.75, 0.75]),
  ...config(0.9, 2, [0.55, 0.55, 0.55]),
  ...config(0.9, 3, [0.45, 0.45, 0.45]),
  ...config(0.9, 4, [0.35, 0.36, 0.34]),
];

const costs: GridCosts = { c: 0.1, verifyCost: { '1': 1.1, '2': 1.2, '3': 1.3, '4': 1.4 } };

describe('acceptanceGrid', () => {
  it('is null for a sweep without acceptance targets', () => {
    const real = REPEATS.map((repeat) => runRow({ k: 2, repeat, acceptanceTarget: null }));
    expect(acceptanceGrid([...baselines, ...real], costs)).toBeNull();
  });

  it('lays out alphas x Ks, ascending, with each cell’s median speedup', () => {
    const grid = acceptanceGrid(sweep, costs)!;
    expect(grid.alphas).toEqual([0.5, 0.8, 0.9]);
    expect(grid.ks).toEqual([1, 2, 3, 4]);
    expect(grid.strategy).toBe('model / fixed');
    expect(grid.cells.map((row) => row.map((c) => [c.alpha, c.k]))).toEqual(
      [0.5, 0.8, 0.9].map((a) => [1, 2, 3, 4].map((k) => [a, k])),
    );
    const cell = grid.cells[1]![2]!;
    expect(cell.speedup).toBeCloseTo(2, 10);
    expect(cell.runs).toBe(3);
    expect(cell.key).toBe('speculative:model:fixed:3:a0.8');
    expect(cell.measuredAlpha).toBeCloseTo(0.8, 10);
    expect(cell.meanAcceptanceLength).toBe(2.5);
  });

  it('puts the measured-cost theory beside each cell, and measured over predicted', () => {
    const grid = acceptanceGrid(sweep, costs)!;
    const cell = grid.cells[1]![2]!; // alpha 0.8, K=3
    // (1 - 0.8^4) / 0.2 = 2.952 tokens per pass, over 3 x 0.1 + 1.3
    expect(cell.predicted).toBeCloseTo(2.952 / 1.6, 10);
    expect(cell.predicted).toBe(expectedSpeedupMeasuredCost(0.8, 0.1, 3, 1.3));
    expect(cell.ratio).toBeCloseTo(2 / (2.952 / 1.6), 10);
    // no costs: nothing predicted
    const blind = acceptanceGrid(sweep, null)!;
    expect(blind.cells.flat().every((c) => c.predicted === null && c.ratio === null)).toBe(true);
    expect(blind.bestPerAlpha.every((b) => b.predictedBestK === null)).toBe(true);
    // a K whose verification cost was not measured has no prediction
    const partial = acceptanceGrid(sweep, { c: 0.1, verifyCost: { '1': 1.1 } })!;
    expect(partial.cells[1]!.map((c) => c.predicted !== null)).toEqual([true, false, false, false]);
  });

  it('marks a clear best: faster than the baseline and every other K', () => {
    const grid = acceptanceGrid(sweep, costs)!;
    const at09 = grid.bestPerAlpha[2]!;
    expect(at09).toMatchObject({
      alpha: 0.9,
      bestK: 4,
      tiedKs: [],
      beatBaseline: true,
      noiseMeasured: true,
      pairs: 3,
    });
    expect(at09.speedup).toBeCloseTo(1 / 0.35, 10);
    expect(grid.cells[2]!.map((c) => c.isBest)).toEqual([false, false, false, true]);
    expect(grid.cells[2]!.some((c) => c.withinNoise)).toBe(false);
    expect(at09.sentence).toBe(
      'At alpha 0.9 on this machine, K=4 (2.86x); no other K within noise.',
    );
  });

  it('names the Ks within noise of the best, in the issue’s words', () => {
    const grid = acceptanceGrid(sweep, costs)!;
    const at08 = grid.bestPerAlpha[1]!;
    expect(at08).toMatchObject({ bestK: 3, tiedKs: [4], beatBaseline: true });
    expect(grid.cells[1]!.map((c) => [c.isBest, c.withinNoise])).toEqual([
      [false, false],
      [false, false],
      [true, false],
      [false, true],
    ]);
    expect(at08.sentence).toBe('At alpha 0.8 on this machine, K=3 (2.00x); K=4 within noise.');
    // the theory's best over the swept Ks, and its prediction at the measured best
    expect(at08.predictedBestK).toBe(4);
    expect(at08.predicted).toBe(expectedSpeedupMeasuredCost(0.8, 0.1, 3, 1.3));
    expect(at08.ratio).toBeCloseTo(2 / at08.predicted!, 10);
  });

  it('says when no K beat the baseline at an alpha, and still names the fastest', () => {
    const grid = acceptanceGrid(sweep, costs)!;
    const at05 = grid.bestPerAlpha[0]!;
    expect(at05).toMatchObject({ alpha: 0.5, bestK: 1, beatBaseline: false, noiseMeasured: true });
    expect(at05.sentence).toBe(
      'At alpha 0.5 on this machine, no K beat the baseline: the fastest, K=1 (1.00x), was not faster beyond noise over 3 repeats paired run for run.',
    );
  });

  it('says when one run each cannot measure noise', () => {
    // the second repeat alone: K=1 at alpha 0.5 ran 1.01 s against the baseline's 1 s
    const once = sweep.filter((r) => r.repeat === 1);
    const grid = acceptanceGrid(once, costs)!;
    expect(grid.bestPerAlpha[2]!.noiseMeasured).toBe(false);
    expect(grid.bestPerAlpha[2]!.sentence).toBe(
      'At alpha 0.9 on this machine, K=4 (2.78x) was fastest, from one run each: too few to measure noise (run 3 or more repeats to tell close Ks apart).',
    );
    expect(grid.bestPerAlpha[0]!.sentence).toBe(
      'At alpha 0.5 on this machine, no K beat the baseline: the fastest, K=1 (0.99x), from one run each: too few to measure noise (run 3 or more repeats to tell close Ks apart).',
    );
  });

  it('places the pair by its K=1 real-drafting acceptance', () => {
    const real = [0.83, 0.85, 0.84].map((acceptanceRate, repeat) =>
      runRow({ k: 1, repeat, acceptanceRate, drafter: 'model', acceptanceTarget: null }),
    );
    const grid = acceptanceGrid([...sweep, ...real], costs)!;
    // the real runs are no cell of the grid
    expect(grid.cells.flat()).toHaveLength(12);
    expect(grid.pair).toMatchObject({
      alpha: 0.84,
      source: 'k1-acceptance',
      runs: 3,
      nearestAlpha: 0.8,
      below: 0.8,
      above: 0.9,
      bestK: 3,
      bestKBeatBaseline: true,
      predictedBestK: 4,
    });
    expect(grid.pair!.predictedSpeedup).toBe(expectedSpeedupMeasuredCost(0.84, 0.1, 4, 1.4));
    expect(grid.pair!.sentence).toBe(
      `Your pair sits at alpha 0.84 (the median acceptance of its 3 K=1 runs), nearest the swept alpha 0.8, where K=3 was best (2.00x); the measured-cost theory at its alpha predicts K=4 (${expectedSpeedupMeasuredCost(0.84, 0.1, 4, 1.4).toFixed(2)}x).`,
    );
  });

  it('without K=1 runs takes accepted over tested; else the alpha given; else no pair', () => {
    const real = REPEATS.map((repeat) =>
      runRow({ k: 4, repeat, acceptedTokens: 3, draftTokensTested: 6, acceptanceTarget: null }),
    );
    const fromTested = acceptanceGrid([...sweep, ...real], costs)!.pair!;
    expect(fromTested).toMatchObject({ alpha: 0.5, source: 'accepted-per-tested', runs: 3 });
    expect(fromTested).toMatchObject({ nearestAlpha: 0.5, bestK: 1, bestKBeatBaseline: false });
    expect(fromTested.sentence).toContain('where no K beat the baseline');

    const given = acceptanceGrid(sweep, costs, { pairAlpha: 0.95 })!.pair!;
    expect(given).toMatchObject({
      alpha: 0.95,
      source: 'given',
      runs: 0,
      nearestAlpha: 0.9,
      below: 0.9,
      above: null,
      bestK: 4,
    });
    expect(acceptanceGrid(sweep, costs)!.pair).toBeNull();
  });

  it("under the oracle alone, places the pair by the draft model's own agreement, before a given alpha", () => {
    const agreeing = sweep.map((r) =>
      r.acceptanceTarget != null
        ? { ...r, draftModelAgreement: { positions: 20, agreed: r.k === 1 ? 14 : 15 } }
        : r,
    );
    // summed over every controlled run (12 configurations x 3 repeats)
    const runs = agreeing.filter((r) => r.draftModelAgreement);
    const agreed = runs.reduce((n, r) => n + r.draftModelAgreement!.agreed, 0);
    const pair = acceptanceGrid(agreeing, costs, { pairAlpha: 0.2 })!.pair!;
    expect(pair).toMatchObject({
      alpha: agreed / (20 * runs.length),
      source: 'draft-model-agreement',
      runs: runs.length,
      nearestAlpha: 0.8,
    });
    expect(pair.sentence).toMatch(/behind the oracle in its 36 runs/);
  });
});
