/**
 * Repetition controls as Hugging Face's logits processors define them
 * (RepetitionPenaltyLogitsProcessor, NoRepeatNGramLogitsProcessor), applied to one row of
 * logits given every token before the position it predicts (prompt included).
 *
 * Speculative decoding stays lossless under them because every row is processed with its own
 * prefix: the draft's rows with the context plus the drafts before them, the target's
 * verification row i with the context plus drafts 0..i-1. So the target's processed argmax at a
 * position is the baseline's processed argmax there, and a sampled run draws from the processed
 * target distribution.
 */
import type { RepetitionParams } from '../../shared/decoding';
import { MAX_NO_REPEAT_NGRAM, MAX_REPETITION_PENALTY } from '../../shared/limits';
import { SpecDecError } from '../errors';

export type { RepetitionParams };

export function checkRepetition(r: RepetitionParams): void {
  if (!(r.penalty >= 1 && r.penalty <= MAX_REPETITION_PENALTY)) {
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `The repetition penalty must be from 1 (off) to ${MAX_REPETITION_PENALTY} (got ${r.penalty}).`,
    );
  }
  const maxNgram = MAX_NO_REPEAT_NGRAM;
  if (!Number.isInteger(r.noRepeatNgram) || r.noRepeatNgram < 0 || r.noRepeatNgram > maxNgram) {
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `No-repeat n-gram size must be a whole number from 0 (off) to ${maxNgram} (got ${r.noRepeatNgram}).`,
    );
  }
}

/** whether the settings change anything */
export const repetitionActive = (r: RepetitionParams | null | undefined): r is RepetitionParams =>
  !!r && (r.penalty !== 1 || r.noRepeatNgram > 0);

/**
 * Process `row` in place: the logits predicting the token after `prefix` (and after `extra`, the
 * drafts before this row, which count as text).
 */
export function applyRepetition(
  row: Float32Array,
  r: RepetitionParams,
  prefix: readonly number[],
  extra: readonly number[] = [],
): void {
  const len = prefix.length + extra.length;
  const at = (i: number): number => (i < prefix.length ? prefix[i]! : extra[i - prefix.length]!);
  if (r.penalty !== 1) {
    const seen = new Set<number>();
    for (let i = 0; i < len; i++) seen.add(at(i));
    for (const t of seen) {
      const v = row[t]!;
      row[t] = v < 0 ? v * r.penalty : v / r.penalty;
    }
  }
  const n = r.noRepeatNgram;
  if (n > 0 && len + 1 >= n) {
    // ban every token that followed an earlier occurrence of the last n-1 tokens
    for (let s = 0; s + n - 1 < len; s++) {
      let match = true;
      for (let j = 0; j < n - 1 && match; j++) match = at(s + j) === at(len - n + 1 + j);
      if (match) row[at(s + n - 1)] = -Infinity;
    }
  }
}
