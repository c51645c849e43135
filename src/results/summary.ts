/**
 * A sweep's arithmetic, shared by the CLI table, the app's results table and the analysis: one
 * row per configuration (mode, drafter, policy, controlled acceptance, K) with the median over repeats and prompts and
 * the min-max spread, per-prompt rows, and the best configuration. Pure functions over RunRow.
 */
import { times } from '../shared/format';
import { median, spreadOf, type Spread } from '../shared/stats';
import type { DecodeMode, TreeVerifyMode } from '../shared/events';
import type { RunRow } from '../shared/protocol';
import type { DraftPolicyName, DrafterKind } from '../shared/decoding';
import { strategyName } from './strategy';
import { decide, pairKey, PAIRED_RULE, type PairedTimes } from './verdict';

/** The exercise's "Output Text Sample" length. */
export const SAMPLE_CHARS = 150;

export interface SummaryRow {
  /** `${mode}:${drafter}:${policy}:${k}` (then `:a${A}` when controlled): stable, for keyed lists */
  key: string;
  mode: DecodeMode;
  k: number | null;
  /** null for baselines */
  drafter: DrafterKind | null;
  policy: DraftPolicyName | null;
  /** controlled acceptance's target A; null for real drafting and baselines */
  acceptanceTarget: number | null;
  /**
   * a token tree's shape or node budget, how it was verified, and the nodes it verified per step
   * (each run's mean over the steps that drafted, then the median and spread over the runs);
   * absent for chains, baselines
   */
  tree?: {
    shape?: number[];
    budget?: number;
    verify: TreeVerifyMode;
    nodesPerStep?: Spread | null;
  };
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
  /** vLLM's mean acceptance length per run (1 + accepted / verification steps) */
  meanAcceptanceLength: Spread | null;
  /**
   * verification steps by accepted count (index 0..K), summed over the configuration's runs (as
   * vLLM aggregates its counters); null when no run recorded one
   */
  acceptedPerStepHistogram: number[] | null;
  /** accepted / drafts tested over all its runs: the per-position acceptance (A when controlled) */
  acceptancePerTested: number | null;
  /** the time split, each part's median over the runs (null when no run recorded one) */
  timeSplit: { draftS: number; targetS: number; otherS: number } | null;
  speedup: Spread | null;
  /**
   * The speedup's noise: each repeat's median speedup over the configuration's prompts, then the
   * min-max over repeats. Prompts differ in how well they draft; that is not noise, so the best
   * K is judged on this spread, not on the min-max over all runs. n = repeats measured.
   */
  speedupOverRepeats: Spread | null;
  /** each run's time by repeat and prompt (verdict.ts pairKey): the paired comparison's input */
  times: PairedTimes;
  /** runs whose output equals the baseline's, out of `repeats` */
  identicalCount: number;
  outputSample: string;
}

export { median, spreadOf, type Spread };

type Variant = Pick<RunRow, 'mode' | 'k' | 'drafter' | 'policy' | 'acceptanceTarget'> & {
  tree?: TreeOf | undefined;
};
type TreeOf = { shape?: readonly number[]; budget?: number; verify?: string };

/** "3,2,1" for a static shape, "budget 16" for a node budget's tree */
export function treeName(tree: TreeOf): string {
  return tree.shape ? tree.shape.join(',') : `budget ${tree.budget ?? ''}`;
}

/**
 * each controlled acceptance target is a configuration of its own (real drafting keeps its key),
 * and so is each token-tree shape (`:t3,2,1`)
 */
export function groupKey(row: Variant): string {
  const controlled = row.acceptanceTarget != null ? `:a${row.acceptanceTarget}` : '';
  const tree = row.tree ? `:t${treeName(row.tree)}:${row.tree.verify ?? ''}` : '';
  return `${row.mode}:${row.drafter ?? ''}:${row.policy ?? ''}:${row.k ?? ''}${controlled}${tree}`;
}

/**
 * "K=3", "K=3 alpha 0.8" at a controlled acceptance, and "K=3 prompt-lookup / heuristic" when the
 * sweep compares drafters or policies
 */
export function variantLabel(row: Variant, withStrategy: boolean): string {
  if (row.mode !== 'speculative') return row.mode;
  // "tree 3,2,1" in one pass under its mask, "tree 3,2,1 rows" as a batch row per path
  // "tree 3,2,1 alpha 0.8" under controlled acceptance
  if (row.tree) {
    const alpha = row.acceptanceTarget != null ? ` alpha ${row.acceptanceTarget}` : '';
    return `tree ${treeName(row.tree)}${row.tree.verify === 'rows' ? ' rows' : ''}${alpha}`;
  }
  const k =
    row.acceptanceTarget != null ? `K=${row.k} alpha ${row.acceptanceTarget}` : `K=${row.k}`;
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
    (a.acceptanceTarget ?? -1) - (b.acceptanceTarget ?? -1) ||
    // chains before trees; shapes by depth then shape, then budgets by size; mask before rows
    Number(a.tree !== undefined) - Number(b.tree !== undefined) ||
    Number(a.tree?.budget !== undefined) - Number(b.tree?.budget !== undefined) ||
    (a.k ?? 0) - (b.k ?? 0) ||
    (a.tree?.budget ?? 0) - (b.tree?.budget ?? 0) ||
    (a.tree?.shape?.join(',') ?? '').localeCompare(b.tree?.shape?.join(',') ?? '') ||
    (a.tree?.verify ?? '').localeCompare(b.tree?.verify ?? '')
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
      acceptanceTarget: first.acceptanceTarget ?? null,
      ...(first.tree
        ? {
            tree: {
              ...(first.tree.shape ? { shape: first.tree.shape } : {}),
              ...(first.tree.budget !== undefined ? { budget: first.tree.budget } : {}),
              verify: first.tree.verify,
              nodesPerStep: spreadOf(group.map(meanNodesPerStep)),
            },
          }
        : {}),
      repeats: group.length,
      prompts: new Set(group.map((r) => r.promptIndex)).size,
      timeS: spreadOf(group.map((r) => r.timeS))!,
      targetPasses: spreadOf(group.map((r) => r.targetPasses))!,
      draftPasses: spreadOf(group.map((r) => r.draftPasses))!,
      newTokens: spreadOf(group.map((r) => r.newTokens))!,
      tokensPerTargetPass: spreadOf(group.map((r) => r.tokensPerTargetPass)),
      acceptanceRate: spreadOf(group.map((r) => r.acceptanceRate)),
      ...engineMetrics(group),
      speedup,
      speedupOverRepeats: spreadOf([...byRepeat.values()].map(median)),
      times: Object.fromEntries(group.map((r) => [pairKey(r.repeat, r.promptIndex), r.timeS])),
      identicalCount: group.filter((r) => r.identical).length,
      outputSample: outputSample(first.outputText),
    });
  }
  return summary.sort(compareRows);
}

/**
 * The nodes a tree run verified per step, over the steps that drafted (a step with no room to
 * draft verifies none); a chain's drafts per step. Null without a step that drafted.
 */
export function meanNodesPerStep(row: Pick<RunRow, 'tree' | 'kPerStep'>): number | null {
  const steps = (row.tree?.nodesPerStep ?? row.kPerStep ?? []).filter((n) => n > 0);
  return steps.length > 0 ? steps.reduce((s, n) => s + n, 0) / steps.length : null;
}

/** The serving engines' metrics of one configuration's runs (vLLM's and llama.cpp's). */
function engineMetrics(
  group: readonly RunRow[],
): Pick<
  SummaryRow,
  'meanAcceptanceLength' | 'acceptedPerStepHistogram' | 'acceptancePerTested' | 'timeSplit'
> {
  const histograms = group.flatMap((r) =>
    r.acceptedPerStepHistogram?.length ? [r.acceptedPerStepHistogram] : [],
  );
  const length = Math.max(0, ...histograms.map((h) => h.length));
  const tested = group.reduce((n, r) => n + (r.draftTokensTested ?? 0), 0);
  const accepted = group.reduce(
    (n, r) => n + (r.draftTokensTested !== undefined ? r.acceptedTokens : 0),
    0,
  );
  const splits = group.flatMap((r) => (r.timeSplit ? [r.timeSplit] : []));
  return {
    meanAcceptanceLength: spreadOf(group.map((r) => r.meanAcceptanceLength)),
    acceptedPerStepHistogram:
      histograms.length > 0
        ? Array.from({ length }, (_, i) => histograms.reduce((n, h) => n + (h[i] ?? 0), 0))
        : null,
    acceptancePerTested: tested > 0 ? accepted / tested : null,
    timeSplit:
      splits.length > 0
        ? {
            draftS: median(splits.map((s) => s.draftS)),
            targetS: median(splits.map((s) => s.targetS)),
            otherS: median(splits.map((s) => s.otherS)),
          }
        : null,
  };
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

/** The verdict: the fastest configuration, what it beat, and whether it beat the baseline. */
export interface BestChoice {
  /** the speculative row with the highest median speedup */
  row: SummaryRow;
  /** configurations it did not beat run for run (fastest first): tied with it */
  tiedWith: SummaryRow[];
  /** it beat the baseline run for run (without measured noise: its median speedup is above 1) */
  beatBaseline: boolean;
  /** repeats and prompts its runs were paired over */
  repeats: number;
  prompts: number;
  /** runs paired with the baseline's (repeats x prompts that both finished) */
  pairs: number;
  /** false under 3 paired runs: nothing measured how noisy the times are */
  noiseMeasured: boolean;
  /** the rule, in words */
  rule: string;
}

/**
 * The one verdict every surface shows (verdict.ts decides): the fastest configuration by median
 * speedup, the others it did not beat run for run (tied), and whether it beat the baseline.
 */
export function bestOf(summary: readonly SummaryRow[]): BestChoice | null {
  const candidates = summary.filter((r) => r.mode === 'speculative' && r.speedup !== null);
  const v = decide(
    candidates,
    baselineRow(summary),
    (r) => r.times,
    (r) => r.speedup!.median,
  );
  if (!v) return null;
  return {
    row: v.best,
    tiedWith: v.tiedWith,
    beatBaseline: v.beatBaseline,
    repeats: new Set(Object.keys(v.best.times).map((k) => k.split(':')[0])).size,
    prompts: v.best.prompts,
    pairs: v.pairs,
    noiseMeasured: v.noiseMeasured,
    rule: PAIRED_RULE,
  };
}

/** The row that earns the Best badge: the verdict's, and only when it beat the baseline. */
export function badgeRow(summary: readonly SummaryRow[]): SummaryRow | null {
  const best = bestOf(summary);
  return best?.beatBaseline ? best.row : null;
}

/** "6 runs paired by repeat and prompt", "3 repeats paired run for run": what a verdict compared. */
export function pairedOver(best: Pick<BestChoice, 'pairs' | 'prompts'>): string {
  return best.prompts > 1
    ? `${best.pairs} runs paired by repeat and prompt`
    : `${best.pairs} repeats paired run for run`;
}

/** The verdict in one sentence, the same in the CLI, the app, the history card and the report. */
export function bestSentence(best: BestChoice, withStrategy: boolean): string {
  const label = (r: SummaryRow): string => variantLabel(r, withStrategy);
  const x = (r: SummaryRow): string => `${times(r.speedup!.median)} the baseline`;
  const over = pairedOver(best);
  if (!best.noiseMeasured) {
    const from = best.pairs === 1 ? 'one run' : `${best.pairs} runs`;
    // without measured noise a median at or under 1x is still no win: say so first, as the badge does
    const lead = best.beatBaseline ? '' : 'No configuration beat the baseline: the fastest, ';
    return `${lead}${label(best.row)} (${x(best.row)}; from ${from} each, too few to measure noise: run 3 or more repeats to tell close configurations apart).`;
  }
  if (!best.beatBaseline)
    return `No configuration beat the baseline: the fastest, ${label(best.row)} (${x(best.row)}), was not faster beyond noise over ${over}.`;
  const n = best.row.speedupOverRepeats;
  const range = n && n.n > 1 ? `, ${times(n.min)}-${times(n.max)} over repeats` : '';
  if (best.tiedWith.length === 0)
    return `${label(best.row)} (${x(best.row)}${range}): faster than the baseline and every other configuration beyond noise over ${over}.`;
  const tied = best.tiedWith.map((r) => `${label(r)} (${times(r.speedup!.median)})`);
  const joined =
    tied.length === 1 ? tied[0]! : `${tied.slice(0, -1).join(', ')} and ${tied.at(-1)}`;
  return `${label(best.row)} (${x(best.row)}${range}) beat the baseline, but is tied with ${joined}: not faster beyond noise over ${over}.`;
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
