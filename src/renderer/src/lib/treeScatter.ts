/**
 * Trees against chains on one chart: each configuration of the sweep one point, its median time
 * against its median tokens per target pass (the exercise's "avg accepted tokens per
 * verification"), chains, trees and the baseline as their own series, the verdict's best ringed.
 * Every number is the summary's (src/results/summary.ts), never recomputed here.
 */
import type { ChartOptions } from 'chart.js';
import { variantLabel, type SummaryRow } from '../../../results/summary';
import { fixed } from '../../../shared/format';
import type { LineData, Point } from './chartData';
import { lineOptions } from './chartSetup';

/** a point with the configuration it stands for, for the tooltip and the tests */
export interface ScatterPoint extends Point {
  label: string;
}

export const SCATTER_SERIES = {
  baseline: { label: 'Baseline', color: '#6b7280', style: 'rect' },
  chain: { label: 'Chains (K)', color: '#2563eb', style: 'circle' },
  tree: { label: 'Trees', color: '#7c3aed', style: 'triangle' },
  best: { label: 'Best (verdict)', color: '#15803d', style: 'circle' },
} as const;

type Series = keyof typeof SCATTER_SERIES;

function seriesOf(row: SummaryRow): Exclude<Series, 'best'> {
  if (row.mode !== 'speculative') return 'baseline';
  return row.tree ? 'tree' : 'chain';
}

/** the sweep has a token tree: the chart is drawn */
export function hasTreeRows(summary: readonly SummaryRow[]): boolean {
  return summary.some((r) => r.tree !== undefined);
}

/**
 * One point per configuration with a time and tokens per pass (the baseline's is 1 token a pass),
 * in the summary's order; the best, when there is one, once more in a ring of its own.
 */
export function treeScatterData(
  summary: readonly SummaryRow[],
  best: SummaryRow | null,
  withStrategy: boolean,
): LineData {
  const points: Record<Series, ScatterPoint[]> = { baseline: [], chain: [], tree: [], best: [] };
  for (const row of summary) {
    const x = row.mode === 'speculative' ? (row.tokensPerTargetPass?.median ?? null) : 1;
    if (x === null || row.mode === 'baseline-no-cache') continue;
    const point = { x, y: row.timeS.median, label: labelOf(row, withStrategy) };
    points[seriesOf(row)].push(point);
    if (best && row.key === best.key) points.best.push(point);
  }
  return {
    datasets: (Object.keys(SCATTER_SERIES) as Series[]).map((series) => {
      const { label, color, style } = SCATTER_SERIES[series];
      const ring = series === 'best';
      return {
        label,
        data: points[series],
        showLine: false,
        borderColor: color,
        backgroundColor: ring ? 'rgba(0, 0, 0, 0)' : color,
        pointStyle: style,
        pointRadius: ring ? 11 : 5,
        pointHoverRadius: ring ? 12 : 7,
        pointBorderWidth: ring ? 3 : 1,
      };
    }),
  };
}

function labelOf(row: SummaryRow, withStrategy: boolean): string {
  return row.mode === 'speculative' ? variantLabel(row, withStrategy) : 'Baseline';
}

/**
 * the chart's axes (tokens per pass from 1, the baseline's, with room past the last point for
 * its marker), and a tooltip naming the configuration with its two numbers
 */
export function treeScatterOptions(data: LineData): ChartOptions<'line'> {
  const xs = data.datasets.flatMap((d) => d.data.map((p) => p.x));
  const xMax = Math.ceil((Math.max(1, ...xs) + 0.25) * 2) / 2;
  const options = lineOptions({ y: 'Time, median (s)' });
  return {
    ...options,
    interaction: { mode: 'nearest', intersect: true },
    scales: {
      ...options.scales,
      // tokens per pass start at 1 (the baseline): no K ticks, no zero
      x: {
        type: 'linear',
        min: 0.5,
        max: xMax,
        title: { display: true, text: 'Tokens per target pass (median)' },
      },
    },
    plugins: {
      ...options.plugins,
      // each point named beside it (the ring repeats the best's point, already named)
      pointLabels: { display: true, skip: [SCATTER_SERIES.best.label] },
      tooltip: {
        ...options.plugins?.tooltip,
        callbacks: {
          label: (item) => {
            const p = item.raw as ScatterPoint;
            return `${p.label}: ${fixed(p.y, 3)} s, ${fixed(p.x, 2)} tokens a pass`;
          },
        },
      },
    },
  };
}
