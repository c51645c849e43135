/**
 * A pair's greedy baseline with, at each new token, the gap between the target's top two logits:
 * where a quantized model's multi-token pass rounds differently from a one-token pass, speculative
 * output may part from the baseline only where that gap is small (a near-tie).
 */
import { BaselineRun } from '../../src/core/decoding/baseline';
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
