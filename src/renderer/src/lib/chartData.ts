/**
 * Chart data from the summary rows: the measured curve over K, the baseline as a horizontal line
 * and, with repeats, a min-max band. Pure (types only from chart.js), so it can be unit-tested.
 * With one drafter and policy every chart always has the same datasets in the same order (empty
 * when not applicable), so an in-place update never reshuffles them and the band's `fill: '+1'`
 * keeps pointing at its pair. A sweep comparing drafters or policies gets one line per
 * strategy (drafter / policy) instead, without bands (the table gives the spread).
 */
import { expectedTokensPerPass } from '../../../results/theory';
import type { ChartData, ChartDataset } from 'chart.js';
import type { DraftPolicyName, DrafterKind } from '../../../shared/decoding';
import { strategyName, strategyOf } from '../../../results/strategy';
import type { RunRow } from '../../../shared/protocol';
import {
  baselineRow,
  comparesStrategies,
  groupKey,
  median,
  speculativeRows,
  variantLabel,
  type BestChoice,
  type Spread,
  type SummaryRow,
} from '../../../results/summary';

export interface Point {
  x: number;
  y: number;
}

export type LineData = ChartData<'line', Point[]>;
export type LineDataset = ChartDataset<'line', Point[]>;

export const COLORS = {
  measured: '#2563eb',
  band: 'rgba(37, 99, 235, 0.14)',
  baseline: '#6b7280',
  acceptance: '#15803d',
  acceptanceBand: 'rgba(21, 128, 61, 0.14)',
  perPass: '#b45309',
  perPassBand: 'rgba(180, 83, 9, 0.14)',
  theory: '#7c3aed',
  best: '#15803d',
  noBest: '#b91c1c',
} as const;

/**
 * The K charts' rows: the chains. A token tree's K is only its depth, so its point would sit on
 * the chain of that K's curve; trees are compared with the chains in their own scatter
 * (treeScatter.ts), the table and the verdict.
 */
export function chainRows(summary: readonly SummaryRow[]): SummaryRow[] {
  return speculativeRows(summary).filter((r) => r.tree === undefined);
}

/** datasets the legend lists (named and not empty): the chart grows to make room for them */
export function legendEntries(data: LineData): number {
  return data.datasets.filter((d) => d.label !== '' && d.data.length > 0).length;
}

/** a chart's height: room for the plot plus one legend line per entry past the third */
export function chartHeight(data: LineData): string {
  return `${17 + Math.max(0, legendEntries(data) - 3) * 1.6}rem`;
}

/** one colour per strategy or configuration, in order (repeats past the end) */
export const PALETTE: readonly string[] = [
  '#2563eb',
  '#dc2626',
  '#15803d',
  '#b45309',
  '#7c3aed',
  '#0891b2',
  '#be185d',
  '#4d7c0f',
  '#6b7280',
  '#1e3a8a',
  '#9a3412',
  '#0f766e',
];

export function paletteColor(i: number): string {
  return PALETTE[i % PALETTE.length]!;
}

export interface StrategyGroup {
  /** "model / fixed"; "alpha 0.8" (or "model / fixed alpha 0.8") under controlled acceptance */
  name: string;
  drafter: DrafterKind;
  policy: DraftPolicyName;
  /** controlled acceptance's target A; null for real drafting */
  acceptanceTarget: number | null;
  /** its speculative rows, by K */
  rows: SummaryRow[];
}

/**
 * The speculative rows split by drafter, policy and controlled acceptance target (each target
 * is a curve of its own over K), in the summary's order.
 */
export function strategyGroups(summary: readonly SummaryRow[]): StrategyGroup[] {
  const groups: StrategyGroup[] = [];
  const withStrategy = comparesStrategies(summary);
  for (const row of chainRows(summary)) {
    const { drafter, policy } = strategyOf(row);
    const acceptanceTarget = row.acceptanceTarget;
    let group = groups.find(
      (g) =>
        g.drafter === drafter && g.policy === policy && g.acceptanceTarget === acceptanceTarget,
    );
    if (!group) {
      const alpha = acceptanceTarget === null ? null : `alpha ${acceptanceTarget}`;
      const name =
        alpha === null ? strategyName(row) : withStrategy ? `${strategyName(row)} ${alpha}` : alpha;
      group = { name, drafter, policy, acceptanceTarget, rows: [] };
      groups.push(group);
    }
    group.rows.push(row);
  }
  return groups;
}

/**
 * The strategy Leviathan's formula describes: the draft model drafting a fixed K (else the draft
 * model with the first policy, else the first strategy), drafting for real; null without such
 * rows (a sweep with controlled acceptance only is compared with theory in its K x alpha map).
 */
export function theoryReference(summary: readonly SummaryRow[]): StrategyGroup | null {
  const groups = strategyGroups(summary).filter((g) => g.acceptanceTarget === null);
  return (
    groups.find((g) => g.drafter === 'model' && g.policy === 'fixed') ??
    groups.find((g) => g.drafter === 'model') ??
    groups[0] ??
    null
  );
}

export type Pick = (row: SummaryRow) => Spread | null;

/** each row's value at its K (rows without one are left out) */
export function points(rows: readonly SummaryRow[], pick: Pick, of: keyof Spread): Point[] {
  const out: Point[] = [];
  for (const row of rows) {
    const spread = pick(row);
    if (row.k !== null && spread) out.push({ x: row.k, y: spread[of] });
  }
  return out;
}

/**
 * One K axis for every chart of a sweep, 0 to the largest K measured (chart.js would choose
 * 0-8 for one chart and 0-10 for the next); undefined before there is a K.
 */
export function kAxis(rows: readonly SummaryRow[]): { min: number; max: number } | undefined {
  const ks = rows.map((r) => r.k).filter((k): k is number => k !== null);
  if (ks.length === 0) return undefined;
  return { min: 0, max: Math.max(1, ...ks) };
}

/** The x range a baseline line spans: the K values measured (or a short span around 1). */
function kRange(rows: readonly SummaryRow[]): [number, number] {
  const ks = rows.map((r) => r.k).filter((k): k is number => k !== null);
  if (ks.length === 0) return [0.5, 1.5];
  const lo = Math.min(...ks);
  const hi = Math.max(...ks);
  return lo === hi ? [lo - 0.5, hi + 0.5] : [lo, hi];
}

/** one named series, drawn as a line with points unless `extra` says otherwise */
export function line(
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
  const [lo, hi] = kRange(chainRows(summary));
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
  const groups = strategyGroups(summary);
  if (groups.length > 1) {
    return {
      datasets: [
        ...groups.map((g, i) => line(g.name, points(g.rows, pick, 'median'), paletteColor(i))),
        baselineLine(summary, pick, 'Baseline'),
      ],
    };
  }
  const rows = chainRows(summary);
  const showSpread = rows.some((r) => r.repeats > 1);
  return {
    datasets: [
      line(`Speculative (median)`, points(rows, pick, 'median'), COLORS.measured),
      ...band(rows, pick, 'Min-max over repeats', COLORS.band, showSpread),
      baselineLine(summary, pick, 'Baseline'),
    ],
  };
}

/** a saved sweep drawn over the charts (History's "Overlay") */
export interface Overlay {
  label: string;
  summary: readonly SummaryRow[];
}

/**
 * Saved sweeps over a chart: each one's medians over K (dashed, triangles) and its baseline
 * (dotted), in a colour of its own. A sweep comparing strategies contributes its first one,
 * the reference strategy when it ran (the legend names it).
 */
export function withOverlays(data: LineData, overlays: readonly Overlay[], pick: Pick): LineData {
  if (overlays.length === 0) return data;
  const drawn = overlays.flatMap((o, i) => {
    const color = paletteColor(i + 1);
    const groups = strategyGroups(o.summary);
    const group = groups[0];
    if (!group) return [];
    const name = groups.length > 1 ? `${o.label} (${group.name})` : o.label;
    const base = baselineLine(o.summary, pick, '');
    return [
      line(name, points(group.rows, pick, 'median'), color, {
        borderDash: [5, 3],
        pointStyle: 'triangle',
        pointRadius: 4,
      }),
      { ...base, borderColor: color, backgroundColor: color, borderDash: [2, 3] },
    ];
  });
  return { datasets: [...data.datasets, ...drawn] };
}

/** (a) generation time against K, with the baseline's time. */
/** Time vs K; with the verdict, its configuration marked (a star), named as the verdict names it. */
export function timeChartData(
  summary: readonly SummaryRow[],
  verdict: BestChoice | null = null,
): LineData {
  const data = measuredChart(summary, (r) => r.timeS);
  if (!verdict || verdict.row.k === null) return data;
  const name = variantLabel(verdict.row, comparesStrategies(summary));
  const label = verdict.beatBaseline
    ? `Best: ${name}`
    : `Fastest: ${name} (none beat the baseline)`;
  const marker = line(label, [{ x: verdict.row.k, y: verdict.row.timeS.median }], '', {
    borderColor: verdict.beatBaseline ? COLORS.best : COLORS.noBest,
    backgroundColor: 'transparent',
    pointStyle: 'star',
    pointRadius: 9,
    pointBorderWidth: 2,
    showLine: false,
  });
  return { datasets: [...data.datasets, marker] };
}

/** (b) target model passes against K, with the baseline's. */
export function passesChartData(summary: readonly SummaryRow[]): LineData {
  return measuredChart(summary, (r) => r.targetPasses);
}

export { expectedTokensPerPass };

/** (c) acceptance rate (left axis) and tokens per target pass (right axis) against K. */
export function acceptanceChartData(summary: readonly SummaryRow[]): LineData {
  const rows = chainRows(summary);
  const showSpread = rows.some((r) => r.repeats > 1);
  const acceptance: Pick = (r) => r.acceptanceRate;
  const perPass: Pick = (r) => r.tokensPerTargetPass;
  const reference = theoryReference(summary)?.rows ?? [];
  const alpha = reference.find((r) => r.k === 1)?.acceptanceRate?.median ?? null;
  const theory =
    alpha === null
      ? []
      : reference.flatMap((r) =>
          r.k === null ? [] : [{ x: r.k, y: expectedTokensPerPass(alpha, r.k) }],
        );
  const theoryLine = line('Expected (theory)', theory, COLORS.theory, {
    yAxisID: 'y1',
    pointStyle: 'line',
    borderDash: [3, 3],
    pointRadius: 2,
    borderWidth: 1.5,
  });
  const groups = strategyGroups(summary);
  if (groups.length > 1) {
    return {
      datasets: [
        ...groups.flatMap((g, i) => [
          line(`${g.name} acceptance`, points(g.rows, acceptance, 'median'), paletteColor(i)),
          line(`${g.name} tokens / pass`, points(g.rows, perPass, 'median'), paletteColor(i), {
            yAxisID: 'y1',
            pointStyle: 'triangle',
            borderDash: [6, 3],
          }),
        ]),
        theoryLine,
        baselineLine(summary, perPass, 'Baseline tokens per pass', 'y1'),
      ],
    };
  }
  return {
    datasets: [
      line('Acceptance rate', points(rows, acceptance, 'median'), COLORS.acceptance),
      ...band(rows, acceptance, 'Acceptance min-max', COLORS.acceptanceBand, showSpread),
      line('Tokens per pass', points(rows, perPass, 'median'), COLORS.perPass, {
        yAxisID: 'y1',
      }),
      ...band(rows, perPass, 'Tokens per pass min-max', COLORS.perPassBand, showSpread, 'y1'),
      theoryLine,
      baselineLine(summary, perPass, 'Baseline tokens per pass', 'y1'),
    ],
  };
}

/**
 * (d) Acceptance by draft position: one line per configuration (drafter, policy, K) with the
 * median over its runs of the share of steps whose i-th drafted token was accepted
 * (x = position 1, 2, ...). Lines run as far as any of the configuration's runs drafted.
 */
export function positionChartData(rows: readonly RunRow[], withStrategy: boolean): LineData {
  const configs = new Map<string, RunRow[]>();
  for (const row of rows) {
    if (row.mode !== 'speculative' || !row.acceptanceByPosition?.length) continue;
    const key = groupKey(row);
    const group = configs.get(key);
    if (group) group.push(row);
    else configs.set(key, [row]);
  }
  const ordered = [...configs.values()].sort(
    (a, b) =>
      (a[0]!.drafter ?? '').localeCompare(b[0]!.drafter ?? '') ||
      (a[0]!.policy ?? '').localeCompare(b[0]!.policy ?? '') ||
      (a[0]!.k ?? 0) - (b[0]!.k ?? 0),
  );
  return {
    datasets: ordered.map((group, i) => {
      const length = Math.max(...group.map((r) => r.acceptanceByPosition?.length ?? 0));
      const data: Point[] = [];
      for (let p = 0; p < length; p++) {
        const shares = group
          .map((r) => r.acceptanceByPosition?.[p])
          .filter((v): v is number => v !== undefined);
        if (shares.length > 0) data.push({ x: p + 1, y: median(shares) });
      }
      return line(variantLabel(group[0]!, withStrategy), data, paletteColor(i));
    }),
  };
}
