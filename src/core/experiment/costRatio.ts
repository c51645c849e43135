/**
 * The cost ratio c: median time of one draft pass over the median time of one target pass, one
 * new token on a cache of `cacheTokens` tokens, session.run time only.
 */
import type { OnnxCausalLM } from '../model/causalLm';
import { median } from '../../shared/stats';

export interface CostRatio {
  c: number;
  draftMs: number;
  targetMs: number;
}

/** Sampling stops after this long once a few samples are in: a slow provider must not stall. */
const BUDGET_MS = 2000;
const MIN_SAMPLES = 5;

/** median session.run milliseconds of a one-token pass after `cacheTokens` cached tokens */
export async function medianPassMs(
  lm: OnnxCausalLM,
  cacheTokens: number,
  samples: number,
): Promise<number> {
  const times: number[] = [];
  const warmup = 5;
  const started = performance.now();
  lm.reset();
  // Any tokens will do for timing: the cost does not depend on which ids they are.
  await lm.forward(Array.from({ length: cacheTokens }, (_, j) => (j * 37) % 256));
  for (let i = 0; i < samples + warmup; i++) {
    const before = lm.runMs;
    await lm.forward([13]);
    if (i >= warmup) times.push(lm.runMs - before);
    lm.crop(cacheTokens);
    if (times.length >= MIN_SAMPLES && performance.now() - started > BUDGET_MS) break;
  }
  lm.reset();
  return median(times);
}

export async function measureCostRatio(
  target: OnnxCausalLM,
  draft: OnnxCausalLM,
  cacheTokens = 40,
  samples = 200,
): Promise<CostRatio> {
  const targetMs = await medianPassMs(target, cacheTokens, samples);
  const draftMs = await medianPassMs(draft, cacheTokens, samples);
  return { c: draftMs / targetMs, draftMs, targetMs };
}
