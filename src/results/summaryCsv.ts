/**
 * The exercise's table as CSV: one row per configuration (the CLI's `--summary-csv`, and the app's
 * table export), from the same summary the printed and on-screen tables show. The per-run schema
 * is runsCsv.ts.
 */
import { stringify } from 'csv-stringify/browser/esm/sync';
import type { RunRow } from '../shared/protocol';
import { summarizeRows, type SummaryRow } from './summary';

export const SUMMARY_CSV_COLUMNS = [
  'Mode',
  'K',
  'Policy',
  'Drafter',
  'Runs',
  'Time Median (s)',
  'Time Min (s)',
  'Time Max (s)',
  'Target Passes',
  'Avg Accepted Tokens per Verification',
  'Acceptance Rate',
  'Speedup',
  'Identical',
  'Output Text Sample',
] as const;

/**
 * The column a sweep with controlled acceptance adds after Drafter (its configurations differ by
 * the target A alone); a sweep without it keeps the exercise's columns.
 */
export const ACCEPTANCE_TARGET_COLUMN = 'Acceptance Target';

/**
 * The columns a sweep with token trees adds after Drafter: the shape (`3,2,1`) or node budget, the
 * way the target verified it (`mask`: one pass under the tree mask; `rows`: a batch row per
 * path) and the nodes verified per step (median over the runs), empty on chains and baselines;
 * a sweep without trees keeps the exercise's columns.
 */
export const TREE_COLUMNS = ['Tree Shape', 'Tree Budget', 'Tree Verify', 'Nodes per Step'] as const;

/**
 * the columns of a summary: the exercise's, with the acceptance target and the tree's columns
 * where a row has them
 */
export function summaryCsvColumns(summary: readonly SummaryRow[]): string[] {
  const columns: string[] = [...SUMMARY_CSV_COLUMNS];
  const after = columns.indexOf('Drafter') + 1;
  if (summary.some((r) => r.tree !== undefined)) columns.splice(after, 0, ...TREE_COLUMNS);
  if (summary.some((r) => r.acceptanceTarget !== null))
    columns.splice(after, 0, ACCEPTANCE_TARGET_COLUMN);
  return columns;
}

type Cell = string | number | null;

/** "yes" when every run's output equals the baseline's, else "no (2/3)" as the CLI's table says */
export function identicalCell(row: Pick<SummaryRow, 'identicalCount' | 'repeats'>): string {
  return row.identicalCount === row.repeats ? 'yes' : `no (${row.identicalCount}/${row.repeats})`;
}

/** One configuration's row: medians over its runs (repeats x prompts), times with their range. */
export function summaryCsvRecord(
  row: SummaryRow,
): Record<
  | (typeof SUMMARY_CSV_COLUMNS)[number]
  | typeof ACCEPTANCE_TARGET_COLUMN
  | (typeof TREE_COLUMNS)[number],
  Cell
> {
  return {
    Mode: row.mode,
    K: row.k,
    Policy: row.policy,
    Drafter: row.drafter,
    [ACCEPTANCE_TARGET_COLUMN]: row.acceptanceTarget,
    'Tree Shape': row.tree?.shape?.join(',') ?? null,
    'Tree Budget': row.tree?.budget ?? null,
    'Tree Verify': row.tree?.verify ?? null,
    'Nodes per Step': row.tree?.nodesPerStep?.median ?? null,
    Runs: row.repeats,
    'Time Median (s)': row.timeS.median,
    'Time Min (s)': row.timeS.min,
    'Time Max (s)': row.timeS.max,
    'Target Passes': row.targetPasses.median,
    'Avg Accepted Tokens per Verification': row.tokensPerTargetPass?.median ?? null,
    'Acceptance Rate': row.acceptanceRate?.median ?? null,
    Speedup: row.speedup?.median ?? null,
    Identical: identicalCell(row),
    'Output Text Sample': row.outputSample,
  };
}

/** The CSV text: a header, then one row per configuration in the table's order ('' for no run). */
export function summaryCsv(runs: readonly RunRow[]): string {
  if (runs.length === 0) return '';
  const summary = summarizeRows(runs);
  return stringify(summary.map(summaryCsvRecord), {
    header: true,
    columns: summaryCsvColumns(summary),
    // an output sample such as "-mile." must never start a spreadsheet formula
    escape_formulas: true,
  });
}
