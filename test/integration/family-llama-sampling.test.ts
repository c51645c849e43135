/**
 * Speculative sampling on the tiny llama, qwen2 and phi3 models keeps the target's distribution, as
 * sampling.test.ts checks on GPT-2: over many seeded runs the first generated token follows the
 * target's own (warped) next-token distribution by a chi-square test (0.1% false alarms), with
 * the early-exit draft (drafts accepted and rejected) and with the own draft (nearly all
 * rejected); the same test rejects a broken residual step on the same models.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import { sample, warp, type SamplingParams } from '../../src/core/decoding/sampling';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { loadPair, releasePair, type ModelPair } from '../../src/core/model/pair';
import { chiSquare, chiSquareCritical } from '../support/chiSquare';
import { ROOT } from '../support/helpers';

const FAMILIES = join(ROOT, 'test', 'fixtures', 'families');
const PROMPT = 'The old man said';
const RUNS = 3000;
// the random llama target is sharp: at temperature 2 its first token spreads over 18 ids
const PARAMS = { temperature: 2, topK: 0, topP: 1 };

/**
 * family, name, draft, accepted drafts at least, and why a broken residual cannot be told apart
 * (null: it can): with a draft whose q hardly overlaps p, max(0, p - q) is nearly p itself
 */
const DRAFTS: Array<[string, string, string, number, string | null]> = [
  ['llama', 'its early exit (drafts accepted and rejected)', 'llama-tiny-early', 100, null],
  [
    'llama',
    'its own draft (drafts nearly all rejected)',
    'llama-tiny-draft',
    0,
    'this draft hardly overlaps the target: max(0, p - q) is nearly p, a residual drawn from p nearly right',
  ],
  ['qwen2', 'its early exit (drafts accepted and rejected)', 'qwen2-tiny-early', 100, null],
  ['phi3', 'its early exit (drafts accepted and rejected)', 'phi3-tiny-early', 100, null],
];

describe.each(DRAFTS)(
  'speculative sampling of the tiny %s target with %s',
  (family, _name, draft, minAccepted, noPower) => {
    let pair: ModelPair;
    let firstTokenDist: Float64Array;
    beforeAll(async () => {
      pair = await loadPair(join(FAMILIES, `${family}-tiny-target`), join(FAMILIES, draft));
      const lm = pair.target.lm;
      lm.reset();
      const logits = await lm.forward(pair.tokenizer.encode(PROMPT));
      lm.reset();
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

    it('plain target sampling passes the test', async () => {
      const { counts } = await firstTokens(
        (sampling) => new BaselineRun(pair, { prompt: PROMPT, maxNewTokens: 1, sampling }),
      );
      const { stat, df } = chiSquare(counts, firstTokenDist, RUNS);
      expect(df).toBeGreaterThan(3);
      expect(stat).toBeLessThan(chiSquareCritical(df));
    });

    it('speculative sampling matches the target distribution', async () => {
      const { counts, accepted, corrections } = await firstTokens(
        (sampling) => new SpeculativeRun(pair, 3, { prompt: PROMPT, maxNewTokens: 3, sampling }),
      );
      expect(accepted).toBeGreaterThanOrEqual(minAccepted);
      expect(corrections).toBeGreaterThan(100);
      const { stat, df } = chiSquare(counts, firstTokenDist, RUNS);
      expect(stat).toBeLessThan(chiSquareCritical(df));
    });

    it('a broken residual step (the correction drawn from p, not max(0, p - q)) fails it', async (ctx) => {
      if (noPower) ctx.skip(noPower);
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
  },
);
