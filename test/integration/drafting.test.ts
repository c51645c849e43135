/** Draft-length policies and prompt-lookup drafting: still lossless, and drafting as specified. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import { RunStats } from '../../src/core/decoding/runStats';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { PromptLookupDrafter } from '../../src/core/decoding/strategies/drafters/promptLookup';
import { checkCompatible } from '../../src/core/decoding/strategies/registry';
import { checkSweepSettings, type SweepConfig } from '../../src/core/experiment/sweep';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import type { EngineEvent } from '../../src/shared/events';
import { MICRO_A, MICRO_B, PAIR_DRAFT, PAIR_TARGET } from '../support/helpers';

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

  it('confidence: a step ends exactly at the first draft token below p-min', async () => {
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
    const events: EngineEvent[] = [];
    for await (const ev of run.events()) events.push(ev);
    const r = await run.runToEnd();
    const base = await new BaselineRun(different, { prompt: PROMPT, maxNewTokens: 20 }).runToEnd();
    expect(r.outputTokenIds).toEqual(base.outputTokenIds);
    // Each step drafts while the draft is confident, and stops at the first doubtful token or at
    // its cap (K, max new tokens, the context) or an end of text: never earlier, never later.
    let emitted = 0;
    const ends = { belowPMin: 0, atCap: 0 };
    const steps = events.filter((ev) => ev.type === 'step-end').map((ev) => ev.step);
    for (const step of steps) {
      const drafts = events.filter((ev) => ev.type === 'draft' && ev.step === step);
      const cap = Math.min(
        6,
        20 - emitted - 1,
        different.nPositions - (run.promptTokenIds.length + emitted) - 1,
      );
      const last = drafts.at(-1);
      if (last?.type !== 'draft') {
        expect(cap, `step ${step} drafted nothing`).toBeLessThanOrEqual(0);
      } else {
        for (const d of drafts.slice(0, -1))
          if (d.type === 'draft') expect(d.draftProb!).toBeGreaterThanOrEqual(pMin);
        if (last.draftProb! < pMin) ends.belowPMin++;
        else {
          expect(drafts.length === cap || different.eosTokenIds.includes(last.tokenId)).toBe(true);
          ends.atCap++;
        }
      }
      emitted += events.filter((ev) => ev.type === 'emit' && ev.step === step).length;
    }
    expect(ends.belowPMin).toBeGreaterThan(0);
    expect(ends.atCap).toBeGreaterThan(0);
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
        // accepted at position i = rate_i x steps that drafted past i; they sum to the accepted
        // tokens, and a draft is accepted only after every draft before it was
        const acceptedAt = r.acceptanceByPosition.map((rate, i) =>
          Math.round(rate * r.kPerStep.filter((n) => n > i).length),
        );
        expect(acceptedAt.reduce((a, b) => a + b, 0)).toBe(r.metrics.acceptedTokens);
        for (let i = 1; i < acceptedAt.length; i++)
          expect(acceptedAt[i]!).toBeLessThanOrEqual(acceptedAt[i - 1]!);
        expect(acceptedAt[0]!).toBeGreaterThan(0);
        if (opts.drafter === 'prompt-lookup') expect(r.metrics.draftPasses).toBe(0);
      }
    },
  );
});

describe('the strategy registry', () => {
  const sweep: SweepConfig = {
    prompts: [PROMPT],
    maxNewTokens: 8,
    ks: [2],
    repeats: 1,
    warmup: 0,
    noKvCache: false,
  };
  const refusal =
    'The confidence policy stops drafting on the draft model’s probability, which prompt lookup does not have. Compare confidence with the model drafter only, or prompt lookup with the fixed and heuristic policies, in separate sweeps.';

  it('refuses a policy that reads draft probabilities with a drafter that has none', () => {
    expect(() => checkCompatible('confidence', 'prompt-lookup')).toThrow(refusal);
    expect(() => checkCompatible('confidence', 'model')).not.toThrow();
    expect(() => checkCompatible('heuristic', 'prompt-lookup')).not.toThrow();
    const both = { policies: ['fixed', 'confidence'], drafters: ['model', 'prompt-lookup'] };
    expect(() => checkSweepSettings({ ...sweep, ...both } as SweepConfig)).toThrow(refusal);
    const apart = { policies: ['fixed', 'heuristic'], drafters: ['model', 'prompt-lookup'] };
    expect(() => checkSweepSettings({ ...sweep, ...apart } as SweepConfig)).not.toThrow();
  });

  it('counts from the events alone', () => {
    const stats = new RunStats();
    const runId = 'r';
    const draft = (step: number, index: number): EngineEvent => ({
      type: 'draft',
      runId,
      step,
      index,
      position: 10 + index,
      tokenId: 5,
      text: 'x',
      draftProb: null,
    });
    const emit = (step: number, kind: 'accepted' | 'correction' | 'bonus' | 'target') =>
      ({
        type: 'emit',
        runId,
        step,
        position: 0,
        tokenId: 5,
        text: 'x',
        kind,
        draftProb: null,
        targetProb: null,
      }) as EngineEvent;
    const verify = (step: number, verdicts: Array<'accepted' | 'rejected' | 'unchecked'>) =>
      ({
        type: 'verify',
        runId,
        step,
        draftedTokenIds: verdicts.map(() => 5),
        verdicts,
        targetTokenIds: [],
        targetProbs: null,
        minLogitMargin: 0,
      }) as EngineEvent;
    const stepEnd = (step: number) => ({ type: 'step-end', runId, step }) as EngineEvent;
    // step 1: three drafts, the second rejected; step 2: two drafts, both accepted; step 3: none
    for (const ev of [
      draft(1, 0),
      draft(1, 1),
      draft(1, 2),
      verify(1, ['accepted', 'rejected', 'unchecked']),
      emit(1, 'accepted'),
      emit(1, 'correction'),
      stepEnd(1),
      draft(2, 0),
      draft(2, 1),
      verify(2, ['accepted', 'accepted']),
      emit(2, 'accepted'),
      emit(2, 'accepted'),
      emit(2, 'bonus'),
      stepEnd(2),
      emit(3, 'target'),
      stepEnd(3),
    ])
      stats.observe(ev);
    expect(stats.counts()).toEqual({
      newTokens: 6,
      verificationSteps: 2,
      draftedTokens: 5,
      acceptedTokens: 3,
      corrections: 1,
      bonuses: 1,
      targetOnlyTokens: 1,
    });
    expect(stats.kPerStep()).toEqual([3, 2, 0]);
    expect(stats.acceptanceByPosition()).toEqual([1, 0.5, 0]);
  });
});
