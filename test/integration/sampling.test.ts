/**
 * Speculative sampling keeps the target's distribution: over many seeded runs the first generated
 * token follows the target's own (warped) next-token distribution, by a chi-square test with a
 * false-alarm rate of 0.1%. The same test rejects a deliberately broken residual step.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import {
  nucleus,
  sample,
  seededRandom,
  topOrder,
  warp,
  type SamplingParams,
} from '../../src/core/decoding/sampling';
import { applyRepetition } from '../../src/core/decoding/repetition';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import { chiSquare, chiSquareCritical } from '../support/chiSquare';
import { MICRO_A, MICRO_B } from '../support/helpers';

const PROMPT = 'The old man said';
const RUNS = 3000;
const PARAMS = { temperature: 2, topK: 0, topP: 1 };

describe('top-k and top-p without sorting the vocabulary', () => {
  /** the definition: sort every id (most probable first, lower id first on ties), keep a prefix */
  function reference(row: Float32Array, s: SamplingParams): Set<number> {
    const p = warp(row, { ...s, topK: 0, topP: 1 });
    const order = [...p.keys()].sort((a, b) => p[b]! - p[a]! || a - b);
    const keep = s.topK > 0 ? Math.min(s.topK, p.length) : p.length;
    let cum = 0;
    const kept = new Set<number>();
    for (const id of order.slice(0, keep)) {
      kept.add(id);
      cum += p[id]!;
      if (cum >= s.topP) break;
    }
    return kept;
  }

  it('keeps exactly the tokens a full sort keeps, ties included, on narrow and wide nuclei', () => {
    const random = seededRandom(11);
    for (let t = 0; t < 400; t++) {
      const n = [7, 300, 5000][t % 3]!;
      const shape = t % 4;
      const row = Float32Array.from({ length: n }, (_, i) =>
        shape === 0
          ? Math.round(random() * 3) // many exact ties
          : shape === 1
            ? random() * 0.2 // flat: top-p keeps most ids, past the 256-id heap
            : shape === 2
              ? -1.5 * Math.log(1 + ((i * 7919) % n))
              : random() * 12,
      );
      const s = {
        temperature: [0.7, 1, 1.6][t % 3]!,
        topK: [0, 1, 5, 50, 400, 10_000][t % 6]!,
        topP: [1, 0.5, 0.9, 0.95, 0.999][t % 5]!,
        seed: 0,
      };
      const p = warp(row, s);
      const kept = new Set([...p.keys()].filter((i) => p[i]! > 0));
      expect(kept, JSON.stringify({ t, n, shape, s })).toEqual(reference(row, s));
      const total = p.reduce((a, b) => a + b, 0);
      expect(Math.abs(total - 1)).toBeLessThan(1e-12);
    }
  });

  it('topOrder gives the first m of the full order; nucleus the shortest prefix holding the mass', () => {
    const w = Float64Array.from([0.1, 0.3, 0.1, 0.3, 0.05, 0.15]);
    expect([...topOrder(w, 4)]).toEqual([1, 3, 5, 0]);
    expect([...topOrder(w, 0)]).toEqual([]);
    const cut = nucleus(w, 6, 0.7);
    expect([...cut.kept].sort()).toEqual([1, 3, 5]);
    expect(cut.mass).toBeCloseTo(0.75, 12);
    expect([...nucleus(w, 2, 0.99).kept].sort()).toEqual([1, 3]); // top-k caps it
    expect([...nucleus(w, 6, 0.8).kept].sort()).toEqual([0, 1, 3, 5]); // tie at 0.1: lower id
  });
});

let pair: ModelPair;
let firstTokenDist: Float64Array;

beforeAll(async () => {
  pair = await loadPair(MICRO_A, MICRO_B);
  const lm = pair.target.lm;
  lm.reset();
  const logits = await lm.forward(pair.tokenizer.encode(PROMPT));
  firstTokenDist = warp(logits.row(logits.rows - 1), { ...PARAMS, seed: 0 });
});
afterAll(() => releasePair(pair));

/** the first generated token of RUNS seeded runs, counted; and how drafting went */
async function firstTokens(
  make: (sampling: SamplingParams) => SpeculativeRun | BaselineRun,
): Promise<{ counts: Map<number, number>; accepted: number; corrections: number }> {
  const counts = new Map<number, number>();
  let accepted = 0;
  let corrections = 0;
  for (let seed = 1; seed <= RUNS; seed++) {
    const r = await make({ ...PARAMS, seed }).runToEnd();
    const t = r.outputTokenIds[0]!;
    counts.set(t, (counts.get(t) ?? 0) + 1);
    accepted += r.metrics.acceptedTokens;
    corrections += r.metrics.corrections;
  }
  return { counts, accepted, corrections };
}

describe('speculative sampling', () => {
  it('the test itself: plain target sampling passes it', async () => {
    const { counts } = await firstTokens(
      (sampling) => new BaselineRun(pair, { prompt: PROMPT, maxNewTokens: 1, sampling }),
    );
    const { stat, df } = chiSquare(counts, firstTokenDist, RUNS);
    expect(df).toBeGreaterThan(3);
    expect(stat).toBeLessThan(chiSquareCritical(df));
  });

  it('matches the target distribution, with drafts accepted and rejected', async () => {
    const { counts, accepted, corrections } = await firstTokens(
      (sampling) => new SpeculativeRun(pair, 3, { prompt: PROMPT, maxNewTokens: 3, sampling }),
    );
    expect(accepted).toBeGreaterThan(100);
    expect(corrections).toBeGreaterThan(100);
    const { stat, df } = chiSquare(counts, firstTokenDist, RUNS);
    expect(stat).toBeLessThan(chiSquareCritical(df));
  });

  it('fails the test when the residual step is broken (sampling the correction from p instead of max(0, p - q))', async () => {
    const { counts } = await firstTokens(
      (sampling) =>
        new SpeculativeRun(pair, 3, {
          prompt: PROMPT,
          maxNewTokens: 3,
          sampling,
          residual: (p, _q, random) => sample(p, random),
        }),
    );
    const { stat, df } = chiSquare(counts, firstTokenDist, RUNS);
    expect(stat).toBeGreaterThan(chiSquareCritical(df));
  });

  it('is reproducible for a seed', async () => {
    const run = (seed: number) =>
      new SpeculativeRun(pair, 4, {
        prompt: PROMPT,
        maxNewTokens: 20,
        sampling: { ...PARAMS, seed },
      }).runToEnd();
    expect((await run(7)).outputTokenIds).toEqual((await run(7)).outputTokenIds);
    expect((await run(7)).outputTokenIds).not.toEqual((await run(8)).outputTokenIds);
    expect(seededRandom(1)()).toBe(seededRandom(1)());
  });
});

describe('speculative sampling under repetition controls', () => {
  // n = 1 bans every prompt token, and the penalty reshapes what is left
  const repetition = { penalty: 3, noRepeatNgram: 1 };
  let processed: Float64Array;
  beforeAll(async () => {
    const lm = pair.target.lm;
    lm.reset();
    const ids = pair.tokenizer.encode(PROMPT);
    const row = (await lm.forward(ids)).row(ids.length - 1);
    applyRepetition(row, repetition, ids);
    processed = warp(row, { ...PARAMS, seed: 0 });
  });

  it('keeps the processed target distribution, and never draws a banned token', async () => {
    const { counts, accepted, corrections } = await firstTokens(
      (sampling) =>
        new SpeculativeRun(pair, 3, { prompt: PROMPT, maxNewTokens: 3, sampling, repetition }),
    );
    expect(accepted).toBeGreaterThan(100);
    expect(corrections).toBeGreaterThan(100);
    const fit = chiSquare(counts, processed, RUNS);
    expect(fit.stat).toBeLessThan(chiSquareCritical(fit.df));
    // power: the plain distribution would have drawn a prompt token (banned by n = 1) many times
    const ids = [...new Set(pair.tokenizer.encode(PROMPT))];
    const expectedPlain = RUNS * ids.reduce((sum, t) => sum + firstTokenDist[t]!, 0);
    expect(expectedPlain).toBeGreaterThan(10);
    expect(ids.reduce((sum, t) => sum + (counts.get(t) ?? 0), 0)).toBe(0);
  });
});
