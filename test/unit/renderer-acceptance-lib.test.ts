/**
 * The renderer's pure logic for controlled acceptance (issue 34): the targets typed in the
 * set-up and the engine's refusals said at that control, the chosen run's engine metrics and
 * histogram, the time split per configuration, and the heat map's colour scale.
 */
import { describe, expect, it } from 'vitest';
import { runRow } from '../support/helpers';
import { summarizeRows } from '../../src/results/summary';
import { MAX_ACCEPTANCE_TARGETS } from '../../src/shared/limits';
import {
  acceptanceRefusal,
  addAcceptanceTargets,
} from '../../src/renderer/src/lib/setupValidation';
import {
  histogramData,
  positionData,
  runEngineMetrics,
  timeSplitData,
} from '../../src/renderer/src/lib/runMetricsData';
import { heatColours, heatScale } from '../../src/renderer/src/lib/heatScale';
import {
  strategyGroups,
  theoryReference,
  timeChartData,
} from '../../src/renderer/src/lib/chartData';

describe('acceptance targets in the set-up', () => {
  it('adds targets strictly between 0 and 1, once each, sorted; refuses the rest with why', () => {
    expect(addAcceptanceTargets([0.8], '0.6, 0.9 .5')).toEqual({
      ok: true,
      targets: [0.5, 0.6, 0.8, 0.9],
    });
    for (const [text, words] of [
      ['', /Type an acceptance target/],
      ['1', /between 0 and 1, both excluded \(got 1\)/],
      ['0', /got 0/],
      ['-0.2', /got -0.2/],
      ['abc', /must be a number/],
      ['0.8', /0\.8 is already in the list/],
      ['0.6 0.6', /0\.6 is already in the list/],
    ] as const) {
      const result = addAcceptanceTargets([0.8], text);
      expect(result.ok, text).toBe(false);
      if (!result.ok) expect(result.message).toMatch(words);
    }
    const full = Array.from({ length: MAX_ACCEPTANCE_TARGETS }, (_, i) => (i + 1) / 100);
    const over = addAcceptanceTargets(full, '0.5');
    expect(over.ok).toBe(false);
    if (!over.ok) expect(over.message).toContain(`At most ${MAX_ACCEPTANCE_TARGETS}`);
  });

  it('says why the engine refuses them with sampling, prompt lookup or the confidence policy', () => {
    const runs = {
      sampling: false,
      drafters: ['model'],
      policies: ['fixed', 'heuristic'],
    } as const;
    expect(acceptanceRefusal(runs)).toBeNull();
    expect(acceptanceRefusal({ ...runs, sampling: true })).toMatch(
      /needs greedy decoding.*Choose Greedy under Decoding/,
    );
    expect(acceptanceRefusal({ ...runs, drafters: ['model', 'prompt-lookup'] })).toMatch(
      /prompt lookup makes no draft-model passes.*Untick Prompt lookup/,
    );
    expect(acceptanceRefusal({ ...runs, policies: ['confidence'] })).toMatch(
      /Untick Confidence under Draft length policy/,
    );
    // every reason at once, and the way out that always works
    const all = acceptanceRefusal({
      sampling: true,
      drafters: ['prompt-lookup'],
      policies: ['confidence'],
    })!;
    expect(all).toMatch(/Greedy.*Prompt lookup.*Confidence.*remove the acceptance targets\.$/);
  });
});

describe('the chosen run and the time split', () => {
  const controlled = runRow({
    k: 3,
    acceptanceTarget: 0.8,
    draftedTokens: 12,
    acceptedTokens: 7,
    verificationSteps: 4,
    draftTokensTested: 9,
    meanAcceptanceLength: 2.75,
    acceptedPerStepHistogram: [1, 0, 1, 2],
    acceptanceByPosition: [0.75, 0.75, 0.5],
    timeSplit: { draftS: 0.2, targetS: 0.6, otherS: 0.2 },
  });

  it('reads the chosen run’s counts; a baseline has none', () => {
    expect(runEngineMetrics(controlled)).toEqual({
      k: 3,
      drafted: 12,
      accepted: 7,
      tested: 9,
      verificationSteps: 4,
      acceptanceRate: 0.6,
      meanAcceptanceLength: 2.75,
      histogramTotal: 4,
      acceptanceTarget: 0.8,
    });
    expect(runEngineMetrics(runRow({ mode: 'baseline', k: null }))).toBeNull();
  });

  it('draws the histogram 0..K and acceptance by position 1..K; nothing for runs without them', () => {
    const histogram = histogramData(controlled)!;
    expect(histogram.labels).toEqual(['0', '1', '2', '3']);
    expect(histogram.datasets[0]!.data).toEqual([1, 0, 1, 2]);
    expect(positionData(controlled)!.labels).toEqual(['1', '2', '3']);
    expect(histogramData(runRow())).toBeNull();
    expect(positionData(runRow())).toBeNull();
  });

  it('stacks draft, target and other time per configuration, baseline first, labelled as the table', () => {
    const rows = [
      runRow({
        runId: 'b',
        mode: 'baseline',
        k: null,
        timeSplit: { draftS: 0, targetS: 0.9, otherS: 0.1 },
      }),
      controlled,
      runRow({ runId: 'old', k: 2 }), // saved before the split: no bar
    ];
    const data = timeSplitData(summarizeRows(rows), false);
    expect(data.labels).toEqual(['Baseline', 'K=3 alpha 0.8']);
    expect(data.datasets.map((d) => d.label)).toEqual([
      'Draft passes',
      'Target passes',
      'Other (crops, verification, events)',
    ]);
    expect(data.datasets.map((d) => d.data)).toEqual([
      [0, 0.2],
      [0.9, 0.6],
      [0.1, 0.2],
    ]);
  });
});

describe('the heat map’s colour scale', () => {
  it('is near white at 1x, green above and red below, as far as the values reach', () => {
    const scale = heatScale([0.5, 1.4, null, 2]);
    expect(scale).toEqual({ min: 0.5, max: 2 });
    expect(heatScale([1])).toEqual({ min: 0.9, max: 1.1 });
    expect(heatColours(1, scale).background).toBe('hsl(142 55% 96%)');
    expect(heatColours(2, scale).background).toMatch(/^hsl\(142 /);
    expect(heatColours(0.5, scale).background).toMatch(/^hsl\(0 /);
    // dark shades carry white text, light ones dark text; a missing value is grey
    expect(heatColours(2, scale).text).toBe('#ffffff');
    expect(heatColours(1.05, scale).text).toBe('#111827');
    expect(heatColours(null, scale).background).toBe('#f3f4f6');
  });
});

describe('K charts of a sweep with controlled acceptance', () => {
  const rows = [
    runRow({ runId: 'b', mode: 'baseline', k: null }),
    ...[0.5, 0.9].flatMap((a) =>
      [1, 2, 4].map((k) =>
        runRow({
          runId: `${a}-${k}`,
          k,
          acceptanceTarget: a,
          drafter: 'model',
          policy: 'fixed',
          timeS: 1 / (k * a),
        }),
      ),
    ),
  ];

  it('draws one curve per target over K, never one zig-zagging through both', () => {
    const groups = strategyGroups(summarizeRows(rows));
    expect(groups.map((g) => [g.name, g.rows.map((r) => r.k)])).toEqual([
      ['alpha 0.5', [1, 2, 4]],
      ['alpha 0.9', [1, 2, 4]],
    ]);
    const series = timeChartData(summarizeRows(rows)).datasets.map((d) => d.label);
    expect(series).toContain('alpha 0.5');
    expect(series).toContain('alpha 0.9');
  });

  it('compares only real drafting with Leviathan’s formula: none in a controlled-only sweep', () => {
    expect(theoryReference(summarizeRows(rows))).toBeNull();
    const real = runRow({ runId: 'real', k: 1, drafter: 'model', policy: 'fixed' });
    const withReal = strategyGroups(summarizeRows([...rows, real]));
    expect(withReal.map((g) => g.name)).toEqual(['model / fixed', 'alpha 0.5', 'alpha 0.9']);
    expect(theoryReference(summarizeRows([...rows, real]))?.acceptanceTarget).toBeNull();
  });
});
