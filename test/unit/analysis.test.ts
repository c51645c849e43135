/**
 * The analysis over synthetic sweeps: the five answers carry the sweep's own numbers (best K,
 * pass reduction, speedup and its spread, identical or not), and partial sweeps, missing theory,
 * no speculative rows, one K, sampling, drafter/policy comparisons and prompt sets are said as such.
 */
import { describe, expect, it } from 'vitest';
import {
  analysisMarkdown,
  analyzeSweep,
  type AnalysisInput,
  type AnalysisSettings,
} from '../../src/results/analysis';
import { analysisChartsSvg } from '../../src/results/analysisCharts';
import { markdownText } from '../../src/results/analysis/markdown';
import { trendWords } from '../../src/results/analysis/trend';
import { bestOf, bestSentence, summarizeRows } from '../../src/results/summary';
import { fixed, percent } from '../../src/shared/format';
import type { RunRow, Theory } from '../../src/shared/protocol';
import type { DraftPolicyName, DrafterKind } from '../../src/shared/decoding';
import { escapeXml, lineChartSvg, niceStep } from '../../src/results/svgChart';
import {
  bestPredictedK,
  expectedSpeedup,
  expectedSpeedupMeasuredCost,
  expectedTokensPerPass,
  predictFromSweep,
} from '../../src/results/theory';

const N = 100;

interface Spec {
  k: number | null;
  timeS: number;
  passes: number;
  drafted?: number;
  accepted?: number;
  repeat?: number;
  promptIndex?: number;
  identical?: boolean;
  drafter?: DrafterKind;
  policy?: DraftPolicyName;
  baselineTime?: number;
  mode?: RunRow['mode'];
}

let runNo = 0;

function row(s: Spec): RunRow {
  const mode = s.mode ?? (s.k === null ? 'baseline' : 'speculative');
  const spec = mode === 'speculative';
  const drafted = spec ? (s.drafted ?? 0) : 0;
  const accepted = spec ? (s.accepted ?? 0) : 0;
  const baselineTime = s.baselineTime ?? 1;
  return {
    runId: `run-${runNo++}`,
    mode,
    k: spec ? s.k : null,
    repeat: s.repeat ?? 0,
    promptIndex: s.promptIndex ?? 0,
    newTokens: N,
    targetPasses: s.passes,
    draftPasses: drafted,
    verificationSteps: spec ? s.passes : 0,
    draftedTokens: drafted,
    acceptedTokens: accepted,
    corrections: spec ? s.passes - 5 : 0,
    bonuses: spec ? 5 : 0,
    acceptanceRate: spec && drafted > 0 ? accepted / drafted : null,
    tokensPerTargetPass: N / s.passes,
    timeS: s.timeS,
    targetRunS: s.timeS * 0.8,
    draftRunS: spec ? s.timeS * 0.15 : 0,
    speedup: baselineTime / s.timeS,
    identical: s.identical ?? true,
    stopReason: 'max-new-tokens',
    policy: spec ? (s.policy ?? 'fixed') : null,
    drafter: spec ? (s.drafter ?? 'model') : null,
    outputText: ' the same continuation',
    outputTokenIds: [1, 2, 3],
  };
}

/** K=2 is fastest; time rises past it; passes fall with K. */
function greedyRows(repeat = 0, jitter = 0, promptIndex = 0): RunRow[] {
  const base = 1 + jitter;
  const opts = { repeat, promptIndex, baselineTime: base };
  return [
    row({ k: null, timeS: base, passes: 100, ...opts }),
    row({ k: 1, timeS: 0.8 + jitter, passes: 60, drafted: 60, accepted: 40, ...opts }),
    row({ k: 2, timeS: 0.6 + jitter, passes: 40, drafted: 80, accepted: 60, ...opts }),
    row({ k: 3, timeS: 0.7 + jitter, passes: 35, drafted: 105, accepted: 65, ...opts }),
    row({ k: 4, timeS: 0.9 + jitter, passes: 33, drafted: 132, accepted: 67, ...opts }),
  ];
}

const settings = (over: Partial<AnalysisSettings> = {}): AnalysisSettings => ({
  maxNewTokens: N,
  ks: [1, 2, 3, 4],
  repeats: 1,
  policies: ['fixed'],
  drafters: ['model'],
  sampling: null,
  ...over,
});

const alpha = 40 / 60;
const theory: Theory = { alpha, c: 0.1, bestK: bestPredictedK(alpha, 0.1) };

function input(over: Partial<AnalysisInput> = {}): AnalysisInput {
  return {
    rows: greedyRows(),
    theory,
    prompts: ['Artificial intelligence is'],
    models: { target: 'target-model', draft: 'draft-model' },
    settings: settings(),
    status: 'finished',
    ...over,
  };
}

const section = (a: ReturnType<typeof analyzeSweep>, id: string) =>
  a.sections.find((s) => s.id === id)!;
const text = (a: ReturnType<typeof analyzeSweep>, id: string): string => {
  const s = section(a, id);
  return [s.answer, ...s.points].join(' ');
};

describe('analyzeSweep', () => {
  it('answers the five questions in order from the numbers of a finished greedy sweep', () => {
    const a = analyzeSweep(input());
    expect(a.sections.map((s) => [s.number, s.id])).toEqual([
      [1, 'passes'],
      [2, 'time'],
      [3, 'accepted'],
      [4, 'tradeoffs'],
      [5, 'baseline'],
    ]);
    expect(a.measuredBestK).toBe(2);
    expect(a.best?.k).toBe(2);
    expect(a.best?.speedup.median).toBeCloseTo(1 / 0.6, 12);
    expect(a.notes).toEqual([]);
    expect(a.runsDone).toBe(5);
    expect(a.runsPlanned).toBe(5);

    // 1: baseline 100 passes, 33 at K=4 (67% fewer) to 60 at K=1 (40% fewer)
    const passes = section(a, 'passes').answer;
    expect(passes).toContain("from the baseline's 100 to between 33 (K=4, 67% fewer)");
    expect(passes).toContain('60 (K=1, 40% fewer)');
    expect(text(a, 'passes')).toContain('100 / 3.03 = 33.0 passes (measured: 33)');
    expect(text(a, 'passes')).toContain('Passes fell with every larger K, from 60 at K=1 to 33');

    // 2: K=2 fastest, time rises past it; one run each measures no noise
    const time = text(a, 'time');
    expect(section(a, 'time').answer).toBe(
      "The fastest K was K=2 at 0.600 s, 1.67x the baseline's 1.000 s (one run each: noise not measured).",
    );
    expect(time).toContain('Past K=2 time rose with every larger K: K=3 0.700 s and K=4 0.900 s');
    expect(time).toContain(
      'Each K ran once, too few to measure how much these times vary between runs',
    );
    expect(time).not.toContain('optimum');
    expect(time).toContain('c = 0.100');

    // 3: tokens per pass rises; acceptance peaks at K=2 (75.0%), and the sentence says so
    const acc = text(a, 'accepted');
    expect(section(a, 'accepted').answer).toBe(
      'Tokens per target verification rose with every larger K, from 1.67 at K=1 to 3.03 at K=4. The share of drafts accepted rose from 66.7% at K=1 to 75.0% at K=2, then fell to 50.8% at K=4.',
    );
    expect(acc).toContain(`${expectedTokensPerPass(alpha, 4).toFixed(2)} at K=4`);
    const k4 = a.series.find((p) => p.k === 4)!;
    expect(k4.expectedTokensPerPass).toBeCloseTo(expectedTokensPerPass(alpha, 4), 12);
    expect(k4.wastedDrafts).toBe(132 - 67);

    // 4: predicted vs measured best K; wasted drafts
    const trade = text(a, 'tradeoffs');
    expect(a.predictedBestK).toBe(theory.bestK);
    expect(section(a, 'tradeoffs').answer).toContain(
      `Leviathan's formula predicts K=${theory.bestK} as best`,
    );
    expect(section(a, 'tradeoffs').answer).toContain(
      'this sweep measured K=2 as best (1.67x; one run each: noise not measured)',
    );
    expect(trade).toContain('K=1 drafted 60 tokens per run and wasted 20 of them (33%');
    expect(trade).toContain('K=4 drafted 132 tokens per run and wasted 65 of them (49%');

    // 5: best vs baseline, lossless
    expect(section(a, 'baseline').answer).toBe(
      'The best configuration, K=2, needed 40 target passes instead of 100 (60% fewer) and took 0.600 s instead of 1.000 s: a speedup of 1.67x.',
    );
    expect(text(a, 'baseline')).toContain(
      "all 4 speculative runs reproduced the baseline's tokens exactly",
    );
    expect(text(a, 'baseline')).toContain('lossless');
  });

  it('gives the speedup spread with repeats, and says why overlapping times do not undo the verdict', () => {
    const rows = [...greedyRows(0, 0), ...greedyRows(1, 0.05), ...greedyRows(2, -0.05)];
    const a = analyzeSweep(input({ rows, settings: settings({ repeats: 3 }) }));
    expect(a.best?.k).toBe(2);
    expect(a.best?.runs).toBe(3);
    // speedups of K=2: 1/0.6, 1.05/0.65, 0.95/0.55
    expect(section(a, 'baseline').answer).toContain(
      `${(1.05 / 0.65).toFixed(2)}x to ${(0.95 / 0.55).toFixed(2)}x over its 3 runs`,
    );
    // K=3 spans 0.65..0.75 s, K=2 0.55..0.65 s: they touch, but paired with the baseline of
    // their own repeat K=2 wins every time
    expect(text(a, 'time')).toContain(
      "Over all runs the times of K=3 (0.650 s to 0.750 s) and K=2 (0.550 s to 0.650 s) overlap because the machine's speed drifted between repeats, but compared run for run (the same repeat) K=2 was faster beyond noise.",
    );
    expect(text(a, 'time')).not.toContain('not clearly separated');
    expect(a.summary.rows.find((r) => r[0] === 'K=2')![2]).toBe('0.600 (0.550 to 0.650)');
  });

  it('says which greedy runs differed from the baseline', () => {
    const rows = greedyRows().map((r) => (r.k === 3 ? { ...r, identical: false } : r));
    const a = analyzeSweep(input({ rows }));
    expect(text(a, 'baseline')).toContain(
      "1 of 4 speculative runs differed from the baseline's tokens: K=3 (1 of 1)",
    );
    expect(text(a, 'baseline')).not.toContain('reproduced');
  });

  it('does not expect identical outputs from a sampled sweep', () => {
    const rows = greedyRows().map((r) =>
      r.mode === 'speculative' && r.k !== 2 ? { ...r, identical: false } : r,
    );
    const sampling = { temperature: 0.8, topK: 0, topP: 1, seed: 7 };
    const a = analyzeSweep(input({ rows, settings: settings({ sampling }) }));
    expect(a.decoding).toBe('sampled');
    const five = text(a, 'baseline');
    expect(five).toContain('identical outputs are not expected');
    expect(five).toContain('1 of 4 speculative runs happened to match');
    expect(five).toContain("keeps the target's output distribution");
    expect(five).not.toContain('differed');
    expect(a.context.join(' ')).toContain('sampled (temperature 0.8');
  });

  it('names the missing runs of a cancelled sweep and answers from the finished ones', () => {
    const rows = greedyRows().filter((r) => r.k === null || r.k <= 2);
    const a = analyzeSweep(input({ rows, theory: null, status: 'cancelled' }));
    expect(a.runsDone).toBe(3);
    expect(a.runsPlanned).toBe(5);
    expect(a.missing).toEqual(['K=3 (0 of 1 run)', 'K=4 (0 of 1 run)']);
    expect(a.notes).toContain(
      'The sweep was cancelled after 3 of 5 planned runs; the answers use the finished runs only.',
    );
    expect(a.notes).toContain('Missing runs: K=3 (0 of 1 run) and K=4 (0 of 1 run).');
    expect(a.notes.join(' ')).toContain('the cost ratio c is only measured after a sweep finishes');
    expect(a.measuredBestK).toBe(2);
    expect(text(a, 'time')).toContain('K=2 is the largest K tested');
    // no theory: no predicted K, but the expectation from the K=1 acceptance remains
    expect(a.predictedBestK).toBeNull();
    expect(section(a, 'tradeoffs').answer).toContain(
      'without a measured cost ratio c there is no predicted best K',
    );
    expect(text(a, 'accepted')).toContain('a = 0.667 (the K=1 acceptance)');
    expect(analysisMarkdown(a)).toContain('> Missing runs: K=3 (0 of 1 run) and K=4 (0 of 1 run).');
  });

  it('counts missing repeats and prompts, not only missing K values', () => {
    const rows = [...greedyRows(0), ...greedyRows(1).slice(0, 3)];
    const a = analyzeSweep(
      input({ rows, settings: settings({ repeats: 2 }), status: 'failed', theory: null }),
    );
    expect(a.missing).toEqual(['K=3 (1 of 2 runs)', 'K=4 (1 of 2 runs)']);
    expect(a.notes[0]).toContain('stopped early');
  });

  it('says why there is no theory when the sweep has no K=1 run', () => {
    const rows = greedyRows().filter((r) => r.k !== 1);
    const a = analyzeSweep(input({ rows, theory: null, settings: settings({ ks: [2, 3, 4] }) }));
    expect(a.alpha).toBeNull();
    expect(a.notes.join(' ')).toContain('no finished K=1 run drafted by the model');
    expect(a.series.every((p) => p.expectedTokensPerPass === null)).toBe(true);
    expect(text(a, 'accepted')).not.toContain('Leviathan');
  });

  it('says so when no speculative run finished', () => {
    const rows = greedyRows().filter((r) => r.mode !== 'speculative');
    const a = analyzeSweep(input({ rows, theory: null, status: 'cancelled' }));
    expect(a.series).toEqual([]);
    expect(a.best).toBeNull();
    expect(a.notes).toContain('No speculative run finished.');
    expect(section(a, 'passes').answer).toBe(
      'No speculative run finished; the baseline made 100 target passes for 100 new tokens.',
    );
    expect(section(a, 'time').answer).toBe(
      'No speculative run finished; the baseline took 1.000 s.',
    );
    expect(section(a, 'baseline').answer).toContain('nothing to compare with the baseline');
    expect(analysisChartsSvg(a)).toEqual({});
    const md = analysisMarkdown(a, { time: 'x-time.svg' });
    expect(md).not.toContain('x-time.svg');
  });

  it('handles a single K and a sweep without a baseline', () => {
    const one = analyzeSweep(
      input({
        rows: greedyRows().filter((r) => r.k === null || r.k === 3),
        settings: settings({ ks: [3] }),
        theory: null,
      }),
    );
    expect(one.notes).toContain('Only K=3 was measured, so trends over K cannot be seen.');
    expect(section(one, 'passes').answer).toBe(
      "With K=3 the target made 35 passes instead of the baseline's 100 (65% fewer).",
    );
    expect(text(one, 'tradeoffs')).toContain('Only K=3 was tested');

    const noBase = analyzeSweep(
      input({ rows: greedyRows().filter((r) => r.k !== null), status: 'failed' }),
    );
    expect(noBase.baseline).toBeNull();
    expect(noBase.notes.join(' ')).toContain('No baseline run finished');
    expect(noBase.missing).toEqual(['Baseline (0 of 1 run)']);
    // without a baseline the fastest K is the one with the lowest time
    expect(noBase.measuredBestK).toBe(2);
    expect(section(noBase, 'baseline').answer).toContain('No baseline run finished');
  });

  it('says when speculation saved nothing', () => {
    const rows = [
      row({ k: null, timeS: 1, passes: 100 }),
      row({ k: 1, timeS: 1.5, passes: 100, drafted: 99, accepted: 0 }),
      row({ k: 2, timeS: 2, passes: 100, drafted: 198, accepted: 0 }),
    ];
    const a = analyzeSweep(input({ rows, settings: settings({ ks: [1, 2] }), theory: null }));
    expect(section(a, 'passes').answer).toBe(
      'Speculative decoding did not reduce the target passes: every K needed 100, the same as the baseline.',
    );
    expect(section(a, 'time').answer).toContain('No K beat the baseline');
    expect(text(a, 'time')).toContain('No draft was accepted at any K');
    expect(text(a, 'tradeoffs')).toContain('did not raise tokens per pass');
    expect(section(a, 'baseline').answer).toContain('the same 100 target passes as the baseline');
    expect(section(a, 'baseline').answer).toContain('slower');
  });

  it('compares drafters and prompts: the best per drafter and the spread over prompts', () => {
    const lookup = (promptIndex: number, t: number): RunRow[] =>
      [1, 2, 3, 4].map((k) =>
        row({
          k,
          timeS: t + k * 0.05,
          passes: 70,
          drafted: 40,
          accepted: 30,
          drafter: 'prompt-lookup',
          promptIndex,
        }),
      );
    const rows = [
      ...greedyRows(0, 0, 0),
      ...lookup(0, 0.8),
      // on the second prompt prompt lookup wins
      ...greedyRows(0, 0.2, 1).map((r) => ({ ...r, speedup: 1.2 / r.timeS })),
      ...lookup(1, 0.5).map((r) => ({ ...r, speedup: 1.2 / r.timeS })),
    ];
    const a = analyzeSweep(
      input({
        rows,
        prompts: ['first prompt', 'second prompt'],
        settings: settings({ drafters: ['model', 'prompt-lookup'] }),
      }),
    );
    expect(a.seriesLabel).toBe('model / fixed');
    expect(a.notes.join(' ')).toContain('questions 1 to 4 are answered for model / fixed');
    const five = section(a, 'baseline');
    expect(five.points.join(' ')).toContain('Best per drafter / policy: model / fixed at K=');
    expect(five.points.join(' ')).toContain('prompt-lookup / fixed at K=1');
    expect(five.tables.map((t) => t.caption)).toEqual([
      'Best K per drafter / policy',
      'Per prompt (medians over repeats)',
    ]);
    const perPrompt = five.tables[1]!;
    expect(perPrompt.rows.map((r) => r[3])).toEqual([
      'K=2 model / fixed',
      'K=1 prompt-lookup / fixed',
    ]);
    expect(five.points.join(' ')).toMatch(/Across 2 prompts .* on median \(min .*, max .*\)/);
    // each prompt's and each drafter's own verdict, in the verdict's words
    expect(five.points.join(' ')).toContain(
      "Each prompt's own verdict (one run each: noise not measured): K=2 model / fixed best on 1 prompt and K=1 prompt-lookup / fixed best on 1 prompt.",
    );
    expect(five.tables[0]!.head.at(-1)).toBe('Verdict');
    expect(five.tables[0]!.rows.map((r) => r.at(-1))).toEqual([
      'fastest (noise not measured)',
      'fastest (noise not measured)',
    ]);
    expect(a.context.join(' ')).toContain('2 prompts');
  });
});

describe('analysisMarkdown', () => {
  it('has the five sections, the results table and the images where given', () => {
    const a = analyzeSweep(input());
    const md = analysisMarkdown(a, {
      time: 'r-time.svg',
      passes: 'r-passes.svg',
      acceptance: 'data:image/png;base64,AAAA',
    });
    const headings = md.split('\n').filter((l) => l.startsWith('## '));
    expect(headings).toEqual([
      '## Results',
      '## 1. Impact of K on target model passes',
      '## 2. Impact of K on wall-clock time',
      '## 3. Impact of K on average accepted tokens',
      '## 4. Trade-offs of K',
      '## 5. Comparison to baseline',
    ]);
    expect(md).toContain('| Configuration | Runs | Time (s) | Speedup |');
    expect(md).toContain('| K=2 | 1 | 0.600 | 1.67x | 40 | 2.50 | 75.0% | 80 | 20 | 1/1 |');
    expect(md).toContain('![Time and speedup vs K](r-time.svg)');
    expect(md).toContain('![Target passes vs K](r-passes.svg)');
    expect(md).toContain('(data:image/png;base64,AAAA)');
    // the time image sits in section 2
    expect(md.indexOf('r-time.svg')).toBeGreaterThan(md.indexOf('## 2.'));
    expect(md.indexOf('r-time.svg')).toBeLessThan(md.indexOf('## 3.'));
  });

  it('escapes table cells', () => {
    const a = analyzeSweep(input({ prompts: ['a | b', 'c'], rows: greedyRows() }));
    expect(analysisMarkdown(a)).toContain('a \\| b');
  });

  it("the Results table has the exercise's Output text sample, said once where every row's is the same", () => {
    const same = analyzeSweep(input());
    expect(same.summary.head.at(-1)).toBe('Output text sample');
    expect(same.summary.rows.map((r) => r.at(-1))).toEqual([
      'the same continuation',
      ...Array(4).fill('same as the baseline'),
    ]);
    const rows = greedyRows().map((r) =>
      r.k === 3 ? { ...r, outputText: ' another\nending' } : r,
    );
    const differs = analyzeSweep(input({ rows }));
    expect(differs.summary.rows.find((r) => r[0] === 'K=3')!.at(-1)).toBe('another ending');
    expect(differs.summary.rows.find((r) => r[0] === 'K=2')!.at(-1)).toBe('same as the baseline');
    // the text column is left-aligned in the Markdown
    expect(analysisMarkdown(same)).toMatch(/\| ---: \| --- \|\n\| Baseline /);
  });

  it('escapes user and model text everywhere: no heading, HTML or link passes through', () => {
    const hostile =
      'Tell me\n# Heading\n<script>alert(1)</script> [click](javascript:alert(1)) <img src=x onerror=alert(1)> *em* `code`';
    const rows = greedyRows().map((r) => ({
      ...r,
      outputText: `\n## out <img src=x onerror=alert(2)> ${hostile}`,
    }));
    const a = analyzeSweep(
      input({
        rows,
        prompts: [hostile],
        models: { target: '<b onmouseover=alert(3)>target</b>', draft: '[d](javascript:alert(4))' },
      }),
    );
    const md = analysisMarkdown(a);
    // the only headings are the report's own
    expect(md.split('\n').filter((l) => /^\s{0,3}#/.test(l))).toEqual([
      '# Speculative decoding: analysis and discussion',
      '## Results',
      '## 1. Impact of K on target model passes',
      '## 2. Impact of K on wall-clock time',
      '## 3. Impact of K on average accepted tokens',
      '## 4. Trade-offs of K',
      '## 5. Comparison to baseline',
    ]);
    expect(md).not.toMatch(/<(script|img|b)\b/i);
    // brackets escaped: no link can form
    expect(md).not.toMatch(/(^|[^\\])\]\(javascript:/m);
    expect(md).toContain('&lt;script>alert(1)&lt;/script>');
    expect(md).toContain('\\[click\\](javascript:alert(1))');
    expect(md).toContain(
      '- Target model: &lt;b onmouseover=alert(3)>target&lt;/b>; draft model: \\[d\\](javascript:alert(4)).',
    );
    expect(md).toContain('- Prompt: "Tell me # Heading &lt;script>');
    expect(md).toContain('\\*em\\* \\`code\\`');
    // the output sample, in its table cell
    expect(md).toContain('| ## out &lt;img src=x onerror=alert(2)>');
  });

  it('markdownText folds lines and escapes markup, leaving plain words as they are', () => {
    expect(markdownText('plain words, 1.67x (K=2)')).toBe('plain words, 1.67x (K=2)');
    expect(markdownText('a\r\n# b\nc')).toBe('a # b c');
    expect(markdownText('<a href="x">&amp;</a>')).toBe('&lt;a href="x">&amp;amp;&lt;/a>');
    expect(markdownText('![i](u) [l](javascript:x) *e* _u_ `c` ~s~ a|b \\')).toBe(
      '!\\[i\\](u) \\[l\\](javascript:x) \\*e\\* \\_u\\_ \\`c\\` \\~s\\~ a\\|b \\\\',
    );
  });
});

describe('lineChartSvg', () => {
  it('draws one polyline per series with points, axes, and escaped labels', () => {
    const svg = lineChartSvg({
      title: 'T <&> "x"',
      xLabel: 'K',
      yLabel: 'Time',
      y2Label: 'Speedup',
      series: [
        {
          label: 'a',
          points: [
            { x: 1, y: 0.5 },
            { x: 2, y: 0.25 },
          ],
          color: '#000',
        },
        { label: 'b', points: [{ x: 1, y: 1.2 }], color: '#111', axis: 'right', dashed: true },
        { label: 'empty', points: [], color: '#222' },
      ],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain(escapeXml('T <&> "x"'));
    expect(svg).not.toContain('T <&>');
    const polylines = svg.match(/<polyline points="([^"]+)"/g) ?? [];
    expect(polylines).toHaveLength(2);
    expect(svg).toContain('stroke-dasharray="6 4"');
    expect(svg).not.toContain('NaN');
    expect(niceStep(0.37)).toBe(0.1);
    expect(niceStep(230)).toBe(50);
  });

  it('draws the analysis charts from the series', () => {
    const charts = analysisChartsSvg(analyzeSweep(input()));
    expect(Object.keys(charts).sort()).toEqual(['acceptance', 'passes', 'time']);
    for (const svg of Object.values(charts)) {
      expect(svg).toMatch(/^<svg /);
      expect(svg).toMatch(/<polyline points="[\d.]+,[\d.]+( [\d.]+,[\d.]+)+"/);
      expect(svg).not.toContain('NaN');
    }
    expect(charts.acceptance).toContain('Tokens per pass (theory)');
  });
});

describe('trend words hold for every step', () => {
  // the seed prompt's loop: passes flatten at 34 from K=4 on
  const plateau = (): RunRow[] => [
    row({ k: null, timeS: 1, passes: 100 }),
    row({ k: 1, timeS: 0.9, passes: 66, drafted: 66, accepted: 34 }),
    row({ k: 2, timeS: 0.6, passes: 40, drafted: 80, accepted: 60 }),
    row({ k: 4, timeS: 0.7, passes: 34, drafted: 136, accepted: 66 }),
    row({ k: 5, timeS: 0.8, passes: 34, drafted: 170, accepted: 66 }),
    row({ k: 8, timeS: 1.1, passes: 34, drafted: 272, accepted: 66 }),
  ];
  const s5 = settings({ ks: [1, 2, 4, 5, 8] });

  it('a plateau is a plateau, not "fell with every larger K"', () => {
    const a = analyzeSweep(input({ rows: plateau(), settings: s5 }));
    const t = text(a, 'passes');
    expect(t).not.toContain('fell with every larger K');
    expect(t).toContain(
      'Passes fell from 66 at K=1 to 34 at K=4, then stayed at 34 up to K=8: drafting more than 4 tokens bought no fewer passes.',
    );
    // every K at the fewest passes is named, not one of them
    expect(section(a, 'passes').answer).toContain('to between 34 (K=4, K=5 and K=8, 66% fewer)');
    expect(text(a, 'accepted')).toContain(
      'Tokens per target verification rose from 1.52 at K=1 to 2.94 at K=4, then stayed at 2.94 up to K=8',
    );
  });

  it('equal steps in between are named, not hidden', () => {
    const rows = plateau();
    rows[2] = row({ k: 2, timeS: 0.6, passes: 66, drafted: 132, accepted: 34 });
    rows[3] = row({ k: 4, timeS: 0.7, passes: 50, drafted: 200, accepted: 50 });
    rows[4] = row({ k: 5, timeS: 0.8, passes: 40, drafted: 200, accepted: 60 });
    const t = text(analyzeSweep(input({ rows, settings: s5 })), 'passes');
    expect(t).toContain(
      'Passes fell overall, from 66 at K=1 to 34 at K=8, but not at every step: the same at K=1 and K=2 (66).',
    );
  });

  it('trendWords: monotone, plateau, peak, dip, flat and up-and-down, judged as shown', () => {
    const at = (values: number[], ks = [1, 2, 4, 8]) =>
      trendWords(
        values.map((value, i) => ({ k: ks[i]!, value })),
        (v) => fixed(v, 2),
      ).words;
    expect(at([1, 2, 3, 4])).toBe('rose with every larger K, from 1.00 at K=1 to 4.00 at K=8');
    expect(at([4, 3, 2, 1])).toBe('fell with every larger K, from 4.00 at K=1 to 1.00 at K=8');
    expect(at([1, 3, 3, 3])).toBe(
      'rose from 1.00 at K=1 to 3.00 at K=2, then stayed at 3.00 up to K=8',
    );
    // a peak in the middle is named, with every K that reaches it
    expect(at([1, 3, 3, 2])).toBe(
      'rose from 1.00 at K=1 to 3.00 at K=2 and K=4, then fell to 2.00 at K=8',
    );
    expect(at([3, 1, 2, 2.5])).toBe(
      'fell from 3.00 at K=1 to 1.00 at K=2, then rose to 2.50 at K=8',
    );
    expect(at([2, 2, 2, 2])).toBe('stayed at 2.00 at every K');
    expect(at([1, 3, 2, 4])).toBe(
      'went up and down: 1.00 at K=1, 3.00 at K=2, 2.00 at K=4 and 4.00 at K=8',
    );
    // values the table shows as equal are equal: 0.5231 and 0.5234 both read 52.3%
    expect(
      trendWords(
        [0.5231, 0.5234].map((value, i) => ({ k: i + 1, value })),
        percent,
      ).words,
    ).toBe('stayed at 52.3% at every K');
  });

  // the sweep: acceptance peaks at K=2 (88.9%) and ends at 25.5%; passes dip at K=4,
  // so tokens per pass peaks there
  const peaked = (): RunRow[] => [
    row({ k: null, timeS: 1, passes: 100 }),
    row({ k: 1, timeS: 0.9, passes: 66, drafted: 1000, accepted: 523 }),
    row({ k: 2, timeS: 0.6, passes: 40, drafted: 1000, accepted: 889 }),
    row({ k: 4, timeS: 0.7, passes: 34, drafted: 1000, accepted: 600 }),
    row({ k: 8, timeS: 1.1, passes: 36, drafted: 1000, accepted: 255 }),
  ];
  const s4 = settings({ ks: [1, 2, 4, 8] });

  it('a peak or a dip in the middle is named in every section that tells a trend', () => {
    const a = analyzeSweep(input({ rows: peaked(), settings: s4, theory: null }));
    expect(text(a, 'time')).toContain(
      'Acceptance rose from 52.3% at K=1 to 88.9% at K=2, then fell to 25.5% at K=8: later drafts in a step are accepted less often',
    );
    expect(text(a, 'time')).not.toContain('Acceptance went from');
    // every K drafted 1000 tokens: no "every extra K adds a draft pass" over a flat series
    expect(text(a, 'time')).toContain(
      "Draft passes stayed at 1000 at every K. Drafting's share of the time stayed at 15% at every K.",
    );
    expect(section(a, 'accepted').answer).toBe(
      'Tokens per target verification rose from 1.52 at K=1 to 2.94 at K=4, then fell to 2.78 at K=8. The share of drafts accepted rose from 52.3% at K=1 to 88.9% at K=2, then fell to 25.5% at K=8.',
    );
    expect(text(a, 'accepted')).toContain(
      'Going from K=1 to K=8 bought 1.26 more tokens per pass, at a smaller share of the ceiling; the most was 2.94 at K=4, so past it the larger ceiling went unused.',
    );
    const passes = text(a, 'passes');
    expect(passes).toContain('Passes fell from 66 at K=1 to 34 at K=4, then rose to 36 at K=8.');
    expect(passes).toContain(
      'A larger K did not always save passes: K=8 needed 36 where K=4 needed 34 (2.78 tokens per pass against 2.94).',
    );
    expect(text(a, 'tradeoffs')).toContain(
      'Going from K=1 to K=8 raised tokens per pass by 1.26 and raised wasted drafts from 477 to 745 per run (the most tokens per pass was 2.94 at K=4)',
    );
  });

  it('flat and up-and-down series are said as such', () => {
    const flat = peaked().map((r) => (r.k === null ? r : { ...r, targetPasses: 50 }));
    expect(
      text(analyzeSweep(input({ rows: flat, settings: s4, theory: null })), 'passes'),
    ).toContain('Passes stayed at 50 at every K.');
    const passes: Record<number, number> = { 1: 60, 2: 40, 4: 50, 8: 45 };
    const mixed = peaked().map((r) => (r.k === null ? r : { ...r, targetPasses: passes[r.k]! }));
    const t = text(analyzeSweep(input({ rows: mixed, settings: s4, theory: null })), 'passes');
    expect(t).toContain('Passes went up and down: 60 at K=1, 40 at K=2, 50 at K=4 and 45 at K=8.');
    expect(t).toContain('K=4 needed 50 where K=2 needed 40');
  });

  it("ties in the theory's prediction, equal at the shown precision, are named", () => {
    // alpha 0.51, c 0.2: K=1 and K=2 both expect 1.26x
    const tied: Theory = { alpha: 0.51, c: 0.2, bestK: bestPredictedK(0.51, 0.2) };
    expect(expectedSpeedup(0.51, 0.2, 1).toFixed(2)).toBe(expectedSpeedup(0.51, 0.2, 2).toFixed(2));
    const a = analyzeSweep(input({ theory: tied }));
    expect(a.predictedBestKs).toEqual([1, 2]);
    expect(section(a, 'tradeoffs').answer).toContain(
      "Leviathan's formula predicts K=1 and K=2 as best (1.26x expected, equal at the shown precision); this sweep measured K=2 as best (1.67x; one run each: noise not measured), as predicted.",
    );
    expect(text(a, 'tradeoffs')).toContain(
      'is highest at K=1 and K=2 for this alpha and c (1.26x)',
    );
  });
});

/** the words the sections must not reason with any more: a verdict from overlapping ranges */
const RANGE_VERDICTS = [
  /within noise/,
  /speedups over \d+ repeats overlap/,
  /clear of the runner-up/,
];

describe('the best K by paired comparison (bestOf, in its words)', () => {
  const s3 = settings({ repeats: 3 });
  const verdictOf = (rows: RunRow[]) => bestSentence(bestOf(summarizeRows(rows))!, false);
  const noRangeVerdict = (a: ReturnType<typeof analyzeSweep>): void => {
    const all = [
      a.bestInWords ?? '',
      ...a.sections.flatMap((x) => [
        x.answer,
        ...x.points,
        ...x.tables.flatMap((t) => t.rows.flat()),
      ]),
    ].join(' ');
    for (const re of RANGE_VERDICTS) expect(all).not.toMatch(re);
  };

  it('a K that wins every pair is named the optimum even when its range overlaps the others', () => {
    // the baseline steady, every K jittering by +-0.12 s together: the min-max speedups of K=2
    // and K=3 overlap, but run for run K=2 is faster every time
    const rows = [0, 0.12, -0.12].flatMap((j, repeat) =>
      greedyRows(repeat).map((r) =>
        r.mode === 'speculative' ? { ...r, timeS: r.timeS + j, speedup: 1 / (r.timeS + j) } : r,
      ),
    );
    const a = analyzeSweep(input({ rows, settings: s3 }));
    expect(a.summary.rows.find((r) => r[0] === 'K=2')![3]).toBe('1.67x (1.39x to 2.08x)');
    expect(a.summary.rows.find((r) => r[0] === 'K=3')![3]).toBe('1.43x (1.22x to 1.72x)');
    expect(section(a, 'time').answer).toBe(
      "The fastest K was K=2 at 0.600 s, 1.67x the baseline's 1.000 s, faster than the baseline and every other K beyond noise over 3 repeats paired run for run: K=2 is this sweep's optimum for this pair.",
    );
    expect(text(a, 'time')).toContain(
      "Over all runs the times of K=3 (0.580 s to 0.820 s) and K=2 (0.480 s to 0.720 s) overlap because the machine's speed drifted between repeats, but compared run for run (the same repeat) K=2 was faster beyond noise.",
    );
    expect(section(a, 'time').tables[0]!.rows.map((r) => r[0])).toEqual([
      '1',
      '2 (best)',
      '3',
      '4',
    ]);
    expect(a.bestInWords).toBe(verdictOf(rows));
    expect(analysisMarkdown(a)).toContain(`Best: ${a.bestInWords}`);
    expect(section(a, 'tradeoffs').answer).toContain(
      'this sweep measured K=2 as best (1.67x), faster than the baseline and every other K beyond noise',
    );
    expect(section(a, 'baseline').answer).toMatch(/^The best configuration, K=2, needed/);
    expect(section(a, 'baseline').answer).toContain(
      'it beat the baseline and every other configuration beyond noise over 3 repeats paired run for run.',
    );
    noRangeVerdict(a);
  });

  it('a true tie is named as a tie, each tied K listed, with how the pairs went', () => {
    // K=2 and K=3 swap places from repeat to repeat; K=1 and K=4 are slower every time
    const k2 = [0.6, 0.66, 0.61];
    const k3 = [0.64, 0.62, 0.65];
    const rows = [0, 1, 2].flatMap((repeat) => {
      const o = { repeat, baselineTime: 1 };
      return [
        row({ k: null, timeS: 1, passes: 100, ...o }),
        row({ k: 1, timeS: 0.8 + repeat * 0.01, passes: 60, drafted: 60, accepted: 40, ...o }),
        row({ k: 2, timeS: k2[repeat]!, passes: 40, drafted: 80, accepted: 60, ...o }),
        row({ k: 3, timeS: k3[repeat]!, passes: 35, drafted: 105, accepted: 65, ...o }),
        row({ k: 4, timeS: 0.9 + repeat * 0.01, passes: 33, drafted: 132, accepted: 67, ...o }),
      ];
    });
    const a = analyzeSweep(input({ rows, settings: s3 }));
    expect(section(a, 'time').answer).toBe(
      "No single fastest K: K=2 (1.64x the baseline's 1.000 s) beat the baseline but is tied with K=3 (1.56x): not faster than it beyond noise over 3 repeats paired run for run. K=2 had the best median.",
    );
    expect(text(a, 'time')).toMatch(
      /Paired run for run \(the same repeat\), K=2 was faster than K=3 in 2 of 3 paired runs \(1\.02x on geometric mean, 95% lower bound 0\.\d\dx\): not faster beyond noise\./,
    );
    expect(text(a, 'time')).not.toContain('optimum');
    expect(section(a, 'time').tables[0]!.rows.map((r) => r[0])).toEqual([
      '1',
      '2 (best median)',
      '3 (tied)',
      '4',
    ]);
    expect(a.bestInWords).toBe(verdictOf(rows));
    expect(a.bestInWords).toContain('is tied with K=3 (1.56x)');
    expect(section(a, 'baseline').answer).toMatch(
      /^The configuration with the best median, K=2 \(tied with K=3: not faster than it beyond noise\), needed/,
    );
    expect(section(a, 'tradeoffs').answer).toContain(
      "this sweep's best median was K=2 (1.64x), tied with K=3",
    );
    noRangeVerdict(a);
  });

  it('nothing beats the baseline: a verdict of its own, in every section', () => {
    // every K a little under 1x on median, the repeats straddling 1x
    const rows = [0, 0.08, -0.08].flatMap((j, repeat) =>
      greedyRows(repeat).map((r) =>
        r.k === null
          ? r
          : { ...r, timeS: 1.02 + r.k * 0.01 + j, speedup: 1 / (1.02 + r.k * 0.01 + j) },
      ),
    );
    const a = analyzeSweep(input({ rows, settings: s3 }));
    expect(section(a, 'time').answer).toBe(
      "No K beat the baseline: the fastest, K=1 (0.97x the baseline's 1.000 s), was not faster beyond noise over 3 repeats paired run for run; its speedup ranged from 0.90x to 1.05x over 3 repeats.",
    );
    expect(text(a, 'time')).toContain(
      'Against the baseline, K=1 was faster than the baseline in 1 of 3 paired runs (0.97x on geometric mean',
    );
    expect(section(a, 'time').tables[0]!.rows[0]![0]).toBe(
      '1 (fastest, did not beat the baseline)',
    );
    expect(a.bestInWords).toBe(verdictOf(rows));
    expect(a.bestInWords).toMatch(/^No configuration beat the baseline/);
    expect(section(a, 'baseline').answer).toMatch(
      /^No configuration beat the baseline beyond noise over 3 repeats paired run for run: the fastest, K=1, needed/,
    );
    expect(section(a, 'tradeoffs').answer).toContain(
      'in this sweep no K beat the baseline beyond noise (the fastest, K=1, ran at 0.97x)',
    );
    for (const x of a.sections) expect(x.answer).not.toContain('optimum');
    noRangeVerdict(a);
  });

  // Two prompts that draft differently: over all runs the speedups overlap (prompt 2 is harder),
  // but paired by repeat and prompt K=2 is ahead every time. Prompt difficulty is not noise.
  const twoPrompts = (jitters: number[], speedups1: Record<number, number>): RunRow[] =>
    jitters.flatMap((j, repeat) => [
      ...greedyRows(repeat, j, 0),
      ...greedyRows(repeat, j, 1).map((r) =>
        r.k === null ? r : { ...r, timeS: (1 + j) / speedups1[r.k]!, speedup: speedups1[r.k]! },
      ),
    ]);

  it('prompt set: runs are paired by repeat and prompt, not judged on every run together', () => {
    const rows = twoPrompts([0, 0.01, -0.01], { 1: 1.0, 2: 1.3, 3: 1.1, 4: 0.9 });
    const a = analyzeSweep(
      input({ rows, settings: s3, prompts: ['Artificial intelligence is', 'The old man'] }),
    );
    // over all runs K=2 (1.30x to 1.67x) and K=3 (1.10x to 1.43x) overlap ...
    const k2 = a.summary.rows.find((r) => r[0] === 'K=2')!;
    expect(k2[3]).toMatch(/\(1\.\d\dx to 1\.\d\dx\)/);
    // ... but run for run K=2 is ahead, so it is named, and why the times overlap is said
    expect(a.bestInWords).toBe(verdictOf(rows));
    expect(a.bestInWords).toContain('over 6 runs paired by repeat and prompt');
    expect(text(a, 'time')).toContain(
      'overlap because the 2 prompts differ in length and ease, but compared run for run (the same repeat and prompt) K=2 was faster beyond noise.',
    );
    expect(section(a, 'baseline').answer).toMatch(/^The best configuration, K=2, needed/);
    noRangeVerdict(a);
  });

  it('one repeat: the best is named, with its noise said to be unmeasured', () => {
    const a = analyzeSweep(input());
    expect(a.bestInWords).toBe(verdictOf(greedyRows()));
    expect(a.bestInWords).toContain('too few to measure noise');
    expect(section(a, 'time').tables[0]!.rows[1]![0]).toBe('2 (fastest)');
  });
});

describe('what the time section says past the best K', () => {
  it('past the fastest K, "rose" only when time rose at every step', () => {
    const rows = greedyRows().map((r) =>
      r.k === 3 ? { ...r, timeS: 0.95, speedup: 1 / 0.95 } : r,
    );
    const t = text(analyzeSweep(input({ rows })), 'time');
    expect(t).toContain('Past K=2 no larger K was faster: K=3 0.950 s and K=4 0.900 s');
    expect(t).not.toContain('time rose');
  });

  it('past the best K, a larger K with a lower median time is named, not called slower', () => {
    // K=2 has the best median speedup (2x in every repeat); K=3's speedups are 1.5x, 1.5x and 4x,
    // so its median time (0.75 s, from the slow-baseline repeat) is below K=2's (1 s)
    const bases = [1, 2, 3];
    const k3 = [1.5, 1.5, 4];
    const rows = bases.flatMap((base, repeat) => {
      const opts = { repeat, baselineTime: base };
      return [
        row({ k: null, timeS: base, passes: 100, ...opts }),
        row({ k: 1, timeS: base * 0.8, passes: 60, drafted: 60, accepted: 40, ...opts }),
        row({ k: 2, timeS: base / 2, passes: 40, drafted: 80, accepted: 60, ...opts }),
        row({ k: 3, timeS: base / k3[repeat]!, passes: 35, drafted: 105, accepted: 65, ...opts }),
        row({ k: 4, timeS: base * 0.9, passes: 33, drafted: 132, accepted: 67, ...opts }),
      ];
    });
    const t = text(analyzeSweep(input({ rows, settings: settings({ repeats: 3 }) })), 'time');
    expect(t).toContain(
      "Past K=2 no larger K had a better median speedup, though K=3's median time (0.750 s) was below K=2's 1.000 s",
    );
    expect(t).not.toContain('no larger K was faster');
  });

  it('past the best K, "rose" is judged on the times as the table shows them', () => {
    // 0.0661 s and 0.0664 s both show as 0.066 s: time did not visibly rise from K=2 to K=3
    const times: Record<number, number> = { 1: 0.08, 2: 0.0661, 3: 0.0664, 4: 0.07 };
    const rows = greedyRows().map((r) =>
      r.k === null
        ? { ...r, timeS: 0.1, speedup: null }
        : { ...r, timeS: times[r.k]!, speedup: 0.1 / times[r.k]! },
    );
    const t = text(analyzeSweep(input({ rows })), 'time');
    expect(t).toContain('Past K=2 no larger K was faster: K=3 0.066 s and K=4 0.070 s');
    expect(t).not.toContain('time rose');
  });

  it('a looping text, not "an easy stretch", explains acceptances in runs', () => {
    const rows = greedyRows().map((r) => ({ ...r, repetition: { start: 10, period: 3 } }));
    const t = text(analyzeSweep(input({ rows })), 'accepted');
    expect(t).toContain('acceptances come in runs because the text loops');
    expect(t).not.toContain('an easy stretch');
  });
});

describe('theory with the measured verification cost', () => {
  it('predicts E[tokens per pass] / (K c + v) and compares both curves with the measurement', () => {
    expect(expectedSpeedupMeasuredCost(0.5, 0.1, 2, 1.2)).toBeCloseTo(1.75 / 1.4, 12);
    // v = 1 is Leviathan's own assumption
    expect(expectedSpeedupMeasuredCost(0.5, 0.1, 2, 1)).toBeCloseTo(
      expectedSpeedup(0.5, 0.1, 2),
      12,
    );
    const rows = greedyRows();
    const verifyCost = { '1': 1.1, '2': 1.2, '3': 1.3, '4': 1.5 };
    const t = predictFromSweep(rows, 0.1, verifyCost)!;
    expect(t.verifyCost).toEqual(verifyCost);
    const best = [1, 2, 3, 4].reduce((b, k) =>
      expectedSpeedupMeasuredCost(t.alpha, 0.1, k, verifyCost[String(k) as '1']) >
      expectedSpeedupMeasuredCost(t.alpha, 0.1, b, verifyCost[String(b) as '1'])
        ? k
        : b,
    );
    expect(t.bestKMeasuredCost).toBe(best);
    const a = analyzeSweep(input({ theory: t }));
    const table = section(a, 'tradeoffs').tables.find((x) =>
      x.caption.startsWith('Theory against'),
    )!;
    expect(table.head).toEqual([
      'K',
      'Measured',
      'Leviathan (constant cost)',
      'Measured / Leviathan',
      'Verify cost t(K+1)/t(1)',
      'With measured verify cost',
      'Measured / that',
    ]);
    // K=2: measured 1/0.6, predicted with v = 1.2
    const predicted = expectedSpeedupMeasuredCost(t.alpha, 0.1, 2, 1.2);
    expect(table.rows[1]).toEqual([
      '2',
      '1.67x',
      `${expectedSpeedup(t.alpha, 0.1, 2).toFixed(2)}x`,
      (1 / 0.6 / expectedSpeedup(t.alpha, 0.1, 2)).toFixed(2),
      '1.20',
      `${predicted.toFixed(2)}x`,
      (1 / 0.6 / predicted).toFixed(2),
    ]);
    expect(text(a, 'tradeoffs')).toContain(
      'measured after the sweep it cost 1.10x at K=1, 1.20x at K=2, 1.30x at K=3 and 1.50x at K=4',
    );
  });
});
