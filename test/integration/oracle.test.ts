/**
 * Controlled acceptance (the oracle drafter): the baseline's output for every K, acceptance i.i.d.
 * at the target rate per tested position, the draft model's cache fed what was drafted, the
 * engines' metrics consistent with the counts, and the combinations that cannot run refused.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import type { RunResult } from '../../src/core/decoding/decodeRun';
import { SpeculativeRun, type SpeculativeOptions } from '../../src/core/decoding/speculative';
import { checkSweepSettings, runSweep, type SweepConfig } from '../../src/core/experiment/sweep';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import type { EngineEvent } from '../../src/shared/events';
import { join } from 'node:path';
import { FIXTURES, MICRO_A, MICRO_B, PAIR_DRAFT, PAIR_TARGET } from '../support/helpers';

/** the llama family's tiny fixtures (tools/build_standin.py --family llama --tiny) */
const LLAMA = join(FIXTURES, '..', 'families');

const PROMPT = 'The old man looked out across the river and said';
const PROMPTS = [
  PROMPT,
  'She opened the letter and read',
  'In the morning the town was quiet, and',
  'He said that the government would',
];

async function baseline(pair: ModelPair, prompt: string, maxNewTokens: number) {
  return new BaselineRun(pair, { prompt, maxNewTokens }).runToEnd();
}

function oracleRun(
  pair: ModelPair,
  k: number,
  truth: RunResult,
  acceptance: number,
  seed: number,
  extra: Partial<SpeculativeOptions> = {},
): SpeculativeRun {
  return new SpeculativeRun(pair, k, {
    prompt: extra.prompt ?? PROMPT,
    maxNewTokens: truth.outputTokenIds.length,
    oracle: { acceptance, baselineTokenIds: truth.outputTokenIds, seed },
    ...extra,
  });
}

/** the checks every oracle run must pass: its metrics agree with its counts */
function checkMetrics(r: RunResult): void {
  const m = r.metrics;
  const h = r.acceptedPerStepHistogram;
  expect(h.length).toBeGreaterThanOrEqual(r.k! + 1);
  expect(h.reduce((a, b) => a + b, 0)).toBe(m.verificationSteps);
  expect(h.reduce((a, n, accepted) => a + n * accepted, 0)).toBe(m.acceptedTokens);
  expect(r.meanAcceptanceLength).toBeCloseTo(1 + m.acceptedTokens / m.verificationSteps, 12);
  // tested: every accepted draft and each step's first rejection (none after it)
  expect(r.draftTokensTested).toBe(m.acceptedTokens + m.corrections);
  expect(r.draftTokensTested).toBeLessThanOrEqual(m.draftedTokens);
  const { draftS, targetS, otherS } = r.timeSplit;
  expect(Math.abs(draftS + targetS + otherS - m.timeS)).toBeLessThanOrEqual(0.02 * m.timeS);
  expect(otherS).toBeGreaterThanOrEqual(0);
  // the event loop's wait is no pass's time: it is in the rest
  expect(otherS).toBeGreaterThanOrEqual((m.queuedS ?? 0) - 1e-9);
  // a whole pass holds its session.run
  expect(targetS).toBeGreaterThanOrEqual(m.targetRunS);
  expect(draftS).toBeGreaterThanOrEqual(m.draftRunS);
  expect(r.acceptanceTarget).not.toBeNull();
}

describe('oracle drafter on the fixtures (micro-a target, micro-b draft)', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(MICRO_A, MICRO_B);
  });
  afterAll(() => releasePair(pair));

  it('gives the baseline output for every K = 1..8 and every A, drafting K tokens a step', async () => {
    const truth = await baseline(pair, PROMPT, 40);
    for (const acceptance of [0.1, 0.5, 0.8, 0.95]) {
      for (let k = 1; k <= 8; k++) {
        const run = oracleRun(pair, k, truth, acceptance, k);
        let made = 0;
        for (let evs = await run.nextStep(); evs; evs = await run.nextStep()) {
          const drafted = evs.flatMap((e) => (e.type === 'draft' ? [e.tokenId] : []));
          // K drafts a step where there is room, fewer only when a draft ends the text
          if (!pair.eosTokenIds.includes(drafted.at(-1) ?? -1))
            expect(drafted.length).toBe(
              Math.max(0, Math.min(k, truth.outputTokenIds.length - made - 1)),
            );
          for (const e of evs) if (e.type === 'emit') made++;
        }
        const r = await run.runToEnd();
        expect(r.outputTokenIds).toEqual(truth.outputTokenIds);
        checkMetrics(r);
        // the draft model runs every pass a real draft would: one per drafted token
        expect(r.metrics.draftPasses).toBe(r.metrics.draftedTokens);
      }
    }
  });

  it('is reproducible: the same seed gives the same verdicts, another seed others', async () => {
    const truth = await baseline(pair, PROMPT, 40);
    const verdicts = async (seed: number) => {
      const out: string[] = [];
      for await (const ev of oracleRun(pair, 4, truth, 0.6, seed).events())
        if (ev.type === 'verify') out.push(ev.verdicts.join(','));
      return out.join('|');
    };
    expect(await verdicts(7)).toBe(await verdicts(7));
    expect(await verdicts(7)).not.toBe(await verdicts(8));
  });

  it("feeds the draft model what was drafted (its cache stays the context's and the drafts')", async () => {
    const truth = await baseline(pair, PROMPT, 40);
    const lm = pair.draft!.lm;
    const fed: number[] = [];
    const forward = lm.forward.bind(lm);
    lm.forward = (tokens, greedy) => {
      fed.length = lm.length; // what a crop dropped is gone
      fed.push(...tokens);
      return forward(tokens, greedy);
    };
    try {
      const run = oracleRun(pair, 5, truth, 0.5, 3);
      const context = [...run.promptTokenIds];
      let checkedSteps = 0;
      for (let evs = await run.nextStep(); evs; evs = await run.nextStep()) {
        const drafted = evs.flatMap((e) => (e.type === 'draft' ? [e.tokenId] : []));
        if (drafted.length > 0) {
          // every pass fed the token drafted before it: the cache holds context + drafts[0..k-2]
          expect(fed).toEqual(
            [...context, ...drafted].slice(0, context.length + drafted.length - 1),
          );
          checkedSteps++;
        }
        for (const e of evs) if (e.type === 'emit') context.push(e.tokenId);
      }
      expect(checkedSteps).toBeGreaterThan(3);
    } finally {
      lm.forward = forward;
    }
  });

  it.each([0.5, 0.8])(
    'accepts each tested draft with probability A = %s (2,000+ positions, within 4 sigma)',
    async (acceptance) => {
      let accepted = 0;
      let tested = 0;
      let seed = 0;
      // several prompts, K and seeds until enough positions were tested
      while (tested < 2000) {
        const prompt = PROMPTS[seed % PROMPTS.length]!;
        const truth = await baseline(pair, prompt, 50);
        const k = 1 + (seed % 8);
        const r = await oracleRun(pair, k, truth, acceptance, 1000 + seed, { prompt }).runToEnd();
        expect(r.outputTokenIds).toEqual(truth.outputTokenIds);
        checkMetrics(r);
        accepted += r.metrics.acceptedTokens;
        tested += r.draftTokensTested;
        seed++;
      }
      const sigma = Math.sqrt((acceptance * (1 - acceptance)) / tested);
      expect(Math.abs(accepted / tested - acceptance)).toBeLessThanOrEqual(4 * sigma);
    },
  );

  it('refuses what it cannot run with, saying why', () => {
    const truth = { outputTokenIds: [1, 2, 3] } as RunResult;
    const make =
      (extra: Partial<SpeculativeOptions>, acceptance = 0.8) =>
      () =>
        oracleRun(pair, 3, truth, acceptance, 0, extra);
    expect(make({ policy: 'confidence' })).toThrow(
      /confidence policy stops drafting on the draft model’s probability, which the oracle drafter .* does not have/,
    );
    expect(make({ drafter: 'prompt-lookup' })).toThrow(/prompt lookup makes no draft-model passes/);
    expect(make({ sampling: { temperature: 1, topK: 0, topP: 1, seed: 0 } })).toThrow(
      /needs greedy decoding: .*not what a sampled target draws/,
    );
    for (const a of [0, 1, -0.5, 1.5, Number.NaN]) {
      expect(make({}, a)).toThrow(/between 0 and 1, both excluded/);
    }
    // the heuristic policy runs with it
    expect(make({ policy: 'heuristic' })).not.toThrow();
  });
});

describe('oracle drafter on the embedded pair', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(PAIR_TARGET, PAIR_DRAFT);
  });
  afterAll(() => releasePair(pair));

  it('gives the baseline output for every K = 1..8', async () => {
    for (const prompt of PROMPTS.slice(0, 2)) {
      const truth = await baseline(pair, prompt, 60);
      for (let k = 1; k <= 8; k++) {
        const r = await oracleRun(pair, k, truth, 0.8, k, { prompt }).runToEnd();
        expect(r.outputTokenIds).toEqual(truth.outputTokenIds);
        checkMetrics(r);
      }
    }
  });

  it("counts the draft model's own agreement where its context was the target's text, exactly", async () => {
    const truth = await baseline(pair, PROMPT, 60);
    const reference = [...pair.tokenizer.encode(PROMPT), ...truth.outputTokenIds];
    // teacher-forced: the draft model's greedy token after every prefix of the target's text
    pair.draft!.lm.reset();
    const logits = await pair.draft!.lm.forward(reference);
    const gap = new Float64Array(1);
    const agrees = (position: number): boolean =>
      logits.argmax(position - 1, gap) === reference[position];
    for (const [k, a] of [
      [1, 0.5],
      [4, 0.8],
      [8, 0.3],
    ] as const) {
      const events: EngineEvent[] = [];
      const run = oracleRun(pair, k, truth, a, 7);
      for await (const e of run.events()) events.push(e);
      const r = await run.runToEnd();
      // counted: each step's drafts up to and including the first the oracle made wrong
      let positions = 0;
      let agreed = 0;
      let wrongInStep = -1;
      for (const e of events) {
        if (e.type !== 'draft') continue;
        if (e.index === 0) wrongInStep = -1;
        if (wrongInStep >= 0 || e.position >= reference.length) continue;
        positions++;
        if (agrees(e.position)) agreed++;
        if (e.tokenId !== reference[e.position]) wrongInStep = e.index;
      }
      expect(r.draftModelAgreement).toEqual({ positions, agreed });
      expect(positions).toBeGreaterThan(10);
    }
    // real drafting has no such count
    const real = await new SpeculativeRun(pair, 2, { prompt: PROMPT, maxNewTokens: 20 }).runToEnd();
    expect(real.draftModelAgreement ?? null).toBeNull();
  });

  it('a sweep with acceptance targets runs each as its own configuration, from its baseline', async () => {
    const config: SweepConfig = {
      prompts: PROMPTS.slice(0, 2),
      maxNewTokens: 24,
      ks: [2, 4],
      repeats: 2,
      warmup: 1,
      noKvCache: false,
      acceptance: [0.6, 0.9],
    };
    checkSweepSettings(config);
    const starts: Array<number | undefined> = [];
    const events: EngineEvent[] = [];
    const { runs } = await runSweep(pair, config, {
      onRunStart: (info) => starts.push(info.acceptanceTarget),
      onEvent: (ev) => void events.push(ev),
    });
    // per repeat and prompt: the baseline, then 2 targets x 2 K
    expect(runs).toHaveLength(2 * 2 * 5);
    expect(starts.filter((a) => a === undefined)).toHaveLength(4);
    for (const r of runs) {
      if (r.mode === 'baseline') {
        expect(r.acceptanceTarget).toBeNull();
        continue;
      }
      expect([0.6, 0.9]).toContain(r.acceptanceTarget);
      expect(r.identical).toBe(true);
      checkMetrics(r);
    }
    expect(runs.filter((r) => r.acceptanceTarget === 0.9 && r.k === 4)).toHaveLength(4);
  });

  it('refuses a sweep whose drafters, policies or sampling cannot run with it', () => {
    const base: SweepConfig = {
      prompts: [PROMPT],
      maxNewTokens: 10,
      ks: [2],
      repeats: 1,
      warmup: 0,
      noKvCache: false,
      acceptance: [0.8],
    };
    expect(() => checkSweepSettings({ ...base, drafters: ['model', 'prompt-lookup'] })).toThrow(
      /prompt lookup makes no draft-model passes/,
    );
    expect(() => checkSweepSettings({ ...base, policies: ['fixed', 'confidence'] })).toThrow(
      /confidence policy/,
    );
    expect(() =>
      checkSweepSettings({ ...base, sampling: { temperature: 0.7, topK: 0, topP: 1, seed: 1 } }),
    ).toThrow(/needs greedy decoding/);
    expect(() => checkSweepSettings({ ...base, acceptance: [0.5, 1] })).toThrow(/between 0 and 1/);
    expect(() => checkSweepSettings({ ...base, acceptance: [] })).toThrow(/at least one/);
  });
});

describe('oracle drafter on another family (the tiny llama pair)', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(join(LLAMA, 'llama-tiny-target'), join(LLAMA, 'llama-tiny-draft'));
  });
  afterAll(() => releasePair(pair));

  it('gives the baseline output for every K = 1..8, its metrics consistent', async () => {
    const truth = await baseline(pair, PROMPT, 30);
    for (let k = 1; k <= 8; k++) {
      const r = await oracleRun(pair, k, truth, 0.7, k).runToEnd();
      expect(r.outputTokenIds).toEqual(truth.outputTokenIds);
      checkMetrics(r);
      expect(r.metrics.draftPasses).toBe(r.metrics.draftedTokens);
    }
  });
});
