/**
 * A pair's greedy baseline with, at each new token, the gap between the target's top two logits:
 * where a quantized model's multi-token pass rounds differently from a one-token pass, speculative
 * output may part from the baseline only where that gap is small (a near-tie).
 */
import { expect } from 'vitest';
import { BaselineRun } from '../../src/core/decoding/baseline';
import { SpeculativeRun } from '../../src/core/decoding/speculative';
import { argmaxWithMargin } from '../../src/core/model/argmax';
import type { ModelPair } from '../../src/core/model/pair';

export interface BaselineMargins {
  ids: number[];
  /** top-1 minus top-2 logit of the target at each new token */
  margins: number[];
  /** the largest |logit| seen: the scale a near-tie is measured against */
  scale: number;
}

export async function baselineWithMargins(
  pair: ModelPair,
  prompt: string,
  maxNewTokens: number,
): Promise<BaselineMargins> {
  const { outputTokenIds: ids } = await new BaselineRun(pair, { prompt, maxNewTokens }).runToEnd();
  const lm = pair.target.lm;
  lm.reset();
  const gap = new Float64Array(1);
  const margins: number[] = [];
  let scale = 0;
  let logits = await lm.forward(pair.tokenizer.encode(prompt));
  for (const id of ids) {
    const row = logits.row(logits.rows - 1);
    argmaxWithMargin(row, gap);
    margins.push(gap[0]!);
    for (const v of row) scale = Math.max(scale, Math.abs(v));
    logits = await lm.forward([id]);
  }
  lm.reset();
  return { ids, margins, scale };
}

/**
 * Greedy speculative runs for K = 1..maxK on each prompt, each checked against the baseline: the
 * same tokens, or (where `nearTie` > 0) a first difference where the baseline's top-two gap is
 * under `nearTie` of its logit scale. Returns how many runs were identical and drafts rejected.
 */
export async function expectLosslessExceptNearTies(
  pair: ModelPair,
  prompts: readonly string[],
  maxK: number,
  maxNewTokens: number,
  nearTie: number,
): Promise<{ identical: number; rejected: number }> {
  let identical = 0;
  let rejected = 0;
  for (const prompt of prompts) {
    const base = await baselineWithMargins(pair, prompt, maxNewTokens);
    for (let k = 1; k <= maxK; k++) {
      const spec = await new SpeculativeRun(pair, k, { prompt, maxNewTokens }).runToEnd();
      rejected += spec.metrics.draftedTokens - spec.metrics.acceptedTokens;
      const at = spec.outputTokenIds.findIndex((t, i) => t !== base.ids[i]);
      if (at === -1) {
        expect(spec.outputTokenIds).toEqual(base.ids);
        identical++;
      } else {
        expect(nearTie, `K=${k} "${prompt}" differs at new token ${at}`).toBeGreaterThan(0);
        expect(base.margins[at]!, `K=${k} differs at ${at}`).toBeLessThan(nearTie * base.scale);
      }
    }
  }
  return { identical, rejected };
}
