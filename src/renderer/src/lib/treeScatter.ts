/**
 * Trees against chains on one chart: each configuration of the sweep one point, its median time
 * against its median tokens per target pass (the exercise's "avg accepted tokens per
 * verification"), chains, trees and the baseline as their own series (controlled acceptance's
 * apart, one colour per alpha), the verdict's best ringed.
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

/**
 * Controlled acceptance's colours, one per target in ascending order (chains circles, trees
 * triangles, as for real drafting), so oracle points never share a series with real drafting.
 */
export const ALPHA_COLORS: readonly string[] = [
  '#ea580c',
  '#0d9488',
  '#db2777',
  '#65a30d',
  '#0891b2',
  '#a16207',
  '#9333ea',
  '#dc2626',
];

type Kind = 'baseline' | 'chain' | 'tree';

/** "Chains (K)", or "Chains alpha 0.8" under controlled acceptance */
export function scatterSeriesLabel(kind: Kind, alpha: number | null): string {
  if (alpha === null || kind === 'baseline') return SCATTER_SERIES[kind].label;
  return `${kind === 'chain' ? 'Chains' : 'Trees'} alpha ${alpha}`;
}

function kindOf(row: SummaryRow): Kind {
  if (row.mode !== 'speculative') return 'baseline';
  return row.tree ? 'tree' : 'chain';
}

/** the sweep has a token tree: the chart is drawn */
export function hasTreeRows(summary: readonly SummaryRow[]): boolean {
  return summary.some((r) => r.tree !== undefined);
}

interface SeriesSpec {
  label: string;
  color: string;
  style: string;
  ring: boolean;
  points: ScatterPoint[];
}

/**
 * One point per configuration with a time and tokens per pass (the baseline's is 1 token a pass),
 * in the summary's order, in series by kind and by acceptance target (real drafting's chains and
 * trees, then each alpha's); the best, when there is one, once more in a ring of its own. A
 * series with no point is left out.
 */
export function treeScatterData(
  summary: readonly SummaryRow[],
  best: SummaryRow | null,
  withStrategy: boolean,
): LineData {
  const alphas = [
    ...new Set(summary.flatMap((r) => (r.acceptanceTarget === null ? [] : [r.acceptanceTarget]))),
  ].sort((a, b) => a - b);
  const series = new Map<string, SeriesSpec>();
  const add = (label: string, color: string, style: string, ring = false): void => {
    series.set(label, { label, color, style, ring, points: [] });
  };
  for (const kind of ['baseline', 'chain', 'tree'] as const)
    add(SCATTER_SERIES[kind].label, SCATTER_SERIES[kind].color, SCATTER_SERIES[kind].style);
  alphas.forEach((alpha, i) => {
    const color = ALPHA_COLORS[i % ALPHA_COLORS.length]!;
    add(scatterSeriesLabel('chain', alpha), color, SCATTER_SERIES.chain.style);
    add(scatterSeriesLabel('tree', alpha), color, SCATTER_SERIES.tree.style);
  });
  const ringed = SCATTER_SERIES.best;
  add(ringed.label, ringed.color, ringed.style, true);

  for (const row of summary) {
    const x = row.mode === 'speculative' ? (row.tokensPerTargetPass?.median ?? null) : 1;
    if (x === null || row.mode === 'baseline-no-cache') continue;
    const point = { x, y: row.timeS.median, label: labelOf(row, withStrategy) };
    series.get(scatterSeriesLabel(kindOf(row), row.acceptanceTarget))!.points.push(point);
    if (best && row.key === best.key) series.get(ringed.label)!.points.push(point);
  }
  return {
    datasets: [...series.values()]
      .filter((s) => s.points.length > 0)
      .map(({ label, color, style, ring, points }) => ({
        label,
        data: points,
        showLine: false,
        borderColor: color,
        backgroundColor: ring ? 'rgba(0, 0, 0, 0)' : color,
        pointStyle: style,
        pointRadius: ring ? 11 : 5,
        pointHoverRadius: ring ? 12 : 7,
        pointBorderWidth: ring ? 3 : 1,
      })),
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
