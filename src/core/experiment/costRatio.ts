/**
 * The pair's costs, measured one way everywhere (the CLI, the app, the benchmark, the model
 * cards): medians of session.run time after a cache of CACHE_TOKENS tokens, SAMPLES passes each
 * (fewer once BUDGET_MS is spent, so a slow provider cannot stall a sweep).
 *
 * - c: a one-token draft pass over a one-token target pass (Leviathan's cost ratio);
 * - verifyCost[K]: a target pass over K + 1 tokens (what a verification step runs) over a
 *   one-token target pass. Leviathan's formula takes it to be 1; it is not, and the measured
 *   curve predicts the speedup better (src/results/theory.ts).
 */
import type { OnnxCausalLM } from '../model/causalLm';
import { median } from '../../shared/stats';

const CACHE_TOKENS = 40;
const SAMPLES = 100;
const WARMUP = 5;
const BUDGET_MS = 2000;
const MIN_SAMPLES = 5;

export interface PairCosts {
  c: number;
  draftMs: number;
  targetMs: number;
  /** t_target(K + 1) / t_target(1) for each K asked for, keyed by K */
  verifyCost: Record<string, number>;
}

/** median session.run milliseconds of a pass over `tokens` new tokens after the cache */
export async function medianPassMs(lm: OnnxCausalLM, tokens = 1): Promise<number> {
  const times: number[] = [];
  const started = performance.now();
  lm.reset();
  // Any tokens will do for timing: the cost does not depend on which ids they are.
  await lm.forward(
    Array.from({ length: CACHE_TOKENS }, (_, j) => (j * 37) % 256),
    {},
  );
  const fed = Array.from({ length: tokens }, (_, j) => 13 + j);
  for (let i = 0; i < SAMPLES + WARMUP; i++) {
    const before = lm.runMs;
    await lm.forward(fed, {}); // what a greedy pass reads back
    if (i >= WARMUP) times.push(lm.runMs - before);
    lm.crop(CACHE_TOKENS);
    if (times.length >= MIN_SAMPLES && performance.now() - started > BUDGET_MS) break;
  }
  lm.reset();
  return median(times);
}

export async function measureCosts(
  target: OnnxCausalLM,
  draft: OnnxCausalLM,
  ks: readonly number[] = [],
): Promise<PairCosts> {
  const targetMs = await medianPassMs(target);
  const draftMs = await medianPassMs(draft);
  const verifyCost: Record<string, number> = {};
  const room = target.nPositions - CACHE_TOKENS;
  for (const k of [...new Set(ks)].sort((a, b) => a - b)) {
    if (k + 1 > room) continue;
    verifyCost[String(k)] = (await medianPassMs(target, k + 1)) / targetMs;
  }
  return { c: draftMs / targetMs, draftMs, targetMs, verifyCost };
}
