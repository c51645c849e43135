/**
 * The report's small words: configuration and K labels, lists, ordinals, a median with its
 * range, a shortened prompt. Numbers themselves are formatted by src/shared/format.ts.
 */
import type { Spread } from '../../shared/stats';
import { variantLabel } from '../summary';
import type { Configuration } from './types';

/** "K=3" */
export const kLabel = (k: number): string => `K=${k}`;

/** "1.23 s (1.20 s to 1.31 s)", or the median alone when there is no range */
export function spreadText(s: Spread, fmt: (v: number) => string): string {
  return s.n > 1 && s.min !== s.max
    ? `${fmt(s.median)} (${fmt(s.min)} to ${fmt(s.max)})`
    : fmt(s.median);
}

/** "a, b and c" */
export function list(items: readonly string[]): string {
  if (items.length <= 1) return items.join('');
  return `${items.slice(0, -1).join(', ')} and ${items.at(-1)}`;
}

/** 1st, 2nd, 3rd, 4th, 11th, 21st */
export function ordinal(n: number): string {
  const teen = n % 100 >= 11 && n % 100 <= 13;
  return `${n}${teen ? 'th' : (['th', 'st', 'nd', 'rd'][n % 10] ?? 'th')}`;
}

/** whitespace folded to single spaces, cut to `chars` with "..." */
export function shorten(text: string, chars: number): string {
  const flat = text.replace(/\s+/g, ' ');
  return flat.length > chars ? `${flat.slice(0, chars)}...` : flat;
}

/** "Baseline", "Baseline (no KV cache)", "K=3" or, when the sweep compares them, "K=3 model / fixed" */
export function configurationLabel(r: Configuration, strategies: boolean): string {
  return r.mode === 'baseline'
    ? 'Baseline'
    : r.mode === 'baseline-no-cache'
      ? 'Baseline (no KV cache)'
      : variantLabel(r, strategies);
}
