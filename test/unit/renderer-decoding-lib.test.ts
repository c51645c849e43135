/** The renderer's pure logic for prompt sets, decoding choices, K per step and the new charts. */
import { describe, expect, it } from 'vitest';
import { runRow } from '../support/helpers';
import type { RunRow, Theory } from '../../src/shared/protocol';
import { MAX_PROMPTS, MAX_REQUEST_BYTES } from '../../src/shared/protocol';
import { bestOf, summarizeRows } from '../../src/results/summary';
import {
  expectedSpeedup,
  expectedSpeedupMeasuredCost,
  expectedTokensPerPass,
} from '../../src/results/theory';
import {
  checkPMin,
  checkPrompt,
  checkSampling,
  checkSeed,
  checkTemperature,
  checkTopK,
  checkTopP,
  parsePromptSet,
} from '../../src/renderer/src/lib/setupValidation';
import {
  acceptanceChartData,
  chartHeight,
  positionChartData,
  strategyGroups,
  theoryReference,
  timeChartData,
} from '../../src/renderer/src/lib/chartData';
import { theoryChartData, theoryRows } from '../../src/renderer/src/lib/theoryChart';
import { causeFields, controlHint, fieldForCode } from '../../src/renderer/src/lib/hostErrors';
import { describeKPerStep, kPerStepFromTokens } from '../../src/renderer/src/lib/kPerStep';
import type { StreamToken } from '../../src/renderer/src/lib/stream';

const row = runRow;

describe('prompt sets', () => {
  it('keeps non-blank lines as written, drops Windows line ends, and checks the count', () => {
    expect(parsePromptSet('a b\r\n\n  \n c\n')).toEqual({ ok: true, prompts: ['a b', ' c'] });
    const empty = parsePromptSet('\n  \n');
    expect(empty.ok).toBe(false);
    if (!empty.ok) expect(empty.message).toMatch(/empty/);
    const many = parsePromptSet(
      Array.from({ length: MAX_PROMPTS + 1 }, (_, i) => `p${i}`).join('\n'),
    );
    expect(many.ok).toBe(false);
    if (!many.ok) expect(many.message).toContain(`at most ${MAX_PROMPTS}`);
    expect(parsePromptSet('one').ok).toBe(true);
  });

  it('refuses prompts that would not fit in one request to the engine, before sending', () => {
    // quotes double in JSON: 600 kB of them is 1.2 MB as sent
    const quotes = '"'.repeat(600_000);
    expect(checkPrompt(quotes)).toMatch(
      /^The prompt is 1\.20 MB as sent; the engine takes at most 1\.03 MB/,
    );
    const set = parsePromptSet(Array.from({ length: 20 }, () => 'x'.repeat(60_000)).join('\n'));
    expect(set).toMatchObject({ ok: false, message: /^The prompt set is 1\.20 MB as sent/ });
    // what passes here passes the server's limit
    const fits = Array.from({ length: 17 }, () => 'x'.repeat(60_000));
    expect(parsePromptSet(fits.join('\n')).ok).toBe(true);
    const request = { type: 'sweep', requestId: 'r', settings: { prompts: fits } };
    expect(new TextEncoder().encode(JSON.stringify(request)).length).toBeLessThan(
      MAX_REQUEST_BYTES,
    );
  });
});

describe('decoding choices', () => {
  it('checks temperature, top-k, top-p, seed and p-min with messages in words', () => {
    expect(checkTemperature('0')).toMatchObject({ ok: false, message: /above 0/ });
    expect(checkTemperature('10')).toEqual({ ok: true, value: 10 });
    expect(checkTemperature('10.5').ok).toBe(false);
    expect(checkTemperature('abc').ok).toBe(false);
    expect(checkTemperature('').ok).toBe(false);
    expect(checkTopK('0')).toEqual({ ok: true, value: 0 });
    expect(checkTopK('2.5').ok).toBe(false);
    expect(checkTopK('-1').ok).toBe(false);
    expect(checkTopP('1')).toEqual({ ok: true, value: 1 });
    expect(checkTopP('0').ok).toBe(false);
    expect(checkTopP('1.01').ok).toBe(false);
    expect(checkSeed('7')).toEqual({ ok: true, value: 7 });
    // one seed range everywhere: the generator keeps 32 bits, so 2^32 would alias seed 0
    expect(checkSeed('4294967295')).toEqual({ ok: true, value: 4294967295 });
    expect(checkSeed('4294967296')).toEqual({
      ok: false,
      message: 'The seed must be from 0 to 4294967295 (got 4294967296).',
    });
    expect(checkSeed('-7')).toEqual({
      ok: false,
      message: 'The seed must be from 0 to 4294967295 (got -7).',
    });
    expect(checkSeed('1.5').ok).toBe(false);
    expect(checkSeed('99999999999999999999').ok).toBe(false);
    expect(checkPMin('0.5')).toEqual({ ok: true, value: 0.5 });
    expect(checkPMin('1').ok).toBe(false);
    expect(checkPMin('0').ok).toBe(false);
  });

  it('gives every wrong sampling field its own message, or the parameters', () => {
    expect(checkSampling({ temperature: '0.8', topK: '40', topP: '0.9', seed: '1' })).toEqual({
      ok: true,
      value: { temperature: 0.8, topK: 40, topP: 0.9, seed: 1 },
    });
    const bad = checkSampling({ temperature: '0', topK: '1', topP: '2', seed: 'x' });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(Object.keys(bad.errors).sort()).toEqual(['seed', 'temperature', 'topP']);
  });
});

describe('K per step', () => {
  it('counts drafted tokens per step, zero where nothing was drafted', () => {
    const tok = (step: number | null, kind: StreamToken['kind']): StreamToken => ({
      key: 0,
      kind,
      text: '',
      tokenId: 1,
      step,
      position: 0,
      draftProb: null,
      targetProb: null,
      unchecked: false,
      outputIndex: null,
    });
    const tokens = [
      tok(null, 'prompt'),
      tok(1, 'accepted'),
      tok(1, 'accepted'),
      tok(1, 'bonus'),
      tok(2, 'accepted'),
      tok(2, 'rejected'),
      tok(2, 'rejected'),
      tok(2, 'rejected'),
      tok(2, 'correction'),
      tok(3, 'target'),
      tok(4, 'draft'),
    ];
    expect(kPerStepFromTokens(tokens, 4)).toEqual([2, 4, 0, 1]);
    expect(describeKPerStep([3, 3])).toBe('K=3 at all 2 steps');
    expect(describeKPerStep([3, 5, 4])).toBe('K from 3 to 5 over 3 steps');
  });
});

describe('charts for strategies, positions and theory', () => {
  const rows: RunRow[] = [
    row({ mode: 'baseline', k: null, policy: null, drafter: null, speedup: 1, timeS: 2 }),
    row({ k: 1, acceptanceByPosition: [0.5], speedup: 1.2, tokensPerTargetPass: 1.5 }),
    row({ k: 2, acceptanceByPosition: [0.6, 0.3], speedup: 1.5, tokensPerTargetPass: 1.9 }),
    row({ k: 2, promptIndex: 1, acceptanceByPosition: [0.8, 0.5], speedup: 1.7 }),
    row({ k: 2, policy: 'heuristic', acceptanceByPosition: [0.7, 0.4, 0.2], speedup: 1.4 }),
    row({ k: 2, drafter: 'prompt-lookup', acceptanceByPosition: [0.4, 0.1], speedup: 1.9 }),
  ];
  const summary = summarizeRows(rows);

  it('splits lines by drafter and policy, with the model / fixed strategy as the reference', () => {
    expect(strategyGroups(summary).map((g) => g.name)).toEqual([
      'model / fixed',
      'model / heuristic',
      'prompt-lookup / fixed',
    ]);
    expect(theoryReference(summary)?.name).toBe('model / fixed');
    // one line per strategy plus the baseline, no bands
    const time = timeChartData(summary);
    expect(time.datasets.map((d) => d.label)).toEqual([
      'model / fixed',
      'model / heuristic',
      'prompt-lookup / fixed',
      'Baseline',
    ]);
    // acceptance and tokens per pass per strategy, then theory and baseline
    expect(acceptanceChartData(summary).datasets).toHaveLength(3 * 2 + 2);
    expect(bestOf(theoryReference(summary)!.rows)?.row.k).toBe(2);
    expect(chartHeight(time)).toBe('18.6rem');
  });

  it('draws acceptance by position per configuration, median over runs', () => {
    const data = positionChartData(rows, true);
    expect(data.datasets.map((d) => d.label)).toEqual([
      'K=1 model / fixed',
      'K=2 model / fixed',
      'K=2 model / heuristic',
      'K=2 prompt-lookup / fixed',
    ]);
    expect(data.datasets[1]!.data).toEqual([
      { x: 1, y: 0.7 },
      { x: 2, y: 0.4 },
    ]);
    expect(data.datasets[2]!.data).toHaveLength(3);
    expect(positionChartData(rows, false).datasets[0]!.label).toBe('K=1');
  });

  it("draws speedup only, measured against Leviathan's prediction, on one axis", () => {
    const theory: Theory = { alpha: 0.6, c: 0.1, bestK: 3, verifyCost: { '2': 1.3 } };
    const data = theoryChartData(summary, theory);
    expect(data.datasets.map((d) => d.label)).toEqual([
      'Measured speedup',
      'Predicted (Leviathan)',
      'Predicted, measured verify cost',
      'Baseline (1x)',
    ]);
    // one axis: nothing on a second one
    expect(data.datasets.every((d) => d.yAxisID === undefined)).toBe(true);
    const [speedup, expected, measuredCost, baseline] = data.datasets;
    // the measured-cost curve exists only where the verification cost was measured (K=2)
    expect(measuredCost!.data).toEqual([
      { x: 2, y: expectedSpeedupMeasuredCost(0.6, 0.1, 2, 1.3) },
    ]);
    expect(speedup!.data).toEqual([
      { x: 1, y: 1.2 },
      { x: 2, y: 1.6 },
    ]);
    expect(expected!.data.map((p) => p.x)).toEqual([1, 2]);
    expect(expected!.data[1]!.y).toBeCloseTo(expectedSpeedup(0.6, 0.1, 2), 12);
    expect(baseline!.data).toEqual([
      { x: 1, y: 1 },
      { x: 2, y: 1 },
    ]);
    // without a prediction only the measurement (and the baseline) is drawn
    const none = theoryChartData(summary, null);
    expect(none.datasets[1]!.data).toEqual([]);
    expect(none.datasets[0]!.data).toHaveLength(2);
  });

  it('gives the numbers beside the theory chart per K, tokens per pass included', () => {
    const theory: Theory = { alpha: 0.6, c: 0.1, bestK: 3, verifyCost: { '2': 1.3 } };
    const [k1, k2] = theoryRows(summary, theory);
    expect(k1).toEqual({
      k: 1,
      speedup: 1.2,
      expectedSpeedup: expectedSpeedup(0.6, 0.1, 1),
      measuredCostSpeedup: null,
      tokensPerPass: 1.5,
      expectedTokensPerPass: expectedTokensPerPass(0.6, 1),
    });
    expect(k2!.measuredCostSpeedup).toBeCloseTo(expectedSpeedupMeasuredCost(0.6, 0.1, 2, 1.3), 12);
    expect(theoryRows(summary, null)[0]!.expectedSpeedup).toBeNull();
    expect(theoryRows([], theory)).toEqual([]);
  });
});

describe('host errors in the app', () => {
  it('say where the app keeps the setting a core error names (the CLI names its flags)', () => {
    expect(controlHint(['temperature'])).toBe(' (set in: Decoding: Temperature)');
    // the app has no Hub mirror field nor cache folder setting: only its Offline box is named
    expect(controlHint(['hubHost', 'offline'])).toBe(' (set in: Offline, under the model pair)');
    expect(controlHint(['cacheDir'])).toBe('');
    expect(controlHint(undefined)).toBe('');
    expect(controlHint(['not-a-setting'])).toBe('');
  });

  it('put a failure under the control that caused it, from every entry point', () => {
    // a Hub failure is the pair's whether Download or Run fetched the models
    for (const code of ['HUB_UNREACHABLE', 'HUB_INTERRUPTED', 'HUB_OFFLINE', 'DISK_FULL'])
      expect(fieldForCode(code)).toBe('pair');
    expect(fieldForCode('PROMPT_TOO_LONG')).toBe('prompt');
    expect(fieldForCode('BAD_ARGUMENT')).toBeNull();
  });

  it('know what else an error depends on, so it goes when any of those controls changes', () => {
    expect(causeFields('PROMPT_TOO_LONG', 'prompt')).toEqual(['prompt', 'pair']);
    expect(causeFields('MAX_NEW_TOKENS_INVALID', 'maxNewTokens')).toEqual([
      'maxNewTokens',
      'prompt',
      'pair',
    ]);
    expect(causeFields('MODEL_FOLDER_MISSING', 'pair')).toEqual(['pair']);
  });
});
