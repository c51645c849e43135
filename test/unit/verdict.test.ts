import { describe, expect, it } from 'vitest';
import { timeChartData } from '../../src/renderer/src/lib/chartData';
import { medianRun } from '../../src/renderer/src/lib/race';
import { badgeRow, bestOf, bestSentence, summarizeRows } from '../../src/results/summary';
import { comparePaired, decide, pairKey, type PairedTimes } from '../../src/results/verdict';
import type { RunRow } from '../../src/shared/protocol';
import { runRow } from '../support/helpers';

/** times per repeat (prompt 0) */
function times(...t: number[]): PairedTimes {
  return Object.fromEntries(t.map((v, repeat) => [pairKey(repeat, 0), v]));
}

interface Config {
  name: string;
  times: PairedTimes;
}

function verdictOf(baseline: Config, ...configs: Config[]) {
  const base = baseline.times;
  const speedup = (c: Config): number => {
    const ratios = Object.keys(c.times).map((k) => base[k]! / c.times[k]!);
    return ratios.sort((a, b) => a - b)[ratios.length >> 1]!;
  };
  const v = decide(configs, baseline, (c) => c.times, speedup);
  return v && { ...v, best: v.best.name, tiedWith: v.tiedWith.map((c) => c.name) };
}

describe('paired verdict', () => {
  it('names a K that wins every pair even when the ranges over repeats overlap', () => {
    // The machine drifts between repeats (0.30 -> 0.40 s), so the ranges overlap; run for run
    // K=2 is 10% faster than K=3.
    const baseline = { name: 'baseline', times: times(0.45, 0.52, 0.6, 0.5) };
    const k2 = { name: 'K=2', times: times(0.3, 0.35, 0.4, 0.33) };
    const k3 = { name: 'K=3', times: times(0.33, 0.385, 0.44, 0.363) };
    expect(Math.max(...Object.values(k2.times))).toBeGreaterThan(
      Math.min(...Object.values(k3.times)),
    );
    const v = verdictOf(baseline, k3, k2)!;
    expect(v).toMatchObject({ best: 'K=2', tiedWith: [], beatBaseline: true, noiseMeasured: true });
    expect(comparePaired(k2.times, k3.times).ratio).toBeCloseTo(1.1, 6);
  });

  it('names a K that won every pair by a margin even when the ratios vary too much for the t bound', () => {
    // K=4 against the baseline: 6%, 54% and 30% faster run for run (seen on a loaded machine)
    const base = times(0.0923, 0.0807, 0.0878);
    const k4 = times(0.0871, 0.0524, 0.0675);
    const c = comparePaired(k4, base);
    expect(c.lower).toBeLessThan(1);
    expect(c).toMatchObject({ wonEveryPair: true, beats: true, pairs: 3 });
    // one pair under the 2% margin: the sign alone says nothing
    expect(comparePaired(times(0.0871, 0.0524, 0.0675), times(0.088, 0.0807, 0.0878)).beats).toBe(
      false,
    );
  });

  it('names a true tie as a tie', () => {
    const baseline = { name: 'baseline', times: times(0.5, 0.5, 0.5, 0.5) };
    const k2 = { name: 'K=2', times: times(0.3, 0.34, 0.31, 0.33) };
    const k3 = { name: 'K=3', times: times(0.31, 0.33, 0.32, 0.32) };
    const k8 = { name: 'K=8', times: times(0.45, 0.46, 0.44, 0.45) };
    const v = verdictOf(baseline, k8, k3, k2)!;
    expect(v.tiedWith).toEqual([v.best === 'K=2' ? 'K=3' : 'K=2']);
    expect(v.beatBaseline).toBe(true);
  });

  it('says when nothing beat the baseline, however a K ranks among the others', () => {
    const baseline = { name: 'baseline', times: times(0.44, 0.46, 0.45) };
    const k1 = { name: 'K=1', times: times(0.43, 0.47, 0.455) };
    const k4 = { name: 'K=4', times: times(0.6, 0.62, 0.61) };
    const v = verdictOf(baseline, k1, k4)!;
    expect(v).toMatchObject({
      best: 'K=1',
      tiedWith: [],
      beatBaseline: false,
      noiseMeasured: true,
    });
  });

  it('measures no noise under three pairs: the fastest is named, nothing tied, the baseline beaten only by its median', () => {
    const baseline = { name: 'baseline', times: times(0.5) };
    const v = verdictOf(
      baseline,
      { name: 'K=2', times: times(0.4) },
      { name: 'K=3', times: times(0.41) },
    )!;
    expect(v).toMatchObject({
      best: 'K=2',
      tiedWith: [],
      beatBaseline: true,
      noiseMeasured: false,
      pairs: 1,
    });
    const slower = verdictOf(baseline, { name: 'K=2', times: times(0.55) })!;
    expect(slower.beatBaseline).toBe(false);
  });

  it('compares only runs present in both (a cancelled sweep leaves a configuration short)', () => {
    const c = comparePaired(times(1, 1, 1, 1), { [pairKey(0, 0)]: 2, [pairKey(1, 0)]: 2 });
    expect(c.pairs).toBe(2);
    expect(c.beats).toBe(false);
    expect(c.ratio).toBeCloseTo(2, 9);
  });
});

describe('one verdict for every surface (results/summary over run rows)', () => {
  /** a sweep of 3 repeats: the baseline and each K's times per repeat */
  function sweep(times: Record<string, number[]>): RunRow[] {
    return Object.entries(times).flatMap(([config, ts]) =>
      ts.map((timeS, repeat) => {
        const base = times.baseline![repeat]!;
        return config === 'baseline'
          ? runRow({ runId: `b${repeat}`, mode: 'baseline', k: null, timeS, repeat, speedup: null })
          : runRow({
              runId: `${config}-${repeat}`,
              k: Number(config),
              timeS,
              repeat,
              speedup: base / timeS,
            });
      }),
    );
  }

  it('badges the best only when it beat the baseline, and the sentence, the chart and the race agree', () => {
    const won = summarizeRows(
      sweep({ baseline: [0.45, 0.6, 0.5], 2: [0.3, 0.4, 0.33], 3: [0.33, 0.44, 0.363] }),
    );
    const best = bestOf(won)!;
    expect(best).toMatchObject({ beatBaseline: true, noiseMeasured: true, pairs: 3, repeats: 3 });
    expect(best.row.k).toBe(2);
    expect(badgeRow(won)).toBe(best.row);
    expect(bestSentence(best, false)).toMatch(
      /^K=2 \(1\.\d\dx the baseline, .*beyond noise over 3 repeats/,
    );
    const marker = timeChartData(won, best).datasets.at(-1)!;
    expect(marker.label).toBe('Best: K=2');
    expect(marker.data).toEqual([{ x: 2, y: best.row.timeS.median }]);

    const lost = summarizeRows(
      sweep({ baseline: [0.44, 0.46, 0.45], 1: [0.43, 0.47, 0.455], 4: [0.6, 0.62, 0.61] }),
    );
    expect(bestOf(lost)!.beatBaseline).toBe(false);
    expect(badgeRow(lost)).toBeNull();
    expect(bestSentence(bestOf(lost)!, false)).toMatch(
      /^No configuration beat the baseline: the fastest, K=1/,
    );
    expect(timeChartData(lost, bestOf(lost)).datasets.at(-1)!.label).toBe(
      'Fastest: K=1 (none beat the baseline)',
    );
  });

  it("the race's default run is the configuration's median run", () => {
    const rows = sweep({ baseline: [0.5, 0.9, 0.45], 2: [0.3, 0.35, 0.31] });
    expect(medianRun(rows.filter((r) => r.mode === 'baseline'))!.runId).toBe('b0');
    expect(medianRun(rows.filter((r) => r.k === 2))!.runId).toBe('2-2');
    expect(medianRun([])).toBeNull();
  });
});

it('one run that did not beat the baseline says so first, as the missing badge does', () => {
  const rows = [
    runRow({ runId: 'b', mode: 'baseline', k: null, timeS: 0.5, speedup: null }),
    runRow({ runId: 'k2', k: 2, timeS: 0.55, speedup: 0.5 / 0.55 }),
  ];
  const best = bestOf(summarizeRows(rows))!;
  expect(best).toMatchObject({ beatBaseline: false, noiseMeasured: false });
  expect(bestSentence(best, false)).toMatch(
    /^No configuration beat the baseline: the fastest, K=2 \(0\.91x the baseline; from one run each/,
  );
});
