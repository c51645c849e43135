/** How a measure moves over K, classified so that the sections' words about it hold at every step. */

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
