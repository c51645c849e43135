/** The decoding loops on real ONNX models: lossless output, exact pass counts, stops, events. */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import { MICRO_A, MICRO_B, PAIR_DRAFT, PAIR_TARGET, copyFolder } from '../support/helpers';
import { checkEvents, collect } from '../support/runEvents';

const PROMPTS = [
  'Artificial intelligence is rapidly transforming our world by',
  'The old man looked out across the river and said',
  'In 1961 the committee',
];

describe('fixture pair (micro-a target, micro-b draft: many rejections)', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(MICRO_A, MICRO_B);
  });
  afterAll(() => releasePair(pair));

  it.each(PROMPTS)('speculative output equals the baseline for K = 1..8: %s', async (prompt) => {
    const base = await collect(new BaselineRun(pair, { prompt, maxNewTokens: 25 }));
    checkEvents(base.events, base.result);
    expect(base.result.metrics.targetPasses).toBe(base.result.metrics.newTokens);
    for (let k = 1; k <= 8; k++) {
      const spec = await collect(
        new SpeculativeRun(pair, k, { prompt, maxNewTokens: 25, reportProbabilities: true }),
      );
      expect(spec.result.outputTokenIds).toEqual(base.result.outputTokenIds);
      checkEvents(spec.events, spec.result);
      expect(spec.result.metrics.corrections).toBeGreaterThan(0);
    }
  });

  it('the no-KV-cache baseline gives the same tokens with the same number of passes', async () => {
    const prompt = PROMPTS[1]!;
    const cached = await new BaselineRun(pair, { prompt, maxNewTokens: 20 }).runToEnd();
    const uncached = await new BaselineRun(pair, { prompt, maxNewTokens: 20 }, false).runToEnd();
    expect(uncached.mode).toBe('baseline-no-cache');
    expect(uncached.outputTokenIds).toEqual(cached.outputTokenIds);
    expect(uncached.metrics.targetPasses).toBe(20);
  });

  it('stops at max new tokens without overshooting, for every K', async () => {
    for (const max of [1, 2, 7]) {
      for (const k of [1, 3, 8]) {
        const r = await new SpeculativeRun(pair, k, {
          prompt: PROMPTS[0]!,
          maxNewTokens: max,
        }).runToEnd();
        expect(r.outputTokenIds.length).toBe(max);
        expect(r.stopReason).toBe('max-new-tokens');
      }
    }
  });

  it('stops at the context limit with a stated reason, identical to the baseline', async () => {
    // micro models hold 64 positions; the prompt is 29 tokens, so 35 new tokens fit.
    const prompt = PROMPTS[0]!;
    const promptLen = pair.tokenizer.encode(prompt).length;
    const base = await new BaselineRun(pair, { prompt, maxNewTokens: 500 }).runToEnd();
    expect(base.stopReason).toBe('context-limit');
    expect(promptLen + base.outputTokenIds.length).toBe(64);
    for (const k of [1, 4, 8]) {
      const spec = await new SpeculativeRun(pair, k, { prompt, maxNewTokens: 500 }).runToEnd();
      expect(spec.stopReason).toBe('context-limit');
      expect(spec.outputTokenIds).toEqual(base.outputTokenIds);
    }
  });

  it('can be pulled one step at a time', async () => {
    const run = new SpeculativeRun(pair, 3, { prompt: PROMPTS[2]!, maxNewTokens: 12 });
    const first = await run.nextStep();
    expect(first![0]!.type).toBe('run-start');
    expect(first!.at(-1)!.type).toBe('step-end');
    let stepEnds = 1;
    while (!run.done) {
      const evs = await run.nextStep();
      const ends = evs!.filter((e) => e.type === 'step-end').length;
      expect(ends).toBeLessThanOrEqual(1);
      stepEnds += ends;
    }
    expect(await run.nextStep()).toBeNull();
    const r = await run.runToEnd();
    // one target pass per step
    expect(r.metrics.targetPasses).toBe(stepEnds);
    expect(r.outputTokenIds.length).toBe(12);
  });

  it("counts the wait for the event loop before a pass as queuedS, not as session.run's time", async () => {
    // onnxruntime-node starts a pass from a setImmediate: a callback already due runs first, as
    // a host's messages to the app do. Here each step finds one that keeps the thread 30 ms.
    const run = new BaselineRun(pair, { prompt: PROMPTS[0]!, maxNewTokens: 3 });
    const busy = (): void => {
      const until = performance.now() + 30;
      while (performance.now() < until);
    };
    for (let i = 0; i < 3; i++) {
      setImmediate(busy);
      await run.nextStep();
    }
    const m = run.metrics();
    expect(m.targetPasses).toBe(3);
    expect(m.queuedS).toBeGreaterThanOrEqual(0.09);
    // three passes of a micro model take well under a millisecond each
    expect(m.targetRunS).toBeLessThan(m.queuedS! / 3);
    expect(m.timeS).toBeGreaterThanOrEqual(m.queuedS!);
  });

  it('a cancel stops within one step and keeps the tokens already made', async () => {
    const controller = new AbortController();
    const run = new SpeculativeRun(pair, 2, {
      prompt: PROMPTS[0]!,
      maxNewTokens: 30,
      signal: controller.signal,
    });
    await run.nextStep();
    await run.nextStep();
    const made = run.metrics().newTokens;
    controller.abort();
    const evs = await run.nextStep();
    expect(evs!.map((e) => e.type)).toEqual(['run-end']);
    const r = await run.runToEnd();
    expect(r.stopReason).toBe('cancelled');
    expect(r.outputTokenIds.length).toBe(made);
    expect(made).toBeGreaterThan(0);
  });
});

describe('draft identical to the target', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(MICRO_A, MICRO_A);
  });
  afterAll(() => releasePair(pair));

  it('accepts every drafted token and makes exactly ceil(N / (K + 1)) target passes', async () => {
    const prompt = PROMPTS[2]!;
    const n = 30;
    const base = await new BaselineRun(pair, { prompt, maxNewTokens: n }).runToEnd();
    for (let k = 1; k <= 8; k++) {
      const r = await new SpeculativeRun(pair, k, { prompt, maxNewTokens: n }).runToEnd();
      const m = r.metrics;
      expect(r.outputTokenIds).toEqual(base.outputTokenIds);
      expect(m.acceptanceRate).toBe(1);
      expect(m.corrections).toBe(0);
      // Each step drafts min(K, remaining - 1) tokens and adds the target's bonus token.
      expect(m.targetPasses).toBe(Math.ceil(n / (k + 1)));
      expect(m.draftedTokens).toBe(n - m.targetPasses);
      expect(m.draftPasses).toBe(m.draftedTokens);
      expect(m.tokensPerTargetPass).toBeCloseTo(n / Math.ceil(n / (k + 1)), 10);
    }
  });
});

describe('end of text', () => {
  it('stops right after EOS, in the baseline and in speculative decoding', async () => {
    // Make the token the models write 6th the end-of-text token of a copy of the fixtures.
    const probe = await loadPair(MICRO_A, MICRO_B);
    const prompt = PROMPTS[1]!;
    const ids = (await new BaselineRun(probe, { prompt, maxNewTokens: 10 }).runToEnd())
      .outputTokenIds;
    await releasePair(probe);
    const eos = ids[5]!;
    const firstAt = ids.indexOf(eos);
    const dirs = [copyFolder(MICRO_A), copyFolder(MICRO_B)];
    for (const dir of dirs) {
      const cfgPath = join(dir, 'config.json');
      const cfg = JSON.parse(readFileSync(cfgPath, 'utf8')) as Record<string, unknown>;
      writeFileSync(cfgPath, JSON.stringify({ ...cfg, eos_token_id: eos }));
    }
    const pair = await loadPair(dirs[0]!, dirs[1]!);
    const base = await new BaselineRun(pair, { prompt, maxNewTokens: 30 }).runToEnd();
    expect(base.stopReason).toBe('eos');
    expect(base.outputTokenIds).toEqual(ids.slice(0, firstAt + 1));
    for (const k of [1, 2, 5]) {
      const spec = await new SpeculativeRun(pair, k, { prompt, maxNewTokens: 30 }).runToEnd();
      expect(spec.stopReason).toBe('eos');
      expect(spec.outputTokenIds).toEqual(base.outputTokenIds);
    }
    await releasePair(pair);
  });
});

describe('embedded pair', () => {
  let pair: ModelPair;
  beforeAll(async () => {
    pair = await loadPair(PAIR_TARGET, PAIR_DRAFT);
  });
  afterAll(() => releasePair(pair));

  it.each(PROMPTS)(
    'speculative output equals the baseline for K = 1..8, with a mix of verdicts: %s',
    async (prompt) => {
      const base = await new BaselineRun(pair, { prompt, maxNewTokens: 60 }).runToEnd();
      for (let k = 1; k <= 8; k++) {
        const spec = await collect(new SpeculativeRun(pair, k, { prompt, maxNewTokens: 60 }));
        expect(spec.result.outputTokenIds).toEqual(base.outputTokenIds);
        checkEvents(spec.events, spec.result);
        expect(spec.result.metrics.acceptedTokens).toBeGreaterThan(0);
      }
    },
  );
});
