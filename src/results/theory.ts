/**
 * Leviathan et al. (2023): with per-token acceptance probability a and cost ratio c (draft pass
 * over target pass), K drafts per step give these expectations. They assume a target pass over
 * K + 1 tokens costs what a one-token pass costs.
 */
import type { Theory } from '../shared/protocol';
import { median } from '../shared/stats';
import type { DrafterKind } from '../shared/decoding';
import { measuresAlpha } from './strategy';

/** expected new tokens per target pass: (1 - a^(K+1)) / (1 - a) */
export function expectedTokensPerPass(a: number, k: number): number {
  if (a >= 1) return k + 1;
  return (1 - a ** (k + 1)) / (1 - a);
}

/** expected wall-clock speedup over the baseline: (1 - a^(K+1)) / ((1 - a)(K c + 1)) */
export function expectedSpeedup(a: number, c: number, k: number): number {
  return expectedTokensPerPass(a, k) / (k * c + 1);
}

/**
 * The same expectation with the verification cost measured instead of assumed:
 * E[tokens per pass] x t_target(1) / (K t_draft(1) + t_target(K + 1)), where
 * v = t_target(K + 1) / t_target(1), so it is E[tokens per pass] / (K c + v).
 */
export function expectedSpeedupMeasuredCost(a: number, c: number, k: number, v: number): number {
  return expectedTokensPerPass(a, k) / (k * c + v);
}

/** the K in [1, maxK] with the best expected speedup */
export function bestPredictedK(a: number, c: number, maxK = 16): number {
  let best = 1;
  for (let k = 2; k <= maxK; k++)
    if (expectedSpeedup(a, c, k) > expectedSpeedup(a, c, best)) best = k;
  return best;
}

/** Rows that carry what the prediction needs (RunRow has these fields). */
interface AcceptanceRow {
  mode: string;
  k: number | null;
  drafter?: DrafterKind | null | undefined;
  acceptanceRate: number | null;
  /** controlled acceptance's target: such a run's alpha was set, not measured */
  acceptanceTarget?: number | null | undefined;
}

/** What a sweep's prediction carries: the protocol's Theory. */
export type SweepTheory = Theory;

/**
 * The prediction for a sweep: alpha is the median acceptance of its K=1 model-drafted runs
 * (one draft per step measures the per-token acceptance directly), c the measured cost ratio
 * and, when measured, the verification cost per K. Null without alpha and c.
 */
export function predictFromSweep(
  rows: readonly AcceptanceRow[],
  c: number | null,
  verifyCost?: Record<string, number>,
): SweepTheory | null {
  const rates = rows
    .filter(measuresAlpha)
    .map((r) => r.acceptanceRate)
    .filter((a): a is number => a !== null);
  if (c === null || rates.length === 0) return null;
  const alpha = median(rates);
  const theory: SweepTheory = { alpha, c, bestK: bestPredictedK(alpha, c) };
  const measured = Object.entries(verifyCost ?? {});
  if (measured.length > 0) {
    theory.verifyCost = verifyCost!;
    const speed = ([k, v]: [string, number]): number =>
      expectedSpeedupMeasuredCost(alpha, c, Number(k), v);
    theory.bestKMeasuredCost = Number(
      measured.reduce((best, e) => (speed(e) > speed(best) ? e : best))[0],
    );
  }
  return theory;
}

/** the measured-cost prediction at K, when the sweep measured that K's verification cost */
export function predictedMeasuredCost(theory: SweepTheory | null, k: number): number | null {
  const v = theory?.verifyCost?.[String(k)];
  return theory && v !== undefined
    ? expectedSpeedupMeasuredCost(theory.alpha, theory.c, k, v)
    : null;
}
