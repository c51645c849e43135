/**
 * Bar chart data for the engines' metrics: the chosen run's acceptance by draft position and its
 * histogram of accepted tokens per verification step (vLLM's), and where each configuration's
 * time went (draft passes, target passes, the rest). Pure: it reads RunRow and SummaryRow only.
 */
import type { ChartData } from 'chart.js';
import type { RunRow } from '../../../shared/protocol';
import { variantLabel, type SummaryRow } from '../../../results/summary';
import { modeLabel } from './format';

export type BarData = ChartData<'bar', number[], string>;

export const TIME_COLORS = {
  draft: '#d97706',
  target: '#2563eb',
  other: '#9ca3af',
} as const;

const BAR = '#15803d';

/** the chosen run's counts as vLLM and llama.cpp name them; null for a run that drafted nothing */
export interface RunEngineMetrics {
  k: number;
  drafted: number;
  accepted: number;
  /** drafts the verifier decided (llama.cpp's tested); null in runs saved before it */
  tested: number | null;
  verificationSteps: number;
  /** accepted / drafted */
  acceptanceRate: number | null;
  /** 1 + accepted / verification steps */
  meanAcceptanceLength: number | null;
  /** the histogram's total: verification steps counted in it */
  histogramTotal: number | null;
  acceptanceTarget: number | null;
}

export function runEngineMetrics(row: RunRow): RunEngineMetrics | null {
  if (row.mode !== 'speculative' || row.k === null) return null;
  const histogram = row.acceptedPerStepHistogram;
  return {
    k: row.k,
    drafted: row.draftedTokens,
    accepted: row.acceptedTokens,
    tested: row.draftTokensTested ?? null,
    verificationSteps: row.verificationSteps,
    acceptanceRate: row.acceptanceRate,
    meanAcceptanceLength: row.meanAcceptanceLength ?? null,
    histogramTotal: histogram ? histogram.reduce((n, c) => n + c, 0) : null,
    acceptanceTarget: row.acceptanceTarget ?? null,
  };
}

/**
 * Verification steps by how many drafts they accepted, 0..K (a policy may draft past K: the
 * histogram is as long as the run recorded it); null when the run has none.
 */
export function histogramData(row: RunRow): BarData | null {
  const histogram = row.acceptedPerStepHistogram;
  if (!histogram || histogram.length === 0) return null;
  return {
    labels: histogram.map((_, accepted) => String(accepted)),
    datasets: [{ label: 'Verification steps', data: [...histogram], backgroundColor: BAR }],
  };
}

/** the share of steps whose i-th draft was accepted, positions 1..K; null without drafts */
export function positionData(row: RunRow): BarData | null {
  const byPosition = row.acceptanceByPosition;
  if (!byPosition || byPosition.length === 0) return null;
  return {
    labels: byPosition.map((_, i) => String(i + 1)),
    datasets: [{ label: 'Accepted', data: [...byPosition], backgroundColor: '#2563eb' }],
  };
}

/** the configurations that recorded a time split, in the summary's order */
export function splitRows(summary: readonly SummaryRow[]): SummaryRow[] {
  return summary.filter((r) => r.timeSplit !== null);
}

/** one stacked bar per configuration: draft passes, target passes, the rest (medians, seconds) */
export function timeSplitData(summary: readonly SummaryRow[], withStrategy: boolean): BarData {
  const rows = splitRows(summary);
  const part = (pick: (s: NonNullable<SummaryRow['timeSplit']>) => number): number[] =>
    rows.map((r) => pick(r.timeSplit!));
  return {
    labels: rows.map((r) =>
      r.mode === 'speculative' ? variantLabel(r, withStrategy) : modeLabel(r.mode, r.k),
    ),
    datasets: [
      {
        label: 'Draft passes',
        data: part((s) => s.draftS),
        backgroundColor: TIME_COLORS.draft,
      },
      {
        label: 'Target passes',
        data: part((s) => s.targetS),
        backgroundColor: TIME_COLORS.target,
      },
      {
        label: 'Other (crops, verification, events)',
        data: part((s) => s.otherS),
        backgroundColor: TIME_COLORS.other,
      },
    ],
  };
}
