/**
 * The sweep's result table on stdout: by default it fits 100 columns (min-max on a second line,
 * only where values vary); `--wide` prints every column. An output sample every row shares is not
 * repeated in each row: the caller prints it once (sampleNote).
 */
import Table from 'cli-table3';
import { variantLabel, type SummaryRow } from '../../results/summary';
import type { Spread } from '../../shared/stats';

/** The width the default table keeps within (a terminal's 100 columns). */
export const NARROW_WIDTH = 100;

/** How the rows' output samples relate, for a single-prompt sweep (null: a prompt set). */
export interface SampleView {
  prompt: string;
  /** every row's sample equals the baseline's: printed once, not per row */
  shared: boolean;
  /** the baseline's sample, the one rows are compared with */
  reference: string;
}

const fmt = (v: number | null, digits = 2): string => (v === null ? '-' : v.toFixed(digits));

const range = (s: { min: number; max: number }, d: number): string =>
  `${fmt(s.min, d)}-${fmt(s.max, d)}`;

/** the median, and its min-max on a second line where the runs differ */
const withRange = (s: Spread, d: number, suffix = ''): string =>
  s.n > 1 && fmt(s.min, d) !== fmt(s.max, d)
    ? `${fmt(s.median, d)}${suffix}\n${range(s, d)}`
    : `${fmt(s.median, d)}${suffix}`;

/** seconds to 4 decimals, fewer from 1 s up: a range of 10-99 s still fits its column */
const timeDigits = (s: Spread): number => (s.max >= 100 ? 1 : s.max >= 10 ? 2 : s.max >= 1 ? 3 : 4);

const identical = (r: SummaryRow): string =>
  r.identicalCount === r.repeats ? 'yes' : `NO (${r.identicalCount}/${r.repeats})`;

/** the same, shorter for the default table: "NO 2/3" */
const identicalShort = (r: SummaryRow): string =>
  r.identicalCount === r.repeats ? 'yes' : `NO ${r.identicalCount}/${r.repeats}`;

function flat(text: string, chars: number): string {
  const oneLine = text.replace(/\s+/g, ' ');
  return oneLine.length > chars ? `${oneLine.slice(0, chars)}...` : oneLine;
}

/** How the rows' samples compare with the baseline's; null for a prompt set (no sample column). */
export function sampleViewOf(
  rows: readonly SummaryRow[],
  prompt: string | null,
): SampleView | null {
  if (prompt === null) return null;
  const reference = (rows.find((r) => r.mode === 'baseline') ?? rows[0])?.outputSample ?? '';
  return { prompt, reference, shared: rows.every((r) => r.outputSample === reference) };
}

/** The line under the table that says where the output sample is (null: nothing to say). */
export function sampleNote(view: SampleView | null, wide: boolean): string | null {
  if (view === null) return null;
  if (view.shared) return "Output Text Sample: every row's is the baseline output above.";
  return wide
    ? null
    : "* this row's output text sample differs from the baseline's (--wide prints each).";
}

/** The default table: the exercise's columns, each cell short, fitting NARROW_WIDTH. */
function narrowTable(
  rows: readonly SummaryRow[],
  strategies: boolean,
  view: SampleView | null,
): Table.Table {
  const table = new Table({
    head: [
      strategies ? 'Configuration' : 'K',
      'Time (s)',
      'Target\nPasses',
      'Avg Tokens\nper Verif.',
      'Acceptance\nRate',
      'Speedup',
      'Identical',
    ],
    style: { head: [], border: [] },
  });
  for (const r of rows) {
    const differs = view !== null && !view.shared && r.outputSample !== view.reference;
    table.push([
      // "K=3 prompt-lookup / heuristic" on two lines
      variantLabel(r, strategies).replace(' / ', '\n/ '),
      withRange(r.timeS, timeDigits(r.timeS)),
      String(r.targetPasses.median),
      r.tokensPerTargetPass ? withRange(r.tokensPerTargetPass, 2) : '-',
      r.acceptanceRate ? fmt(r.acceptanceRate.median) : '-',
      r.speedup ? withRange(r.speedup, 2, 'x') : '-',
      identicalShort(r) + (differs ? ' *' : ''),
    ]);
  }
  return table;
}

/** `--wide`: every column, the spreads in their own columns and each row's own sample. */
function wideTable(
  rows: readonly SummaryRow[],
  strategies: boolean,
  view: SampleView | null,
): Table.Table {
  const spreadCol = rows.some((r) => r.repeats > 1);
  const sampleCol = view !== null && !view.shared;
  const table = new Table({
    head: [
      'K',
      'Time (s)',
      ...(spreadCol ? ['Time spread (s)'] : []),
      'Target Passes',
      'Avg Accepted Tokens per Verification',
      'Draft Passes',
      'Acceptance Rate',
      'Speedup',
      ...(spreadCol ? ['Speedup spread'] : []),
      'Identical',
      ...(sampleCol ? ['Output Text Sample'] : []),
    ],
    wordWrap: true,
    style: { head: [], border: [] },
    colWidths: [
      strategies ? 30 : 19,
      10,
      ...(spreadCol ? [17] : []),
      9,
      14,
      8,
      12,
      9,
      ...(spreadCol ? [12] : []),
      11,
      ...(sampleCol ? [50] : []),
    ],
  });
  for (const r of rows) {
    table.push([
      variantLabel(r, strategies),
      fmt(r.timeS.median, 4),
      ...(spreadCol ? [range(r.timeS, 4)] : []),
      String(r.targetPasses.median),
      fmt(r.tokensPerTargetPass?.median ?? null),
      String(r.draftPasses.median),
      fmt(r.acceptanceRate?.median ?? null),
      r.speedup ? `${fmt(r.speedup.median)}x` : '-',
      ...(spreadCol ? [r.speedup ? range(r.speedup, 2) : '-'] : []),
      identical(r),
      ...(sampleCol ? [flat(view.prompt + r.outputSample, 150)] : []),
    ]);
  }
  return table;
}

/** The result table as text: the default fits NARROW_WIDTH columns, `wide` has them all. */
export function resultTable(
  rows: readonly SummaryRow[],
  strategies: boolean,
  view: SampleView | null,
  wide: boolean,
): string {
  return (wide ? wideTable : narrowTable)(rows, strategies, view).toString();
}
