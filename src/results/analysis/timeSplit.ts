/**
 * "Where the time goes" (issue 34): each configuration's run time split into the draft model's
 * passes, the target's passes and the rest (crops, sampling, events, bookkeeping), checked to
 * sum to the run's time, and why a larger K is slower in those terms.
 */
import { percent, seconds, wholePercent } from '../../shared/format';
import type { RunRow } from '../../shared/protocol';
import type { SummaryRow } from '../summary';
import type { AnalysisExtra } from './types';
import { kLabel, list } from './words';

/** the three parts must sum to the run's time within this share of it */
export const SPLIT_TOLERANCE = 0.02;

type Split = NonNullable<RunRow['timeSplit']>;

/** |draft + target + other - time| / time of one run */
export function splitGap(timeS: number, split: Split): number {
  const sum = split.draftS + split.targetS + split.otherS;
  return timeS > 0 ? Math.abs(sum - timeS) / timeS : sum > 0 ? Infinity : 0;
}

/** "0.010 s to 0.016 s", or one value when both show the same */
function fromTo(a: number, b: number): string {
  return seconds(a) === seconds(b) ? `${seconds(a)} at both` : `${seconds(a)} to ${seconds(b)}`;
}

/** "+0.004 s", "-0.012 s" */
function change(delta: number): string {
  return `${delta >= 0 ? '+' : '-'}${seconds(Math.abs(delta))}`;
}

/** a run with its split */
type SplitRun = RunRow & { timeSplit: Split };

/**
 * A configuration's median run by time (the lower middle one of an even count): its parts add up
 * to its own time, where each part's median over the runs need not add up to the median time.
 */
export function medianSplitRun(group: readonly RunRow[]): SplitRun | null {
  const split = group
    .filter((r): r is SplitRun => r.timeSplit !== undefined)
    .sort((a, b) => a.timeS - b.timeS);
  return split[Math.floor((split.length - 1) / 2)] ?? null;
}

/** What the series' Ks spent where: from the smallest K to the largest, and past the best K. */
function seriesPoints(
  series: readonly SummaryRow[],
  groups: ReadonlyMap<string, RunRow[]>,
  bestK: number | null,
  at: string,
): string[] {
  const split = series.flatMap((r) => {
    const run = medianSplitRun(groups.get(r.key) ?? []);
    return run && r.k !== null ? [{ k: r.k, run }] : [];
  });
  if (split.length < 2) return [];
  const first = split[0]!;
  const last = split.at(-1)!;
  const a = first.run.timeSplit;
  const b = last.run.timeSplit;
  const out = [
    `${at ? `${at}from` : 'From'} ${kLabel(first.k)} to ${kLabel(last.k)}, the draft model's passes took ${fromTo(a.draftS, b.draftS)}, the target's ${fromTo(a.targetS, b.targetS)} and the rest ${fromTo(a.otherS, b.otherS)} (each K's median run).`,
  ];
  const best = split.find((r) => r.k === bestK);
  if (best && best !== last && last.run.timeS > best.run.timeS) {
    const s = best.run.timeSplit;
    const parts: Array<[string, number]> = [
      ['drafting', b.draftS - s.draftS],
      ["the target's passes", b.targetS - s.targetS],
      ['the rest', b.otherS - s.otherS],
    ];
    const grew = parts.filter(([, d]) => d > 0).sort((x, y) => y[1] - x[1]);
    out.push(
      `Why ${kLabel(last.k)} is slower than ${kLabel(best.k)} (${seconds(last.run.timeS)} against ${seconds(best.run.timeS)}, median runs): ${list(parts.map(([name, d]) => `${name} ${change(d)}`))}${grew[0] ? `; ${grew[0][0]} grew the most` : ''}.`,
    );
  }
  return out;
}

/**
 * The section over `summary`'s configurations (their runs in `groups`), null when no run recorded
 * a split. `series`: the K series questions 1 to 4 speak of, `bestK` its verdict's K, `at` what
 * it is ("At alpha 0.9, " or "").
 */
export function timeSplitSection(
  summary: readonly SummaryRow[],
  groups: ReadonlyMap<string, RunRow[]>,
  label: (r: SummaryRow) => string,
  series: { rows: readonly SummaryRow[]; bestK: number | null; at: string },
): AnalysisExtra | null {
  const withSplit = summary.filter((r) => r.timeSplit !== null);
  if (withSplit.length === 0) return null;
  const runs = withSplit.flatMap((r) => groups.get(r.key) ?? []);
  const split = runs.filter((r) => r.timeSplit);
  const gaps = split.map((r) => ({ row: r, gap: splitGap(r.timeS, r.timeSplit!) }));
  const off = gaps.filter((g) => g.gap > SPLIT_TOLERANCE);
  const largest = Math.max(...gaps.map((g) => g.gap));
  const answer =
    off.length === 0
      ? `Every run's time splits into the draft model's passes, the target's passes and the rest, and the three sum to the run's time within ${wholePercent(SPLIT_TOLERANCE)} (the largest gap: ${percent(largest)} of a run).`
      : `${off.length} of ${split.length} runs' parts do not sum to their time within ${wholePercent(SPLIT_TOLERANCE)} (the largest gap: ${percent(largest)} of a run), so those runs' shares below do not add up to 100%.`;
  const points: string[] = [
    "Draft and target are each model's whole passes (feeding, session.run, reading the logits back), less the time they waited for the event loop; the rest is everything else the run did (crops, sampling, events, bookkeeping).",
    ...seriesPoints(series.rows, groups, series.bestK, series.at),
  ];
  const missing = runs.length - split.length;
  if (missing > 0)
    points.push(
      `${missing} run${missing === 1 ? '' : 's'} recorded no split (saved before it was measured) and ${missing === 1 ? 'is' : 'are'} left out of the medians.`,
    );
  return {
    id: 'time-split',
    title: 'Where the time goes',
    question: 'Where does each configuration spend its time: drafting, verifying, or the rest?',
    answers: [answer],
    points,
    tables: [
      {
        caption:
          'Time split per configuration: its median run by time (its own time and parts, so they add up; shares of its time); largest gap: how far the parts’ sum was from the time, over all the configuration’s runs',
        head: [
          'Configuration',
          'Time (s)',
          'Draft (s)',
          'Target (s)',
          'Other (s)',
          'Draft',
          'Target',
          'Other',
          'Largest gap',
        ],
        rows: withSplit.flatMap((r) => {
          const group = groups.get(r.key) ?? [];
          const run = medianSplitRun(group);
          if (!run) return [];
          const s = run.timeSplit;
          const share = (part: number): string =>
            run.timeS > 0 ? wholePercent(part / run.timeS) : '-';
          const gap = Math.max(
            0,
            ...group.flatMap((x) => (x.timeSplit ? [splitGap(x.timeS, x.timeSplit)] : [])),
          );
          return [
            [
              label(r),
              run.timeS.toFixed(3),
              s.draftS.toFixed(3),
              s.targetS.toFixed(3),
              s.otherS.toFixed(3),
              share(s.draftS),
              share(s.targetS),
              share(s.otherS),
              `${percent(gap)}${gap > SPLIT_TOLERANCE ? ` (over ${wholePercent(SPLIT_TOLERANCE)})` : ''}`,
            ],
          ];
        }),
      },
    ],
  };
}
