/**
 * Controlled acceptance in what a sweep means: each target its own configuration and label, its
 * runs never taken for the pair's measured alpha, its metrics in the runs CSV, and the run plan
 * that records and checks it.
 */
import { describe, expect, it } from 'vitest';
import { sweepPlan, type SweepPlanSettings } from '../../src/lab/runPlan';
import { RUN_CSV_COLUMNS, runCsvRecord } from '../../src/results/runsCsv';
import { SUMMARY_CSV_COLUMNS, summaryCsv } from '../../src/results/summaryCsv';
import { measuresAlpha } from '../../src/results/strategy';
import { groupKey, summarizeRows, variantLabel } from '../../src/results/summary';
import { predictFromSweep } from '../../src/results/theory';
import { RunRow } from '../../src/shared/protocol';
import { runRow } from '../support/helpers';

const base = runRow({ mode: 'baseline', k: null, speedup: null, acceptanceTarget: null });

describe('controlled acceptance in the summary', () => {
  it('groups each target apart, and keeps real drafting’s key and label as they were', () => {
    const real = runRow({ k: 4, drafter: 'model', policy: 'fixed' });
    const at08 = runRow({ k: 4, drafter: 'model', policy: 'fixed', acceptanceTarget: 0.8 });
    expect(groupKey(real)).toBe('speculative:model:fixed:4');
    expect(groupKey({ ...real, acceptanceTarget: null })).toBe('speculative:model:fixed:4');
    expect(groupKey(at08)).toBe('speculative:model:fixed:4:a0.8');
    expect(variantLabel(at08, false)).toBe('K=4 alpha 0.8');
    expect(variantLabel(at08, true)).toBe('K=4 alpha 0.8 model / fixed');
    expect(variantLabel(real, false)).toBe('K=4');
  });

  it('one summary row per target and K, ordered by target then K', () => {
    const rows = [0.9, 0.6].flatMap((a) =>
      [4, 2].map((k) => runRow({ k, drafter: 'model', policy: 'fixed', acceptanceTarget: a })),
    );
    const summary = summarizeRows([base, ...rows]);
    expect(summary.map((s) => [s.mode, s.acceptanceTarget, s.k])).toEqual([
      ['baseline', null, null],
      ['speculative', 0.6, 2],
      ['speculative', 0.6, 4],
      ['speculative', 0.9, 2],
      ['speculative', 0.9, 4],
    ]);
  });

  it('sums the per-step histograms, pools accepted over tested, and takes each time part’s median', () => {
    const rows = [
      runRow({
        k: 2,
        acceptanceTarget: 0.8,
        acceptedTokens: 5,
        draftTokensTested: 7,
        meanAcceptanceLength: 2,
        acceptedPerStepHistogram: [1, 1, 2],
        timeSplit: { draftS: 0.1, targetS: 0.5, otherS: 0.1 },
      }),
      runRow({
        k: 2,
        acceptanceTarget: 0.8,
        repeat: 1,
        acceptedTokens: 3,
        draftTokensTested: 5,
        meanAcceptanceLength: 3,
        acceptedPerStepHistogram: [2, 0, 1],
        timeSplit: { draftS: 0.3, targetS: 0.7, otherS: 0.3 },
      }),
    ];
    const [row] = summarizeRows(rows);
    expect(row!.acceptedPerStepHistogram).toEqual([3, 1, 3]);
    expect(row!.acceptancePerTested).toBe(8 / 12);
    expect(row!.meanAcceptanceLength?.median).toBe(2.5);
    expect(row!.timeSplit).toEqual({ draftS: 0.2, targetS: 0.6, otherS: 0.2 });
    // rows saved before these metrics: none of them
    const [old] = summarizeRows([runRow()]);
    expect(old).toMatchObject({
      acceptedPerStepHistogram: null,
      acceptancePerTested: null,
      meanAcceptanceLength: null,
      timeSplit: null,
    });
  });

  it('the summary CSV tells the targets apart with a column of its own, only where there are any', () => {
    const rows = [0.6, 0.9].map((a) => runRow({ k: 2, acceptanceTarget: a }));
    const [header, , first, second] = summaryCsv([base, ...rows])
      .trim()
      .split('\n');
    expect(header!.split(',').slice(0, 5)).toEqual([
      'Mode',
      'K',
      'Policy',
      'Drafter',
      'Acceptance Target',
    ]);
    expect(first!.split(',').slice(0, 5)).toEqual(['speculative', '2', '', '', '0.6']);
    expect(second!.split(',')[4]).toBe('0.9');
    const real = summaryCsv([base, runRow({ k: 2 })]).split('\n')[0];
    expect(real).toBe(SUMMARY_CSV_COLUMNS.join(','));
  });

  it('a controlled K=1 run does not measure the pair’s alpha', () => {
    const controlled = runRow({ k: 1, acceptanceRate: 0.9, acceptanceTarget: 0.9 });
    const real = runRow({ k: 1, acceptanceRate: 0.4, acceptanceTarget: null });
    expect(measuresAlpha(controlled)).toBe(false);
    expect(measuresAlpha(real)).toBe(true);
    expect(predictFromSweep([controlled, real], 0.2)?.alpha).toBe(0.4);
    expect(predictFromSweep([controlled], 0.2)).toBeNull();
  });
});

describe('the engines’ metrics in the row and the CSV', () => {
  const row = runRow({
    k: 3,
    acceptanceTarget: 0.8,
    meanAcceptanceLength: 2.5,
    acceptedPerStepHistogram: [1, 0, 2, 1],
    draftTokensTested: 9,
    timeSplit: { draftS: 0.25, targetS: 0.5, otherS: 0.25 },
  });
  const context = {
    prompts: ['p'],
    models: { target: 't', draft: 'd' },
    dtypes: { target: 'fp32', draft: 'fp32' },
    sampling: null,
    repetition: null,
  };

  it('are columns of their own names, the histogram space-separated', () => {
    for (const col of [
      'acceptanceTarget',
      'meanAcceptanceLength',
      'acceptedPerStepHistogram',
      'draftTokensTested',
      'draftS',
      'targetS',
      'otherS',
    ])
      expect(RUN_CSV_COLUMNS).toContain(col);
    expect(runCsvRecord(row, context)).toMatchObject({
      acceptanceTarget: 0.8,
      meanAcceptanceLength: 2.5,
      acceptedPerStepHistogram: '1 0 2 1',
      draftTokensTested: 9,
      draftS: 0.25,
      targetS: 0.5,
      otherS: 0.25,
    });
    // a row saved before them has empty cells, not zeros
    expect(runCsvRecord(runRow(), context)).toMatchObject({
      acceptanceTarget: null,
      acceptedPerStepHistogram: null,
      draftS: null,
    });
  });

  it('the protocol keeps them in range, and reads rows saved before them', () => {
    expect(RunRow.safeParse(row).success).toBe(true);
    expect(RunRow.safeParse(runRow()).success).toBe(true);
    expect(RunRow.safeParse({ ...row, acceptanceTarget: 1.5 }).success).toBe(false);
    expect(RunRow.safeParse({ ...row, meanAcceptanceLength: 0.5 }).success).toBe(false);
    expect(
      RunRow.safeParse({ ...row, timeSplit: { draftS: -1, targetS: 0, otherS: 0 } }).success,
    ).toBe(false);
  });
});

describe('the run plan', () => {
  const settings: SweepPlanSettings = {
    prompts: ['Once upon a time'],
    maxNewTokens: 24,
    ks: [1, 2, 4],
    repeats: 2,
    policies: ['fixed', 'heuristic'],
    drafters: ['model'],
    pMin: 0.5,
    sampling: null,
    repetition: null,
  };

  it('records the acceptance targets last in the config, and leaves them out when not asked', () => {
    const config = sweepPlan(settings, { acceptance: [0.6, 0.8] });
    expect(Object.keys(config).at(-1)).toBe('acceptance');
    expect(config.acceptance).toEqual([0.6, 0.8]);
    expect(sweepPlan(settings)).not.toHaveProperty('acceptance');
  });

  it('refuses, before any model work, what controlled acceptance cannot run with', () => {
    expect(() =>
      sweepPlan({ ...settings, policies: ['confidence'] }, { acceptance: [0.8] }),
    ).toThrow(/confidence policy/);
    expect(() =>
      sweepPlan(
        { ...settings, sampling: { temperature: 0.8, topK: 0, topP: 1, seed: 1 } },
        { acceptance: [0.8] },
      ),
    ).toThrow(/needs greedy decoding/);
    expect(() => sweepPlan(settings, { acceptance: [0] })).toThrow(/between 0 and 1/);
  });
});
