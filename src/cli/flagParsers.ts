/**
 * The parsers of the CLI's numeric flags: each takes the text commander hands over and refuses
 * an empty, non-numeric or out-of-range value in one line, with the bounds of src/shared/limits.ts
 * (the same the protocol's schemas and the app's form check).
 */
import { InvalidArgumentError } from 'commander';
import {
  MAX_CPU_THREADS,
  MAX_NEW_TOKENS_TYPED,
  MAX_NO_REPEAT_NGRAM,
  MAX_PORT,
  MAX_REPEATS,
  MAX_REPETITION_PENALTY,
  MAX_SEED,
  MAX_TEMPERATURE,
  MAX_TOP_K,
  MAX_WARMUP,
} from '../shared/limits';

/** `value` as the user typed it, for a message: quoted when it is not a plain number */
function shown(value: string): string {
  const trimmed = value.trim();
  return trimmed !== '' && Number.isFinite(Number(trimmed)) ? trimmed : JSON.stringify(value);
}

/** a whole number from `min` to `max`; `range` words the bounds when they need explaining */
export function wholeIn(flag: string, min: number, max: number, range = `from ${min} to ${max}`) {
  return (value: string): number => {
    const trimmed = value.trim();
    const n = Number(trimmed);
    if (!/^[+-]?\d+$/.test(trimmed) || n < min || n > max)
      throw new InvalidArgumentError(
        `${flag} must be a whole number ${range} (got ${shown(value)}).`,
      );
    return n;
  };
}

/** A decimal number's bounds: `lowOpen` excludes `low` itself (above 0), `high` is included. */
interface DecimalRange {
  low: number;
  high: number;
  lowOpen: boolean;
  /** the range in words, as the message says it */
  words: string;
}

/** a decimal number ("0.8", ".5", "1e-1") within `range`; '' or "abc" is an error, never 0 */
export function numberIn(flag: string, range: DecimalRange) {
  return (value: string): number => {
    const trimmed = value.trim();
    const x = trimmed === '' ? NaN : Number(trimmed);
    const aboveLow = range.lowOpen ? x > range.low : x >= range.low;
    if (!(Number.isFinite(x) && aboveLow && x <= range.high))
      throw new InvalidArgumentError(
        `${flag} must be a number ${range.words} (got ${shown(value)}).`,
      );
    return x;
  };
}

export const threadCount = wholeIn(
  '--threads',
  0,
  MAX_CPU_THREADS,
  `from 0 (one per physical core) to ${MAX_CPU_THREADS}`,
);

/** the confidence policy's threshold: strictly between 0 and 1 */
export function probability(value: string): number {
  const trimmed = value.trim();
  const x = trimmed === '' ? NaN : Number(trimmed);
  if (!(x > 0 && x < 1))
    throw new InvalidArgumentError(
      `--p-min must be a number between 0 and 1, both excluded (got ${shown(value)}).`,
    );
  return x;
}

export const repetitionPenalty = numberIn('--repetition-penalty', {
  low: 1,
  high: MAX_REPETITION_PENALTY,
  lowOpen: false,
  words: `from 1 (off) to ${MAX_REPETITION_PENALTY}`,
});

/** a comma-separated list of whole numbers (their range is the sweep's check, which names K) */
export function kList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.some((p) => !/^-?\d+$/.test(p))) {
    throw new InvalidArgumentError(
      'K values must be whole numbers separated by commas, e.g. 1,2,4.',
    );
  }
  return parts.map(Number);
}

/** a comma-separated list of names from `choices`, each at most once */
export function nameList<T extends string>(flag: string, choices: readonly T[]) {
  return (value: string): T[] => {
    const names = value.split(',').map((s) => s.trim());
    const bad = names.find((n) => !(choices as readonly string[]).includes(n));
    if (bad !== undefined) {
      throw new InvalidArgumentError(
        `${flag} takes ${choices.join(', ')} (or several, comma-separated); got "${bad}".`,
      );
    }
    return [...new Set(names)] as T[];
  };
}

/** The ranges every surface shares (src/shared/limits.ts), as the CLI's flags take them. */
export const numericFlags = {
  maxNewTokens: wholeIn('--max-new-tokens', 1, MAX_NEW_TOKENS_TYPED),
  repeats: wholeIn('--repeats', 1, MAX_REPEATS),
  warmup: wholeIn('--warmup', 0, MAX_WARMUP),
  topK: wholeIn('--top-k', 0, MAX_TOP_K, `from 0 (all) to ${MAX_TOP_K}`),
  seed: wholeIn('--seed', 0, MAX_SEED),
  noRepeatNgram: wholeIn(
    '--no-repeat-ngram',
    0,
    MAX_NO_REPEAT_NGRAM,
    `from 0 (off) to ${MAX_NO_REPEAT_NGRAM}`,
  ),
  port: wholeIn('--port', 0, MAX_PORT, `from 0 (any free one) to ${MAX_PORT}`),
  temperature: numberIn('--temperature', {
    low: 0,
    high: MAX_TEMPERATURE,
    lowOpen: false,
    words: `from 0 (greedy) to ${MAX_TEMPERATURE}`,
  }),
  topP: numberIn('--top-p', {
    low: 0,
    high: 1,
    lowOpen: true,
    words: 'above 0 and at most 1',
  }),
};
