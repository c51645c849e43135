/**
 * The series questions 1 to 4 are answered on: one drafter / policy's runs over K (at one
 * acceptance target when acceptance is controlled), the alpha its expectations use, and its best
 * K (by speedup, or by time without a baseline).
 */
import type { RunRow, Theory } from '../../shared/protocol';
import type { GridCosts } from '../acceptanceGrid';
import { measuresAlpha, REFERENCE_STRATEGY, strategyName } from '../strategy';
import { baselineRow, bestOf, type SummaryRow } from '../summary';
import { bestPredictedK, expectedSpeedupMeasuredCost } from '../theory';
import { kVerdictOf, type KVerdict } from './kVerdict';
import { kPoint, medianOf } from './facts';
import type { KPoint } from './types';

export interface KSeries {
  /** the drafter / policy, e.g. "model / fixed" */
  strategy: string;
  /** the series is the draft model with a fixed K, the case Leviathan's formulas describe */
  theoryApplies: boolean;
  /** by K, ascending */
  points: KPoint[];
  /** the series' summary rows, by K */
  rows: SummaryRow[];
  /** the sweep has a finished speculative configuration at all */
  anySpeculative: boolean;
  /** finished K=1 runs drafted by the model: what alpha is measured from */
  k1Runs: number;
  /** their median acceptance (null without such runs) */
  k1Alpha: number | null;
  /** per-token acceptance for the expectations: the target's, else the theory's, else k1Alpha */
  alpha: number | null;
  /** the series' controlled acceptance: the best configuration's (null: real drafting) */
  acceptanceTarget: number | null;
  /** swept acceptance targets of the strategy, ascending (empty: real drafting only) */
  acceptanceTargets: number[];
  /** the theory the series is predicted with: at the target with the measured costs, else the sweep's */
  theory: Theory | null;
  /** the verdict over the series' Ks (kVerdict.ts: bestOf's paired rule) */
  verdict: KVerdict | null;
  measuredBestK: number | null;
  bestPoint: KPoint | null;
}

/**
 * Leviathan's prediction at a set alpha with the pair's measured costs: what a controlled series
 * is compared with (its alpha is the target, not measured).
 */
function theoryAt(alpha: number, costs: GridCosts): Theory {
  const theory: Theory = { alpha, c: costs.c, bestK: bestPredictedK(alpha, costs.c) };
  const measured = Object.entries(costs.verifyCost ?? {});
  if (measured.length > 0) {
    theory.verifyCost = { ...costs.verifyCost };
    const speed = ([k, v]: [string, number]): number =>
      expectedSpeedupMeasuredCost(alpha, costs.c, Number(k), v);
    theory.bestKMeasuredCost = Number(
      measured.reduce((best, e) => (speed(e) > speed(best) ? e : best))[0],
    );
  }
  return theory;
}

export function kSeriesOf(
  summary: readonly SummaryRow[],
  rows: readonly RunRow[],
  groups: ReadonlyMap<string, RunRow[]>,
  theory: Theory | null,
  costs: GridCosts | null = null,
): KSeries {
  // The draft model with fixed K when the sweep has it, else the drafter / policy of the best
  // configuration. Token trees are no K points (their K is a depth; "Token trees against
  // chains" compares them), so the series is the chains'.
  const specRows = summary.filter((r) => r.mode === 'speculative' && r.k !== null && !r.tree);
  const overallChoice = bestOf(summary)?.row ?? null;
  const overallBest = overallChoice?.tree ? null : overallChoice;
  const strategy =
    specRows.find((r) => strategyName(r) === REFERENCE_STRATEGY) !== undefined
      ? REFERENCE_STRATEGY
      : overallBest
        ? strategyName(overallBest)
        : specRows[0]
          ? strategyName(specRows[0])
          : REFERENCE_STRATEGY;
  const ofStrategy = specRows.filter((r) => strategyName(r) === strategy);
  // one acceptance per series: real drafting where the strategy has it, else the target of the
  // best configuration (else the highest target), so no K appears twice
  const acceptanceTargets = [
    ...new Set(
      ofStrategy.flatMap((r) => (r.acceptanceTarget === null ? [] : [r.acceptanceTarget])),
    ),
  ].sort((a, b) => a - b);
  const acceptanceTarget = ofStrategy.some((r) => r.acceptanceTarget === null)
    ? null
    : overallBest && strategyName(overallBest) === strategy && overallBest.acceptanceTarget !== null
      ? overallBest.acceptanceTarget
      : (acceptanceTargets.at(-1) ?? null);
  const seriesRows = ofStrategy
    .filter((r) => r.acceptanceTarget === acceptanceTarget)
    .sort((a, b) => a.k! - b.k!);
  const theoryApplies = strategy === REFERENCE_STRATEGY;

  // alpha: the target's, else the theory's, else the median acceptance of the K=1 model-drafted runs
  const k1Model = rows.filter(measuresAlpha);
  const k1Alpha = medianOf(k1Model, (r) => r.acceptanceRate);
  const seriesCosts = costs ?? theory;
  const seriesTheory =
    acceptanceTarget === null
      ? theory
      : seriesCosts
        ? theoryAt(acceptanceTarget, seriesCosts)
        : null;
  const alpha = acceptanceTarget ?? theory?.alpha ?? k1Alpha;
  const seriesAlpha = theoryApplies ? alpha : null;
  const seriesC = theoryApplies ? (seriesTheory?.c ?? null) : null;
  const points = seriesRows.map((r) =>
    kPoint(r, groups.get(r.key) ?? [], seriesAlpha, seriesC, theoryApplies ? seriesTheory : null),
  );

  const verdict = kVerdictOf(seriesRows, baselineRow(summary));
  const measuredBestK = verdict?.k ?? null;
  return {
    strategy,
    theoryApplies,
    points,
    rows: seriesRows,
    anySpeculative: specRows.length > 0,
    k1Runs: k1Model.length,
    k1Alpha,
    alpha,
    acceptanceTarget,
    acceptanceTargets,
    theory: seriesTheory,
    verdict,
    measuredBestK,
    bestPoint: points.find((p) => p.k === measuredBestK) ?? null,
  };
}
