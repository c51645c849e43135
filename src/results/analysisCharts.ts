/** The analysis' charts as SVG, for the CLI's Markdown report: each one drawn from the series. */
import type { Analysis, AnalysisImages, KPoint } from './analysis';
import { lineChartSvg, type SvgPoint, type SvgSeries } from './svgChart';
import { REFERENCE_STRATEGY } from './strategy';

const COLORS = {
  measured: '#2563eb',
  baseline: '#6b7280',
  speedup: '#15803d',
  theory: '#7c3aed',
  perPass: '#b45309',
  measuredCost: '#be185d',
} as const;

function pts(series: readonly KPoint[], pick: (p: KPoint) => number | null): SvgPoint[] {
  return series.flatMap((p) => {
    const y = pick(p);
    return y === null ? [] : [{ x: p.k, y }];
  });
}

/** a horizontal line across the measured K range */
function flat(series: readonly KPoint[], y: number): SvgPoint[] {
  const ks = series.map((p) => p.k);
  const lo = Math.min(...ks);
  const hi = Math.max(...ks);
  return lo === hi
    ? [
        { x: lo - 0.5, y },
        { x: hi + 0.5, y },
      ]
    : [
        { x: lo, y },
        { x: hi, y },
      ];
}

export type ChartName = keyof Required<AnalysisImages>;

/** SVG text per chart; empty when the analysis has no speculative series to draw. */
export function analysisChartsSvg(analysis: Analysis): Partial<Record<ChartName, string>> {
  const { series, baseline } = analysis;
  if (series.length === 0) return {};
  const xTicks = series.map((p) => p.k);
  const suffix = analysis.seriesLabel === REFERENCE_STRATEGY ? '' : ` (${analysis.seriesLabel})`;

  const timeSeries: SvgSeries[] = [
    {
      label: 'Time, median (s)',
      points: pts(series, (p) => p.timeS.median),
      color: COLORS.measured,
    },
    ...(baseline
      ? [
          {
            label: 'Baseline time (s)',
            points: flat(series, baseline.timeS.median),
            color: COLORS.baseline,
            dashed: true,
            markers: false,
          },
        ]
      : []),
    {
      label: 'Speedup (x)',
      points: pts(series, (p) => p.speedup?.median ?? null),
      color: COLORS.speedup,
      axis: 'right',
    },
    {
      label: 'Predicted speedup (x)',
      points: pts(series, (p) => p.predictedSpeedup),
      color: COLORS.theory,
      axis: 'right',
      dashed: true,
    },
    ...(series.some((p) => p.predictedMeasuredCost !== null)
      ? [
          {
            label: 'Predicted, measured verify cost (x)',
            points: pts(series, (p) => p.predictedMeasuredCost),
            color: COLORS.measuredCost,
            axis: 'right' as const,
            dashed: true,
          },
        ]
      : []),
  ];

  const passesSeries: SvgSeries[] = [
    {
      label: 'Target passes, median',
      points: pts(series, (p) => p.targetPasses),
      color: COLORS.measured,
    },
    ...(baseline
      ? [
          {
            label: 'Baseline passes',
            points: flat(series, baseline.targetPasses),
            color: COLORS.baseline,
            dashed: true,
            markers: false,
          },
        ]
      : []),
  ];

  const acceptanceSeries: SvgSeries[] = [
    {
      label: 'Tokens per pass (measured)',
      points: pts(series, (p) => p.tokensPerPass),
      color: COLORS.perPass,
    },
    {
      label: 'Tokens per pass (theory)',
      points: pts(series, (p) => p.expectedTokensPerPass),
      color: COLORS.theory,
      dashed: true,
    },
    {
      label: 'Acceptance rate',
      points: pts(series, (p) => p.acceptanceRate),
      color: COLORS.speedup,
      axis: 'right',
    },
  ];

  return {
    time: lineChartSvg({
      title: `Time and speedup vs K${suffix}`,
      xLabel: 'K (draft length)',
      yLabel: 'Time (s)',
      y2Label: 'Speedup over the baseline (x)',
      series: timeSeries,
      xTicks,
    }),
    passes: lineChartSvg({
      title: `Target passes vs K${suffix}`,
      xLabel: 'K (draft length)',
      yLabel: 'Target passes',
      series: passesSeries,
      xTicks,
    }),
    acceptance: lineChartSvg({
      title: `Tokens per target pass vs K${suffix}`,
      xLabel: 'K (draft length)',
      yLabel: 'Tokens per target pass',
      y2Label: 'Acceptance rate',
      series: acceptanceSeries,
      xTicks,
    }),
  };
}
