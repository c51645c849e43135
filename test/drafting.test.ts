/** Draft-length policies and prompt-lookup drafting: still lossless, and drafting as specified. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../src/core/decoding/baseline';
import { PromptLookupDrafter } from '../src/core/decoding/drafter';
import { SpeculativeRun } from '../src/core/decoding/speculative';
import { loadPair, releasePair, type ModelPair } from '../src/core/model/pair';
import { MICRO_A, MICRO_B, PAIR_DRAFT, PAIR_TARGET } from './helpers';

const PROMPT = 'The old man looked out across the river and said';

describe('prompt lookup', () => {
  it('proposes what followed the latest earlier match of the last n-gram', async () => {
    const d = new PromptLookupDrafter(3);
    expect((await d.propose([1, 2, 3, 4, 9, 9, 1, 2, 3], 3)).tokens).toEqual([4, 9, 9]);
    // falls back to shorter n-grams, and takes the latest match
    expect((await d.propose([5, 7, 5, 8, 6, 5], 2)).tokens).toEqual([8, 6]);
    expect((await d.propose([1, 2, 3], 4)).tokens).toEqual([]);
  });
});

describe('policies on the fixtures', () => {
  let same: ModelPair;
  let different: ModelPair;
  beforeAll(async () => {
    same = await loadPair(MICRO_A, MICRO_A);
    different = await loadPair(MICRO_A, MICRO_B);
  });
  afterAll(async () => {
    await releasePair(same);
    await releasePair(different);
  });

  it('heuristic: +2 after a fully accepted step', async () => {
    const r = await new SpeculativeRun(same, 1, {
      prompt: PROMPT,
      maxNewTokens: 30,
      policy: 'heuristic',
    }).runToEnd();
    // steps emit 2, 4, 6, 8, 10 tokens: exactly 30
    expect(r.kPerStep).toEqual([1, 3, 5, 7, 9]);
    expect(r.metrics.targetPasses).toBe(5);
  });

  it('heuristic: -1 after a rejection, never below 1', async () => {
    const r = await new SpeculativeRun(different, 4, {
      prompt: PROMPT,
      maxNewTokens: 12,
      policy: 'heuristic',
    }).runToEnd();
    const base = await new BaselineRun(different, { prompt: PROMPT, maxNewTokens: 12 }).runToEnd();
    expect(r.outputTokenIds).toEqual(base.outputTokenIds);
    expect(r.kPerStep.slice(0, 5)).toEqual([4, 3, 2, 1, 1]);
  });

  it('confidence: a step ends at the first draft token below p-min', async () => {
    // A threshold in the middle of what this draft model feels, so that steps end both ways.
    const probe = new SpeculativeRun(different, 6, {
      prompt: PROMPT,
      maxNewTokens: 20,
      reportProbabilities: true,
    });
    const felt: number[] = [];
    for await (const ev of probe.events()) if (ev.type === 'draft') felt.push(ev.draftProb!);
    const pMin = felt.sort((a, b) => a - b)[felt.length >> 1]!;
    const run = new SpeculativeRun(different, 6, {
      prompt: PROMPT,
      maxNewTokens: 20,
      policy: 'confidence',
      pMin,
      reportProbabilities: true,
    });
    const drafts: Array<{ step: number; p: number }> = [];
    for await (const ev of run.events())
      if (ev.type === 'draft') drafts.push({ step: ev.step, p: ev.draftProb! });
    const r = await run.runToEnd();
    const base = await new BaselineRun(different, { prompt: PROMPT, maxNewTokens: 20 }).runToEnd();
    expect(r.outputTokenIds).toEqual(base.outputTokenIds);
    for (const [i, d] of drafts.entries()) {
      const lastOfStep = drafts[i + 1]?.step !== d.step;
      if (!lastOfStep) expect(d.p).toBeGreaterThanOrEqual(pMin);
    }
    expect(Math.max(...r.kPerStep)).toBeLessThanOrEqual(6);
    expect(Math.max(...r.kPerStep)).toBeGreaterThan(1); // confident drafts do run on
    expect(Math.min(...r.kPerStep)).toBeLessThan(6); // and doubtful ones end a step early
  });
});

describe('policies and drafters on the embedded pair', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(PAIR_TARGET, PAIR_DRAFT);
  });
  afterAll(() => releasePair(pair));

  it.each([
    { policy: 'heuristic' as const },
    { policy: 'confidence' as const, pMin: 0.1 },
    { drafter: 'prompt-lookup' as const },
  ])(
    '%o keeps the output identical to the baseline and reports acceptance by position',
    async (opts) => {
      const prompt = 'Artificial intelligence is rapidly transforming our world by';
      const base = await new BaselineRun(pair, { prompt, maxNewTokens: 60 }).runToEnd();
      for (const k of [2, 5]) {
        const r = await new SpeculativeRun(pair, k, {
          prompt,
          maxNewTokens: 60,
          ...opts,
        }).runToEnd();
        expect(r.outputTokenIds).toEqual(base.outputTokenIds);
        expect(r.kPerStep.reduce((a, b) => a + b, 0)).toBe(r.metrics.draftedTokens);
        expect(r.acceptanceByPosition.length).toBe(Math.max(...r.kPerStep));
        for (const rate of r.acceptanceByPosition) expect(rate).toBeGreaterThanOrEqual(0);
        if (opts.drafter === 'prompt-lookup') expect(r.metrics.draftPasses).toBe(0);
      }
    },
  );
});
