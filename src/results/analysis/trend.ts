/** How a measure moves over K, classified so that the sections' words about it hold at every step. */
import { kLabel, list } from './words';

/**
 * Direction of a sequence, in words that hold for every step: rose / fell at every step; a
 * plateau (rose or fell at every step up to `at`, then the same from `at` on); loosely (never the
 * other way, but equal at some steps in between); flat; or the turning point.
 */
export type Trend =
  | { kind: 'rose' | 'fell' | 'flat' | 'mixed' }
  | { kind: 'plateau'; direction: 'rose' | 'fell'; at: number }
  | { kind: 'loosely'; direction: 'rose' | 'fell' }
  | { kind: 'peak' | 'dip'; at: number };

const rising = (v: readonly number[]): boolean => v.every((x, i) => i === 0 || x >= v[i - 1]!);
const falling = (v: readonly number[]): boolean => v.every((x, i) => i === 0 || x <= v[i - 1]!);

export function trendOf(values: readonly number[]): Trend {
  const steps = values.slice(1).map((v, i) => Math.sign(v - values[i]!));
  if (steps.every((d) => d === 0)) return { kind: 'flat' };
  if (steps.every((d) => d > 0)) return { kind: 'rose' };
  if (steps.every((d) => d < 0)) return { kind: 'fell' };
  const up = steps.every((d) => d >= 0);
  if (up || steps.every((d) => d <= 0)) {
    const direction = up ? 'rose' : 'fell';
    const lastMove = steps.findLastIndex((d) => d !== 0);
    return steps.slice(0, lastMove + 1).every((d) => d !== 0)
      ? { kind: 'plateau', direction, at: lastMove + 1 }
      : { kind: 'loosely', direction };
  }
  const hi = values.indexOf(Math.max(...values));
  const lo = values.indexOf(Math.min(...values));
  if (rising(values.slice(0, hi + 1)) && falling(values.slice(hi))) return { kind: 'peak', at: hi };
  if (falling(values.slice(0, lo + 1)) && rising(values.slice(lo))) return { kind: 'dip', at: lo };
  return { kind: 'mixed' };
}

/** One K's value of a measure. */
export interface TrendPoint {
  k: number;
  value: number;
}

/** the number `fmt` shows ("52.3%" -> 52.3): words compare what the tables show, not hidden digits */
function shownValue(v: number, fmt: (v: number) => string): number {
  const n = Number(fmt(v).replace(/[^0-9.eE+-]/g, ''));
  return Number.isFinite(n) && fmt(v).trim() !== '' ? n : v;
}

/**
 * How a measure moved over K, as a verb phrase that holds for every K of the series (judged on
 * the values as `fmt` shows them): "rose with every larger K, from 1.67 at K=1 to 3.03 at K=4",
 * "rose from 52.3% at K=1 to 88.9% at K=2, then fell to 25.5% at K=8" (a peak or a dip in the
 * middle is named, and every K that shares it), "went up and down: ..." (every value).
 */
export function trendWords(
  points: readonly TrendPoint[],
  fmt: (v: number) => string,
): { trend: Trend; words: string } {
  const shown = points.map((p) => shownValue(p.value, fmt));
  const trend = trendOf(shown);
  const at = (i: number): string => `${fmt(points[i]!.value)} at ${kLabel(points[i]!.k)}`;
  /** the value at index i, with every K that shows the same value */
  const atEvery = (i: number): string =>
    `${fmt(points[i]!.value)} at ${list(points.filter((_, j) => shown[j] === shown[i]).map((p) => kLabel(p.k)))}`;
  const last = points.length - 1;
  let words: string;
  switch (trend.kind) {
    case 'flat':
      words = `stayed at ${fmt(points[0]!.value)} at every K`;
      break;
    case 'rose':
    case 'fell':
      words = `${trend.kind} with every larger K, from ${at(0)} to ${at(last)}`;
      break;
    case 'plateau':
      words = `${trend.direction} from ${at(0)} to ${at(trend.at)}, then stayed at ${fmt(points[trend.at]!.value)} up to ${kLabel(points[last]!.k)}`;
      break;
    case 'loosely': {
      // runs of equal values, e.g. "K=1 and K=2 (66)"
      const runs: number[][] = [];
      shown.forEach((v, i) => {
        const run = runs.at(-1);
        if (run && shown[run.at(-1)!] === v) run.push(i);
        else runs.push([i]);
      });
      const same = runs
        .filter((r) => r.length > 1)
        .map((r) => `${list(r.map((i) => kLabel(points[i]!.k)))} (${fmt(points[r[0]!]!.value)})`);
      words = `${trend.direction} overall, from ${at(0)} to ${at(last)}, but not at every step: the same at ${same.join('; ')}`;
      break;
    }
    case 'peak':
      words = `rose from ${at(0)} to ${atEvery(trend.at)}, then fell to ${at(last)}`;
      break;
    case 'dip':
      words = `fell from ${at(0)} to ${atEvery(trend.at)}, then rose to ${at(last)}`;
      break;
    case 'mixed':
      words = `went up and down: ${list(points.map((_, i) => at(i)))}`;
      break;
  }
  return { trend, words };
}
