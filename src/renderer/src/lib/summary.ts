/**
 * The results table's arithmetic: one row per (mode, K) with the median over repeats and the
 * min-max spread, and the best K. Pure functions over RunRow, so they can be unit-tested.
 */
import { median } from '../../../shared/stats';
import type { DecodeMode } from '../../../shared/events';
import type { RunRow } from '../../../shared/protocol';

/** The exercise's "Output Text Sample" length. */
export const SAMPLE_CHARS = 150;

export interface Spread {
  median: number;
  min: number;
  max: number;
  /** how many values (repeats) it summarizes */
  n: number;
}

export interface SummaryRow {
  /** `${mode}:${k}`: stable across updates, for keyed lists */
  key: string;
  mode: DecodeMode;
  k: number | null;
  repeats: number;
  timeS: Spread;
  targetPasses: Spread;
  draftPasses: Spread;
  newTokens: Spread;
  tokensPerTargetPass: Spread | null;
  acceptanceRate: Spread | null;
  speedup: Spread | null;
  /** runs whose output equals the baseline's, out of `repeats` */
  identicalCount: number;
  outputSample: string;
}

export { median };

/** Median, min and max of the non-null values; null when there are none. */
export function spreadOf(values: ReadonlyArray<number | null>): Spread | null {
  const present = values.filter((v): v is number => v !== null && Number.isFinite(v));
  if (present.length === 0) return null;
  return {
    median: median(present),
    min: Math.min(...present),
    max: Math.max(...present),
    n: present.length,
  };
}

export function groupKey(mode: DecodeMode, k: number | null): string {
  return `${mode}:${k ?? ''}`;
}

export function outputSample(text: string): string {
  return text.length > SAMPLE_CHARS ? text.slice(0, SAMPLE_CHARS) : text;
}

const MODE_ORDER: Record<DecodeMode, number> = {
  baseline: 0,
  'baseline-no-cache': 1,
  speculative: 2,
};

/** Baseline first, then the cache-less baseline, then speculative rows by K. */
function compareRows(a: SummaryRow, b: SummaryRow): number {
  return MODE_ORDER[a.mode] - MODE_ORDER[b.mode] || (a.k ?? 0) - (b.k ?? 0);
}

/** One row per (mode, K), medians over repeats. */
export function summarizeRows(rows: readonly RunRow[]): SummaryRow[] {
  const groups = new Map<string, RunRow[]>();
  for (const row of rows) {
    const key = groupKey(row.mode, row.k);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  const baselineTime = spreadOf((groups.get(groupKey('baseline', null)) ?? []).map((r) => r.timeS));

  const summary: SummaryRow[] = [];
  for (const [key, group] of groups) {
    const first = group[0]!;
    const recorded = group.map((r) => r.speedup);
    // The host fills speedup from the baseline of the same repeat; fall back to the median
    // baseline time when a row came without one.
    const speedup =
      spreadOf(recorded) ??
      (baselineTime ? spreadOf(group.map((r) => baselineTime.median / r.timeS)) : null);
    summary.push({
      key,
      mode: first.mode,
      k: first.k,
      repeats: group.length,
      timeS: spreadOf(group.map((r) => r.timeS))!,
      targetPasses: spreadOf(group.map((r) => r.targetPasses))!,
      draftPasses: spreadOf(group.map((r) => r.draftPasses))!,
      newTokens: spreadOf(group.map((r) => r.newTokens))!,
      tokensPerTargetPass: spreadOf(group.map((r) => r.tokensPerTargetPass)),
      acceptanceRate: spreadOf(group.map((r) => r.acceptanceRate)),
      speedup,
      identicalCount: group.filter((r) => r.identical).length,
      outputSample: outputSample(first.outputText),
    });
  }
  return summary.sort(compareRows);
}

/** The speculative row with the highest median speedup; null when there is none to compare. */
export function bestRow(summary: readonly SummaryRow[]): SummaryRow | null {
  let best: SummaryRow | null = null;
  for (const row of summary) {
    if (row.mode !== 'speculative' || row.speedup === null) continue;
    if (best === null || row.speedup.median > best.speedup!.median) best = row;
  }
  return best;
}

export function baselineRow(summary: readonly SummaryRow[]): SummaryRow | null {
  return summary.find((r) => r.mode === 'baseline') ?? null;
}

export function speculativeRows(summary: readonly SummaryRow[]): SummaryRow[] {
  return summary.filter((r) => r.mode === 'speculative' && r.k !== null);
}

/** Highest repeat count among the rows: spread is only worth showing when it is above 1. */
export function maxRepeats(summary: readonly SummaryRow[]): number {
  return summary.reduce((m, r) => Math.max(m, r.repeats), 0);
}
