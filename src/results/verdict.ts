/**
 * Which configuration is fastest, decided by paired comparison. Repeats run interleaved (each
 * repeat runs the baseline and every K back to back on one prompt), so two configurations' runs
 * of the same repeat and prompt saw the same machine: their time ratio cancels most of the drift
 * that makes min-max ranges overlap. One function decides, and every surface shows its answer.
 */
/** A configuration's run times keyed by `${repeat}:${promptIndex}` (pairKey). */
export type PairedTimes = Readonly<Record<string, number>>;

export function pairKey(repeat: number, promptIndex: number): string {
  return `${repeat}:${promptIndex}`;
}

/** fewer paired runs than this measure no noise: nothing is said to beat anything */
export const MIN_PAIRS = 3;

/** The rule, in the words the report, the CLI and JSON `best.rule` give. */
export const PAIRED_RULE =
  'paired by repeat and prompt: A beats B when, over at least 3 such pairs, A was at least 2% faster in every pair, or the one-sided 95% lower bound of the geometric mean of time(B)/time(A) (Student t on the log ratios) is above 1';

/** how much faster than B in every pair A must be to beat it by the sign of the pairs alone */
export const EVERY_PAIR_MARGIN = 1.02;

/** Student t, one-sided 95%, by degrees of freedom 1..30 (beyond 30, the normal's 1.645 is close). */
const T95 = [
  6.314, 2.92, 2.353, 2.132, 2.015, 1.943, 1.895, 1.86, 1.833, 1.812, 1.796, 1.782, 1.771, 1.761,
  1.753, 1.746, 1.74, 1.734, 1.729, 1.725, 1.721, 1.717, 1.714, 1.711, 1.708, 1.706, 1.703, 1.701,
  1.699, 1.697,
];

function t95(df: number): number {
  return T95[df - 1] ?? 1.645;
}

export interface PairedComparison {
  /** runs present in both */
  pairs: number;
  /** geometric mean of time(b) / time(a): above 1 when a is faster */
  ratio: number;
  /** its one-sided 95% lower bound (NaN under MIN_PAIRS) */
  lower: number;
  /** a was at least EVERY_PAIR_MARGIN faster in every pair */
  wonEveryPair: boolean;
  /** a is faster than b beyond the noise the pairs show: it won every pair, or the bound is above 1 */
  beats: boolean;
}

/** Is a faster than b, run for run? */
export function comparePaired(a: PairedTimes, b: PairedTimes): PairedComparison {
  const logs: number[] = [];
  for (const [key, ta] of Object.entries(a)) {
    const tb = b[key];
    if (tb === undefined || !(ta > 0) || !(tb > 0)) continue;
    logs.push(Math.log(tb / ta));
  }
  const n = logs.length;
  if (n === 0) return { pairs: 0, ratio: NaN, lower: NaN, wonEveryPair: false, beats: false };
  const mean = logs.reduce((s, v) => s + v, 0) / n;
  if (n < MIN_PAIRS)
    return { pairs: n, ratio: Math.exp(mean), lower: NaN, wonEveryPair: false, beats: false };
  // a win by the margin in every pair is a verdict of its own: with 3 repeats the t bound needs
  // the ratios to agree closely, while a machine's drift makes them vary even when A always wins
  const wonEveryPair = logs.every((v) => v >= Math.log(EVERY_PAIR_MARGIN));
  const variance = logs.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1);
  const lower = mean - t95(n - 1) * Math.sqrt(variance / n);
  return {
    pairs: n,
    ratio: Math.exp(mean),
    lower: Math.exp(lower),
    wonEveryPair,
    beats: wonEveryPair || lower > 0,
  };
}

export interface Verdict<T> {
  /** the fastest by median speedup */
  best: T;
  /** configurations the best did not beat (fastest first) */
  tiedWith: T[];
  /** the best beat the baseline (by the rule; without measured noise, its median speedup > 1) */
  beatBaseline: boolean;
  /** at least MIN_PAIRS paired runs of the best with every configuration it was compared with */
  noiseMeasured: boolean;
  /** paired runs of the best against the baseline */
  pairs: number;
}

/**
 * The verdict over speculative configurations: the fastest by median speedup is the best; the
 * others it does not beat, paired, are tied with it; it beat the baseline only when it beats it
 * by the same rule. Null when there is nothing to compare.
 */
export function decide<T>(
  candidates: readonly T[],
  baseline: T | null,
  timesOf: (c: T) => PairedTimes,
  speedupOf: (c: T) => number,
): Verdict<T> | null {
  const ranked = candidates
    .filter((c) => Number.isFinite(speedupOf(c)))
    .sort((x, y) => speedupOf(y) - speedupOf(x));
  const best = ranked[0];
  if (best === undefined) return null;
  const bestTimes = timesOf(best);
  const vsBaseline = baseline ? comparePaired(bestTimes, timesOf(baseline)) : null;
  const pairs = vsBaseline?.pairs ?? Object.keys(bestTimes).length;
  const noiseMeasured = pairs >= MIN_PAIRS;
  const tiedWith = noiseMeasured
    ? ranked.slice(1).filter((c) => !comparePaired(bestTimes, timesOf(c)).beats)
    : [];
  const beatBaseline = noiseMeasured
    ? (vsBaseline?.beats ?? false)
    : Number.isFinite(speedupOf(best)) && speedupOf(best) > 1;
  return { best, tiedWith, beatBaseline, noiseMeasured, pairs };
}
