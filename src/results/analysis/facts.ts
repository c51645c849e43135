/**
 * The facts the answers are written from, computed from the run rows: a K's medians (KPoint), a
 * baseline's (BaselineFacts) and the sweep's best configuration (BestFacts).
 */
import type { RunRow, Theory } from '../../shared/protocol';
import { median, spreadOf } from '../../shared/stats';
import { baselineRow, bestOf, pairedOver, variantLabel, type SummaryRow } from '../summary';
import { expectedSpeedup, expectedTokensPerPass, predictedMeasuredCost } from '../theory';
import type { BaselineFacts, BestFacts, KPoint } from './types';

/** the median of a per-run measure over the runs that have it; null when none has */
export function medianOf(
  rows: readonly RunRow[],
  pick: (r: RunRow) => number | null,
): number | null {
  return spreadOf(rows.map(pick))?.median ?? null;
}

/** milliseconds per target pass, the median over the runs */
function medianPassMs(rows: readonly RunRow[]): number | null {
  return medianOf(rows, (r) =>
    r.targetPasses > 0 && r.targetRunS > 0 ? (r.targetRunS / r.targetPasses) * 1000 : null,
  );
}

function baselineFacts(
  row: SummaryRow | undefined,
  group: readonly RunRow[],
): BaselineFacts | null {
  if (!row) return null;
  return {
    runs: row.repeats,
    timeS: row.timeS,
    targetPasses: row.targetPasses.median,
    newTokens: row.newTokens.median,
    targetPassMs: medianPassMs(group),
  };
}

/** The baseline with a KV cache and the one without (null where no run of it finished). */
export function baselinesOf(
  summary: readonly SummaryRow[],
  groups: ReadonlyMap<string, RunRow[]>,
): { baseline: BaselineFacts | null; noCacheBaseline: BaselineFacts | null } {
  const baseRow = baselineRow(summary) ?? undefined;
  const noCacheRow = summary.find((r) => r.mode === 'baseline-no-cache');
  return {
    baseline: baselineFacts(baseRow, baseRow ? (groups.get(baseRow.key) ?? []) : []),
    noCacheBaseline: baselineFacts(
      noCacheRow,
      noCacheRow ? (groups.get(noCacheRow.key) ?? []) : [],
    ),
  };
}

/** per draft position, the median over runs of the share of steps that accepted it */
function positionMedians(rows: readonly RunRow[]): number[] | null {
  const lists = rows.map((r) => r.acceptanceByPosition ?? []).filter((l) => l.length > 0);
  if (lists.length === 0) return null;
  const len = Math.max(...lists.map((l) => l.length));
  const out: number[] = [];
  for (let i = 0; i < len; i++) {
    const at = lists.map((l) => l[i]).filter((v): v is number => v !== undefined);
    out.push(median(at));
  }
  return out;
}

/**
 * One K of the series: its summary row's medians, per-run medians over its runs (`group`) and
 * Leviathan's expectations for it (alpha and c null where the theory does not apply).
 */
export function kPoint(
  row: SummaryRow,
  group: readonly RunRow[],
  alpha: number | null,
  c: number | null,
  theory: Theory | null,
): KPoint {
  const k = row.k!;
  return {
    k,
    runs: row.repeats,
    timeS: row.timeS,
    speedup: row.speedup,
    speedupOverRepeats: row.speedupOverRepeats,
    targetPasses: row.targetPasses.median,
    draftPasses: row.draftPasses.median,
    newTokens: row.newTokens.median,
    tokensPerPass: row.tokensPerTargetPass?.median ?? null,
    acceptanceRate: row.acceptanceRate?.median ?? null,
    acceptedPerStep: medianOf(group, (r) =>
      r.verificationSteps > 0 ? r.acceptedTokens / r.verificationSteps : null,
    ),
    draftedTokens: medianOf(group, (r) => r.draftedTokens) ?? 0,
    acceptedTokens: medianOf(group, (r) => r.acceptedTokens) ?? 0,
    wastedDrafts: medianOf(group, (r) => r.draftedTokens - r.acceptedTokens) ?? 0,
    draftTimeShare: medianOf(group, (r) => (r.timeS > 0 ? r.draftRunS / r.timeS : null)),
    targetPassMs: medianPassMs(group),
    expectedTokensPerPass: alpha === null ? null : expectedTokensPerPass(alpha, k),
    predictedSpeedup: alpha === null || c === null ? null : expectedSpeedup(alpha, c, k),
    predictedMeasuredCost: predictedMeasuredCost(theory, k),
    verifyCost: theory?.verifyCost?.[String(k)] ?? null,
    acceptanceByPosition: positionMedians(group),
    identical: row.identicalCount,
  };
}

/** The verdict's configuration over the whole sweep (summary.ts bestOf), null without a speedup. */
export function bestFactsOf(summary: readonly SummaryRow[], strategies: boolean): BestFacts | null {
  const choice = bestOf(summary);
  const best = choice?.row;
  if (!choice || !best || !best.speedup || best.k === null) return null;
  return {
    label: variantLabel(best, strategies),
    key: best.key,
    k: best.k,
    drafter: best.drafter,
    policy: best.policy,
    runs: best.repeats,
    timeS: best.timeS,
    speedup: best.speedup,
    targetPasses: best.targetPasses.median,
    identical: best.identicalCount,
    tiedWith: choice.tiedWith.map((r) => variantLabel(r, strategies)),
    beatBaseline: choice.beatBaseline,
    noiseMeasured: choice.noiseMeasured,
    over: pairedOver(choice),
    speedupOverRepeats: best.speedupOverRepeats,
  };
}
