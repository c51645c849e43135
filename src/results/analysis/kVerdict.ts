/**
 * The verdict over the Ks a section speaks of (one drafter / policy's series), decided by
 * summary.ts bestOf (verdict.ts's paired rule) and told in its words: no section names a best, a
 * tie or a win over the baseline from overlapping min-max ranges.
 */
import { times } from '../../shared/format';
import { bestOf, pairedOver, type SummaryRow } from '../summary';
import { comparePaired, decide, type PairedTimes } from '../verdict';
import { kLabel, list } from './words';

/** One configuration against another, run for run (same repeat and prompt). */
export interface PairedAgainst {
  /** the other configuration's K (null: the baseline) */
  k: number | null;
  pairs: number;
  /** pairs in which the best was the faster */
  wins: number;
  /** geometric mean of time(other) / time(best) */
  ratio: number;
  /** its one-sided 95% lower bound (NaN when too few pairs) */
  lower: number;
}

export interface KVerdict {
  /** the best K: the highest median speedup (the lowest median time without a baseline) */
  k: number;
  /** the Ks it did not beat run for run, fastest first */
  tiedKs: number[];
  /** how it fared against each of them */
  againstTied: PairedAgainst[];
  /** it beat the baseline by the rule (without measured noise: its median speedup is above 1) */
  beatBaseline: boolean;
  /** against the baseline, run for run (null without one) */
  againstBaseline: PairedAgainst | null;
  /** at least 3 paired runs: the rule could tell noise from a difference */
  noiseMeasured: boolean;
  /** paired runs behind it */
  pairs: number;
  /** "3 repeats paired run for run", "6 runs paired by repeat and prompt" */
  over: string;
  /** there is a baseline, so the best was picked by speedup, not by time alone */
  bySpeedup: boolean;
}

function against(best: PairedTimes, other: PairedTimes, k: number | null): PairedAgainst {
  const cmp = comparePaired(best, other);
  const wins = Object.entries(best).filter(([key, t]) => {
    const o = other[key];
    return o !== undefined && t < o;
  }).length;
  return { k, pairs: cmp.pairs, wins, ratio: cmp.ratio, lower: cmp.lower };
}

/** The verdict over `series` (speculative rows with a K); null when none can be compared. */
export function kVerdictOf(
  series: readonly SummaryRow[],
  baseline: SummaryRow | null,
): KVerdict | null {
  const rows = series.filter((r) => r.k !== null);
  const withVerdict = (
    best: SummaryRow,
    tied: readonly SummaryRow[],
    rest: Pick<KVerdict, 'beatBaseline' | 'noiseMeasured' | 'pairs' | 'bySpeedup'>,
  ): KVerdict => ({
    k: best.k!,
    tiedKs: tied.map((r) => r.k!),
    againstTied: tied.map((r) => against(best.times, r.times, r.k)),
    againstBaseline: baseline ? against(best.times, baseline.times, null) : null,
    over: pairedOver({ pairs: rest.pairs, prompts: best.prompts }),
    ...rest,
  });
  if (baseline) {
    const choice = bestOf([baseline, ...rows]);
    if (choice)
      return withVerdict(choice.row, choice.tiedWith, {
        beatBaseline: choice.beatBaseline,
        noiseMeasured: choice.noiseMeasured,
        pairs: choice.pairs,
        bySpeedup: true,
      });
  }
  // No baseline: the fastest by median time, and the Ks it did not beat run for run.
  const v = decide(
    rows,
    null,
    (r) => r.times,
    (r) => 1 / r.timeS.median,
  );
  if (!v) return null;
  return withVerdict(v.best, v.tiedWith, {
    beatBaseline: false,
    noiseMeasured: v.noiseMeasured,
    pairs: v.pairs,
    bySpeedup: false,
  });
}

/** the best beat the baseline and every other K: the sweep's optimum */
export function isOptimum(v: KVerdict): boolean {
  return v.noiseMeasured && v.beatBaseline && v.tiedKs.length === 0;
}

/** what the Time per K table writes beside a K: the verdict, not a ranking of its own */
export function verdictMark(k: number, v: KVerdict | null): string {
  if (!v) return '';
  if (k === v.k) {
    if (v.bySpeedup && !v.beatBaseline) return ' (fastest, did not beat the baseline)';
    if (v.tiedKs.length > 0) return ' (best median)';
    return v.noiseMeasured ? ' (best)' : ' (fastest)';
  }
  return v.tiedKs.includes(k) ? ' (tied)' : '';
}

/**
 * "K=2 was faster than K=3 in 2 of 3 paired runs (1.10x on geometric mean, 95% lower bound
 * 0.93x) and K=1 in ...": how the best fared, run for run, against each other configuration.
 */
export function pairedWords(
  best: string,
  others: ReadonlyArray<{ label: string; paired: PairedAgainst }>,
): string {
  const one = ({ label, paired: p }: { label: string; paired: PairedAgainst }): string => {
    const bound = Number.isFinite(p.lower) ? `, 95% lower bound ${times(p.lower)}` : '';
    return `${label} in ${p.wins} of ${p.pairs} paired runs (${times(p.ratio)} on geometric mean${bound})`;
  };
  return `${best} was faster than ${list(others.map(one))}`;
}

/** "one run each: noise not measured", "2 runs each: too few to measure noise" */
export function unmeasuredWords(v: KVerdict): string {
  return v.pairs <= 1
    ? 'one run each: noise not measured'
    : `${v.pairs} runs each: too few to measure noise`;
}

/** "K=3 and K=1" */
export function tiedLabels(v: KVerdict): string[] {
  return v.tiedKs.map(kLabel);
}
