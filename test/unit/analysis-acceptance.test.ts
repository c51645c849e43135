/**
 * The analysis of a controlled-acceptance sweep (issue 34): "Which K at which alpha" from the
 * grid, questions 1 to 4 on one alpha (never two runs of one K from different alphas), the
 * planned runs counted per target, and "Where the time goes" with its 2% check.
 */
import { describe, expect, it } from 'vitest';
import { analysisMarkdown, analyzeSweep, type AnalysisInput } from '../../src/results/analysis';
import { sweepAcceptanceGrid } from '../../src/results/acceptanceGrid';
import { expectedSpeedupMeasuredCost } from '../../src/results/theory';
import type { RunRow } from '../../src/shared/protocol';
import { runRow } from '../support/helpers';

const REPEATS = [0, 1, 2];
const split = (timeS: number, draft: number) => ({
  draftS: timeS * draft,
  targetS: timeS * (0.9 - draft),
  otherS: timeS * 0.1,
});

const baselines = REPEATS.map((repeat) =>
  runRow({
    mode: 'baseline',
    k: null,
    repeat,
    timeS: 1,
    speedup: null,
    drafter: null,
    policy: null,
    acceptanceTarget: null,
    draftedTokens: 0,
    acceptedTokens: 0,
    acceptanceRate: null,
    timeSplit: split(1, 0),
  }),
);

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
      targetPasses: 40 - 10 * k - (alpha > 0.7 ? 5 : 0),
      acceptedTokens: Math.round(10 * alpha),
      draftTokensTested: 10,
      timeSplit: split(timeS, 0.1 * k),
    }),
  );
}

// alpha 0.5: K=1 is fastest but not a win; alpha 0.9: K=2 beats everything in every run
const rows: RunRow[] = [
  ...baselines,
  ...config(0.5, 1, [0.99, 1.01, 1.0]),
  ...config(0.5, 2, [1.2, 1.22, 1.18]),
  ...config(0.9, 1, [0.8, 0.8, 0.8]),
  ...config(0.9, 2, [0.5, 0.52, 0.51]),
];
const costs = { c: 0.1, verifyCost: { '1': 1.1, '2': 1.2 } };

function input(over: Partial<AnalysisInput> = {}): AnalysisInput {
  return {
    rows,
    theory: null,
    prompts: ['Artificial intelligence is'],
    models: { target: 'target-model', draft: 'draft-model' },
    settings: {
      maxNewTokens: 100,
      ks: [1, 2],
      repeats: 3,
      policies: ['fixed'],
      drafters: ['model'],
      sampling: null,
      acceptance: [0.5, 0.9],
    },
    status: 'finished',
    costs,
    ...over,
  };
}

describe('analysis of a controlled-acceptance sweep', () => {
  it('answers which K at which alpha with the grid’s sentences and tables', () => {
    const a = analyzeSweep(input());
    const grid = sweepAcceptanceGrid(rows, costs, null)!;
    expect(a.acceptanceGrid).toEqual(grid);
    expect(a.kAtAlpha!.answers).toEqual([
      'At alpha 0.5 on this machine, no K beat the baseline: the fastest, K=1 (1.00x), was not faster beyond noise over 3 repeats paired run for run.',
      'At alpha 0.9 on this machine, K=2 (1.96x); no other K within noise.',
    ]);
    const [measured, predicted, ratio, best] = a.kAtAlpha!.tables;
    expect(measured!.head).toEqual(['alpha', 'K=1', 'K=2']);
    expect(measured!.rows).toEqual([
      ['0.5', '1.00x (fastest, not a win)', '0.83x'],
      ['0.9', '1.25x', '1.96x (best)'],
    ]);
    const p = expectedSpeedupMeasuredCost(0.9, 0.1, 2, 1.2);
    expect(predicted!.rows[1]![2]).toBe(
      `${p.toFixed(2)}x${p > expectedSpeedupMeasuredCost(0.9, 0.1, 1, 1.1) ? ' (best)' : ''}`,
    );
    expect(ratio!.rows[1]![2]).toBe((1 / 0.51 / p).toFixed(2));
    expect(best!.rows.map((r) => r.slice(0, 5))).toEqual([
      ['0.5', '1', '1.00x', '-', 'no'],
      ['0.9', '2', '1.96x', '-', 'yes'],
    ]);
    expect(a.kAtAlpha!.points[0]).toMatch(/^Your pair's own alpha is not in this sweep/);

    // the Markdown: the section first, the sentences in bold, the time split last
    const md = analysisMarkdown(a);
    const at = md.indexOf('## Which K at which alpha');
    expect(at).toBeGreaterThan(md.indexOf('## Results'));
    expect(at).toBeLessThan(md.indexOf('## 1. '));
    expect(md.indexOf('## Where the time goes')).toBeGreaterThan(md.indexOf('## 5. '));
    for (const s of a.kAtAlpha!.answers) expect(md).toContain(`- **${s}**`);
  });

  it('places the pair on the heat map when it has its own alpha (an earlier sweep’s theory)', () => {
    const a = analyzeSweep(input({ theory: { alpha: 0.84, c: 0.1, bestK: 4 } }));
    expect(a.acceptanceGrid!.pair).toMatchObject({
      alpha: 0.84,
      source: 'given',
      nearestAlpha: 0.9,
    });
    expect(a.kAtAlpha!.tables[0]!.rows[1]![0]).toBe('0.9 (your pair sits here: 0.84)');
    expect(a.kAtAlpha!.points[0]).toMatch(/^Your pair sits at alpha 0\.84 .* where K=2 was best/);
  });

  it('answers questions 1 to 4 at one alpha, the best configuration’s, predicted at it', () => {
    const a = analyzeSweep(input());
    expect(a.series.map((p) => p.k)).toEqual([1, 2]);
    expect(a.seriesLabel).toBe('model / fixed at alpha 0.9');
    expect(a.series.map((p) => p.timeS.median)).toEqual([0.8, 0.51]);
    expect(a.alpha).toBe(0.9);
    expect(a.theory).toMatchObject({ alpha: 0.9, c: 0.1, verifyCost: costs.verifyCost });
    expect(a.series[1]!.predictedMeasuredCost).toBe(expectedSpeedupMeasuredCost(0.9, 0.1, 2, 1.2));
    expect(a.notes.join(' ')).toContain(
      'Acceptance is controlled (--acceptance 0.5,0.9): questions 1 to 4 are answered at alpha 0.9',
    );
    expect(a.notes.join(' ')).not.toContain('No Leviathan prediction');
    const accepted = a.sections.find((s) => s.id === 'accepted')!;
    expect(accepted.points.join(' ')).toContain('with a = 0.900 (the acceptance target)');
    // 2 tokens per pass at K=2 against the expected 2.71: the draws' spread, not the text
    expect(accepted.points.join(' ')).toContain(
      "fell short of it at K=2: the oracle accepts each tested draft independently at rate a, so the gap is the draws' spread",
    );
    // without the pair's costs (a cancelled sweep): no theory, and the report says why
    const blind = analyzeSweep(input({ costs: null, status: 'cancelled' }));
    expect(blind.theory).toBeNull();
    expect(blind.notes.join(' ')).toContain(
      'No Leviathan prediction for this sweep: the cost ratio c is only measured after a sweep finishes. Expected tokens per pass still use alpha = 0.9, the acceptance target.',
    );
    expect(blind.kAtAlpha!.tables).toHaveLength(2);
  });

  it('plans each target’s runs: what a partial sweep misses is named with its alpha', () => {
    const partial = rows.filter(
      (r) => !(r.acceptanceTarget === 0.9 && r.k === 2 && r.repeat === 2),
    );
    const a = analyzeSweep(input({ rows: partial, status: 'cancelled' }));
    expect(a.runsPlanned).toBe(15);
    expect(a.missing).toEqual(['K=2 alpha 0.9 (2 of 3 runs)']);
  });

  it('says where the time goes per configuration, from its median run', () => {
    const a = analyzeSweep(input());
    const t = a.timeSplit!;
    expect(t.answers[0]).toMatch(
      /^Every run's time splits .* within 2% \(the largest gap: 0\.0% of a run\)\.$/,
    );
    const table = t.tables[0]!;
    expect(table.rows.map((r) => r[0])).toEqual([
      'Baseline',
      'K=1 alpha 0.5',
      'K=2 alpha 0.5',
      'K=1 alpha 0.9',
      'K=2 alpha 0.9',
    ]);
    // K=2 alpha 0.9: its median run took 0.51 s, 20% drafting, 70% target, 10% the rest
    expect(table.rows[4]).toEqual([
      'K=2 alpha 0.9',
      '0.510',
      '0.102',
      '0.357',
      '0.051',
      '20%',
      '70%',
      '10%',
      '0.0%',
    ]);
    expect(t.points.join(' ')).toContain('At alpha 0.9, from K=1 to K=2, the draft model');
  });

  it('says which runs’ parts do not sum to their time within 2%', () => {
    const off = rows.map((r) =>
      r.mode === 'speculative' && r.k === 1 && r.acceptanceTarget === 0.5 && r.repeat === 0
        ? { ...r, timeSplit: { ...r.timeSplit!, otherS: r.timeSplit!.otherS + 0.05 * r.timeS } }
        : r,
    );
    const t = analyzeSweep(input({ rows: off })).timeSplit!;
    expect(t.answers[0]).toBe(
      "1 of 15 runs' parts do not sum to their time within 2% (the largest gap: 5.0% of a run), so those runs' shares below do not add up to 100%.",
    );
    expect(t.tables[0]!.rows[1]!.at(-1)).toBe('5.0% (over 2%)');
  });

  it('a real-drafting sweep has no K x alpha section; runs without a split have no time section', () => {
    const real = [
      ...baselines,
      ...REPEATS.map((repeat) =>
        runRow({
          k: 2,
          repeat,
          timeS: 0.5,
          speedup: 2,
          acceptanceTarget: null,
          timeSplit: split(0.5, 0.2),
        }),
      ),
    ];
    const a = analyzeSweep(
      input({ rows: real, settings: { ...input().settings, ks: [2], acceptance: undefined } }),
    );
    expect(a.acceptanceGrid).toBeNull();
    expect(a.kAtAlpha).toBeNull();
    expect(a.timeSplit).not.toBeNull();
    expect(analysisMarkdown(a)).not.toContain('Which K at which alpha');
    const old = real.map(({ timeSplit: _, ...r }) => r);
    expect(analyzeSweep(input({ rows: old })).timeSplit).toBeNull();
  });
});
