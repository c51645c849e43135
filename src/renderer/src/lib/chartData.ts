/**
 * Chart data from the summary rows: the measured curve over K, the baseline as a horizontal line
 * and, with repeats, a min-max band. Pure (types only from chart.js), so it can be unit-tested.
 * Every chart always has the same datasets in the same order (empty when not applicable), so an
 * in-place update never reshuffles them and the band's `fill: '+1'` keeps pointing at its pair.
 */
import { expectedTokensPerPass } from '../../../shared/theory';
import type { ChartData, ChartDataset } from 'chart.js';
import {
  baselineRow,
  speculativeRows,
  type Spread,
  type SummaryRow,
} from '../../../shared/summary';

export interface Point {
  x: number;
  y: number;
}

export type LineData = ChartData<'line', Point[]>;
type LineDataset = ChartDataset<'line', Point[]>;

export const COLORS = {
  measured: '#2563eb',
  band: 'rgba(37, 99, 235, 0.14)',
  baseline: '#6b7280',
  acceptance: '#15803d',
  acceptanceBand: 'rgba(21, 128, 61, 0.14)',
  perPass: '#b45309',
  perPassBand: 'rgba(180, 83, 9, 0.14)',
  theory: '#7c3aed',
} as const;

type Pick = (row: SummaryRow) => Spread | null;

function points(rows: readonly SummaryRow[], pick: Pick, of: keyof Spread): Point[] {
  const out: Point[] = [];
  for (const row of rows) {
    const spread = pick(row);
    if (row.k !== null && spread) out.push({ x: row.k, y: spread[of] });
  }
  return out;
}

/** The x range a baseline line spans: the K values measured (or a short span around 1). */
function kRange(rows: readonly SummaryRow[]): [number, number] {
  const ks = rows.map((r) => r.k).filter((k): k is number => k !== null);
  if (ks.length === 0) return [0.5, 1.5];
  const lo = Math.min(...ks);
  const hi = Math.max(...ks);
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

function line(
  label: string,
  data: Point[],
  color: string,
  extra: Partial<LineDataset> = {},
): LineDataset {
  return {
    label,
    data,
    borderColor: color,
    backgroundColor: color,
    pointRadius: 3,
    pointStyle: 'circle',
    borderWidth: 2,
    tension: 0,
    ...extra,
  };
}

/** The max and min lines of a spread, the band filled between them (empty without repeats). */
function band(
  rows: readonly SummaryRow[],
  pick: Pick,
  label: string,
  fill: string,
  showSpread: boolean,
  yAxisID = 'y',
): LineDataset[] {
  const style: Partial<LineDataset> = {
    pointStyle: 'rect',
    borderColor: 'transparent',
    backgroundColor: fill,
    pointRadius: 0,
    borderWidth: 0,
    yAxisID,
  };
  return [
    line(label, showSpread ? points(rows, pick, 'max') : [], fill, { ...style, fill: '+1' }),
    // An empty label keeps the lower edge out of the legend.
    line('', showSpread ? points(rows, pick, 'min') : [], fill, { ...style, fill: false }),
  ];
}

function baselineLine(
  summary: readonly SummaryRow[],
  pick: Pick,
  label: string,
  yAxisID = 'y',
): LineDataset {
  const base = baselineRow(summary);
  const value = base ? pick(base)?.median : undefined;
  const [lo, hi] = kRange(speculativeRows(summary));
  const data =
    value === undefined
      ? []
      : [
          { x: lo, y: value },
          { x: hi, y: value },
        ];
  return line(label, data, COLORS.baseline, {
    pointStyle: 'line',
    borderDash: [6, 4],
    pointRadius: 0,
    yAxisID,
  });
}

function measuredChart(summary: readonly SummaryRow[], pick: Pick): LineData {
  const rows = speculativeRows(summary);
  const showSpread = rows.some((r) => r.repeats > 1);
  return {
    datasets: [
      line(`Speculative (median)`, points(rows, pick, 'median'), COLORS.measured),
      ...band(rows, pick, 'Min-max over repeats', COLORS.band, showSpread),
      baselineLine(summary, pick, 'Baseline'),
    ],
  };
}

/** (a) generation time against K, with the baseline's time. */
export function timeChartData(summary: readonly SummaryRow[]): LineData {
  return measuredChart(summary, (r) => r.timeS);
}

/** (b) target model passes against K, with the baseline's. */
export function passesChartData(summary: readonly SummaryRow[]): LineData {
  return measuredChart(summary, (r) => r.targetPasses);
}

export { expectedTokensPerPass };

/** (c) acceptance rate (left axis) and tokens per target pass (right axis) against K. */
export function acceptanceChartData(summary: readonly SummaryRow[]): LineData {
  const rows = speculativeRows(summary);
  const showSpread = rows.some((r) => r.repeats > 1);
  const acceptance: Pick = (r) => r.acceptanceRate;
  const perPass: Pick = (r) => r.tokensPerTargetPass;
  const alpha = rows.find((r) => r.k === 1)?.acceptanceRate?.median ?? null;
  const theory =
    alpha === null
      ? []
      : rows.flatMap((r) =>
          r.k === null ? [] : [{ x: r.k, y: expectedTokensPerPass(alpha, r.k) }],
        );
  return {
    datasets: [
      line('Acceptance rate', points(rows, acceptance, 'median'), COLORS.acceptance),
      ...band(rows, acceptance, 'Acceptance min-max', COLORS.acceptanceBand, showSpread),
      line('Tokens per pass', points(rows, perPass, 'median'), COLORS.perPass, {
        yAxisID: 'y1',
      }),
      ...band(rows, perPass, 'Tokens per pass min-max', COLORS.perPassBand, showSpread, 'y1'),
      line('Expected (theory)', theory, COLORS.theory, {
        yAxisID: 'y1',
        pointStyle: 'line',
        borderDash: [3, 3],
        pointRadius: 2,
        borderWidth: 1.5,
      }),
      baselineLine(summary, perPass, 'Baseline tokens per pass', 'y1'),
    ],
  };
}
