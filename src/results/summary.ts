/**
 * A sweep's arithmetic, shared by the CLI table, the app's results table and the analysis: one
 * row per configuration (mode, drafter, policy, K) with the median over repeats and prompts and
 * the min-max spread, per-prompt rows, and the best configuration. Pure functions over RunRow.
 */
import { times } from '../shared/format';
import { median, spreadOf, type Spread } from '../shared/stats';
import type { DecodeMode } from '../shared/events';
import type { RunRow } from '../shared/protocol';
import type { DraftPolicyName, DrafterKind } from '../shared/decoding';
import { strategyName } from './strategy';

/** The exercise's "Output Text Sample" length. */
export const SAMPLE_CHARS = 150;

export interface SummaryRow {
  /** `${mode}:${drafter}:${policy}:${k}`: stable across updates, for keyed lists */
  key: string;
  mode: DecodeMode;
  k: number | null;
  /** null for baselines */
  drafter: DrafterKind | null;
  policy: DraftPolicyName | null;
  /** runs summarized: repeats x prompts */
  repeats: number;
  /** distinct prompts among them */
  prompts: number;
  timeS: Spread;
  targetPasses: Spread;
  draftPasses: Spread;
  newTokens: Spread;
  tokensPerTargetPass: Spread | null;
  acceptanceRate: Spread | null;
  speedup: Spread | null;
  /**
   * The speedup's noise: each repeat's median speedup over the configuration's prompts, then the
   * min-max over repeats. Prompts differ in how well they draft; that is not noise, so the best
   * K is judged on this spread, not on the min-max over all runs. n = repeats measured.
   */
  speedupOverRepeats: Spread | null;
  /** runs whose output equals the baseline's, out of `repeats` */
  identicalCount: number;
  outputSample: string;
}

export { median, spreadOf, type Spread };

type Variant = Pick<RunRow, 'mode' | 'k' | 'drafter' | 'policy'>;

export function groupKey(row: Variant): string {
  return `${row.mode}:${row.drafter ?? ''}:${row.policy ?? ''}:${row.k ?? ''}`;
}

/** "K=3", or "K=3 prompt-lookup / heuristic" when the sweep compares drafters or policies */
export function variantLabel(row: Variant, withStrategy: boolean): string {
  if (row.mode !== 'speculative') return row.mode;
  const k = `K=${row.k}`;
  return withStrategy ? `${k} ${strategyName(row)}` : k;
}

/** true when the rows hold more than one drafter or policy */
export function comparesStrategies(rows: readonly Variant[]): boolean {
  const spec = rows.filter((r) => r.mode === 'speculative');
  const kinds = new Set(spec.map(strategyName));
  return kinds.size > 1;
}

export function outputSample(text: string): string {
  return text.length > SAMPLE_CHARS ? text.slice(0, SAMPLE_CHARS) : text;
}

const MODE_ORDER: Record<DecodeMode, number> = {
  baseline: 0,
  'baseline-no-cache': 1,
  speculative: 2,
};

/** Baseline first, then the cache-less baseline, then speculative rows by drafter, policy, K. */
function compareRows(a: SummaryRow, b: SummaryRow): number {
  return (
    MODE_ORDER[a.mode] - MODE_ORDER[b.mode] ||
    (a.drafter ?? '').localeCompare(b.drafter ?? '') ||
    (a.policy ?? '').localeCompare(b.policy ?? '') ||
    (a.k ?? 0) - (b.k ?? 0)
  );
}

/** The runs of each configuration, keyed by groupKey, in the order they first appear. */
export function groupRows(rows: readonly RunRow[]): Map<string, RunRow[]> {
  const groups = new Map<string, RunRow[]>();
  for (const row of rows) {
    const key = groupKey(row);
    const group = groups.get(key);
    if (group) group.push(row);
    else groups.set(key, [row]);
  }
  return groups;
}

/** One row per configuration, medians over repeats and prompts. */
export function summarizeRows(rows: readonly RunRow[]): SummaryRow[] {
  const groups = groupRows(rows);
  const baselineTime = spreadOf(rows.filter((r) => r.mode === 'baseline').map((r) => r.timeS));

  const summary: SummaryRow[] = [];
  for (const [key, group] of groups) {
    const first = group[0]!;
    const recorded = group.map((r) => r.speedup);
    // The sweep fills speedup from the baseline run of the same repeat and prompt; fall back to
    // the median baseline time when a row came without one.
    const speedupOf = (r: RunRow): number | null =>
      r.speedup ?? (baselineTime ? baselineTime.median / r.timeS : null);
    const speedup =
      spreadOf(recorded) ??
      (baselineTime ? spreadOf(group.map((r) => baselineTime.median / r.timeS)) : null);
    const byRepeat = new Map<number, number[]>();
    for (const r of group) {
      const s = speedupOf(r);
      if (s === null || !Number.isFinite(s)) continue;
      byRepeat.set(r.repeat, [...(byRepeat.get(r.repeat) ?? []), s]);
    }
    summary.push({
      key,
      mode: first.mode,
      k: first.k,
      drafter: first.drafter ?? null,
      policy: first.policy ?? null,
      repeats: group.length,
      prompts: new Set(group.map((r) => r.promptIndex)).size,
      timeS: spreadOf(group.map((r) => r.timeS))!,
      targetPasses: spreadOf(group.map((r) => r.targetPasses))!,
      draftPasses: spreadOf(group.map((r) => r.draftPasses))!,
      newTokens: spreadOf(group.map((r) => r.newTokens))!,
      tokensPerTargetPass: spreadOf(group.map((r) => r.tokensPerTargetPass)),
      acceptanceRate: spreadOf(group.map((r) => r.acceptanceRate)),
      speedup,
      speedupOverRepeats: spreadOf([...byRepeat.values()].map(median)),
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

/** The best configuration and the ones it cannot be told apart from. */
export interface BestChoice {
  row: SummaryRow;
  /** speculative rows whose speedup range over repeats overlaps the best's (best first) */
  tiedWith: SummaryRow[];
  /** repeats the noise was measured over (each the median over `prompts` prompts) */
  repeats: number;
  prompts: number;
  /** false with one repeat per configuration: nothing measured how noisy the times are */
  noiseMeasured: boolean;
}

/**
 * The fastest configuration, named as best only beyond noise: every other whose speedup range
 * over repeats (speedupOverRepeats) overlaps the best's is tied with it.
 */
export function bestOf(summary: readonly SummaryRow[]): BestChoice | null {
  const row = bestRow(summary);
  if (!row) return null;
  const noise = row.speedupOverRepeats;
  const noiseMeasured = noise !== null && noise.n > 1;
  const tiedWith = noiseMeasured
    ? summary
        .filter(
          (r) =>
            r !== row &&
            r.mode === 'speculative' &&
            r.speedupOverRepeats !== null &&
            r.speedupOverRepeats.max >= noise.min,
        )
        .sort((a, b) => b.speedup!.median - a.speedup!.median)
    : [];
  return { row, tiedWith, noiseMeasured, repeats: noise?.n ?? 0, prompts: row.prompts };
}

/** "K=2 (1.55x the baseline, 1.48x-1.61x over 3 repeats)" or "K=2 and K=3 are within noise ..." */
export function bestSentence(best: BestChoice, withStrategy: boolean): string {
  const label = (r: SummaryRow): string => variantLabel(r, withStrategy);
  const s = best.row.speedup!;
  const over = `over ${best.repeats} repeats`;
  const each = best.prompts > 1 ? `, each a median over ${best.prompts} prompts` : '';
  if (best.tiedWith.length > 0) {
    const all = [best.row, ...best.tiedWith];
    const names = all.map(label);
    const joined = `${names.slice(0, -1).join(', ')} and ${names.at(-1)}`;
    return `${joined} are within noise (${all.map((r) => times(r.speedup!.median)).join(', ')} the baseline; their speedups ${over}${each}${each ? ',' : ''} overlap), so no single best is named.`;
  }
  if (!best.noiseMeasured)
    return `${label(best.row)} (${times(s.median)} the baseline; from one repeat, so its noise is not measured: run 3 or more repeats to tell close configurations apart).`;
  const n = best.row.speedupOverRepeats!;
  return `${label(best.row)} (${times(s.median)} the baseline, ${times(n.min)}-${times(n.max)} ${over}${each}; clear of the runner-up).`;
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

/** The summary of each prompt of a prompt set on its own, in prompt order. */
export function summarizeByPrompt(
  rows: readonly RunRow[],
): Array<{ promptIndex: number; rows: SummaryRow[] }> {
  const indices = [...new Set(rows.map((r) => r.promptIndex))].sort((a, b) => a - b);
  return indices.map((promptIndex) => ({
    promptIndex,
    rows: summarizeRows(rows.filter((r) => r.promptIndex === promptIndex)),
  }));
}
