/**
 * Theory beside measurement, readable at a glance: one chart of speedup only (measured against
 * Leviathan's prediction, on one axis, with the baseline's 1x), and the numbers behind it per K,
 * tokens per target pass included, for the table beside the chart. Pure, so it can be unit-tested.
 */
import {
  expectedSpeedup,
  expectedTokensPerPass,
  predictedMeasuredCost,
} from '../../../results/theory';
import type { SummaryRow } from '../../../results/summary';
import type { Theory } from '../../../shared/protocol';
import { COLORS, line, points, theoryReference, type LineData, type Point } from './chartData';

/** the Ks drawn: those the reference strategy measured, in order */
function referenceKs(summary: readonly SummaryRow[]): number[] {
  const rows = theoryReference(summary)?.rows ?? [];
  const ks = rows.map((r) => r.k).filter((k): k is number => k !== null);
  return [...new Set(ks)].sort((a, b) => a - b);
}

/**
 * For the reference strategy (chartData's theoryReference): the measured median speedup at each
 * K (solid), Leviathan's expected speedup (1 - a^(K+1)) / ((1 - a)(Kc + 1)) over K = 1..max K
 * (dashed), the speedup predicted with the measured verification cost t_target(K+1) /
 * t_target(1) where it was measured (dotted), and the baseline at 1x. One axis: speedup.
 */
export function theoryChartData(summary: readonly SummaryRow[], theory: Theory | null): LineData {
  const reference = theoryReference(summary)?.rows ?? [];
  const ks = referenceKs(summary);
  const maxK = ks.at(-1) ?? 0;
  const expected: Point[] = theory
    ? Array.from({ length: maxK }, (_, i) => ({
        x: i + 1,
        y: expectedSpeedup(theory.alpha, theory.c, i + 1),
      }))
    : [];
  const measuredCost = ks
    .map((k) => ({ x: k, y: predictedMeasuredCost(theory, k) }))
    .filter((p): p is Point => p.y !== null);
  const lo = ks[0];
  const baseline: Point[] =
    lo === undefined
      ? []
      : [
          { x: Math.min(1, lo), y: 1 },
          { x: Math.max(maxK, lo + 1), y: 1 },
        ];
  return {
    datasets: [
      line(
        'Measured speedup',
        points(reference, (r) => r.speedup, 'median'),
        COLORS.measured,
        { pointRadius: 4 },
      ),
      line('Predicted (Leviathan)', expected, COLORS.theory, {
        pointStyle: 'line',
        borderDash: [6, 4],
        pointRadius: 0,
        borderWidth: 2,
      }),
      line('Predicted, measured verify cost', measuredCost, COLORS.theory, {
        pointStyle: 'rectRot',
        borderDash: [2, 3],
        pointRadius: 3,
        borderWidth: 1.5,
      }),
      line('Baseline (1x)', baseline, COLORS.baseline, {
        pointStyle: 'line',
        borderDash: [6, 4],
        pointRadius: 0,
        borderWidth: 1.5,
      }),
    ],
  };
}

/** one K's numbers beside the chart (null: not measured, or no prediction) */
export interface TheoryRow {
  k: number;
  speedup: number | null;
  expectedSpeedup: number | null;
  measuredCostSpeedup: number | null;
  tokensPerPass: number | null;
  expectedTokensPerPass: number | null;
}

/** Per K the reference strategy measured: speedup and tokens per pass, measured and predicted. */
export function theoryRows(summary: readonly SummaryRow[], theory: Theory | null): TheoryRow[] {
  const reference = theoryReference(summary)?.rows ?? [];
  return referenceKs(summary).map((k) => {
    const row = reference.find((r) => r.k === k);
    return {
      k,
      speedup: row?.speedup?.median ?? null,
      expectedSpeedup: theory ? expectedSpeedup(theory.alpha, theory.c, k) : null,
      measuredCostSpeedup: predictedMeasuredCost(theory, k),
      tokensPerPass: row?.tokensPerTargetPass?.median ?? null,
      expectedTokensPerPass: theory ? expectedTokensPerPass(theory.alpha, k) : null,
    };
  });
}
