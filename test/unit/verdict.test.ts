import { describe, expect, it } from 'vitest';
import { comparePaired, decide, pairKey, type PairedTimes } from '../../src/results/verdict';

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
