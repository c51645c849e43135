/**
 * The series questions 1 to 4 are answered on: one drafter / policy's runs over K, the alpha its
 * expectations use, and its best K (by speedup, or by time without a baseline).
 */
import type { RunRow, Theory } from '../../shared/protocol';
import { measuresAlpha, REFERENCE_STRATEGY, strategyName } from '../strategy';
import { baselineRow, bestOf, type SummaryRow } from '../summary';
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
  /** the sweep has a finished speculative configuration at all */
  anySpeculative: boolean;
  /** finished K=1 runs drafted by the model: what alpha is measured from */
  k1Runs: number;
  /** their median acceptance (null without such runs) */
  k1Alpha: number | null;
  /** per-token acceptance for the expectations: the theory's, else k1Alpha */
  alpha: number | null;
  /** the verdict over the series' Ks (kVerdict.ts: bestOf's paired rule) */
  verdict: KVerdict | null;
  measuredBestK: number | null;
  bestPoint: KPoint | null;
}

export function kSeriesOf(
  summary: readonly SummaryRow[],
  rows: readonly RunRow[],
  groups: ReadonlyMap<string, RunRow[]>,
  theory: Theory | null,
): KSeries {
  // The draft model with fixed K when the sweep has it, else the drafter / policy of the best
  // configuration.
  const specRows = summary.filter((r) => r.mode === 'speculative' && r.k !== null);
  const overallBest = bestOf(summary)?.row ?? null;
  const strategy =
    specRows.find((r) => strategyName(r) === REFERENCE_STRATEGY) !== undefined
      ? REFERENCE_STRATEGY
      : overallBest
        ? strategyName(overallBest)
        : specRows[0]
          ? strategyName(specRows[0])
          : REFERENCE_STRATEGY;
  const seriesRows = specRows
    .filter((r) => strategyName(r) === strategy)
    .sort((a, b) => a.k! - b.k!);
  const theoryApplies = strategy === REFERENCE_STRATEGY;

  // alpha: the theory's, else the median acceptance of the K=1 model-drafted runs.
  const k1Model = rows.filter(measuresAlpha);
  const k1Alpha = medianOf(k1Model, (r) => r.acceptanceRate);
  const alpha = theory?.alpha ?? k1Alpha;
  const seriesAlpha = theoryApplies ? alpha : null;
  const seriesC = theoryApplies ? (theory?.c ?? null) : null;
  const points = seriesRows.map((r) =>
    kPoint(r, groups.get(r.key) ?? [], seriesAlpha, seriesC, theoryApplies ? theory : null),
  );

  const verdict = kVerdictOf(seriesRows, baselineRow(summary));
  const measuredBestK = verdict?.k ?? null;
  return {
    strategy,
    theoryApplies,
    points,
    anySpeculative: specRows.length > 0,
    k1Runs: k1Model.length,
    k1Alpha,
    alpha,
    verdict,
    measuredBestK,
    bestPoint: points.find((p) => p.k === measuredBestK) ?? null,
  };
}
