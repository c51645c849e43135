/**
 * Hugging Face's assistant confidence threshold: draft up to K tokens, but end the draft at the
 * first token whose probability under the drafter falls below p-min (tokens after a doubtful one
 * are unlikely to be accepted). It reads the drafter's probabilities, so it needs a drafter that
 * has them.
 */
import { SpecDecError } from '../../../errors';
import type { DraftLengthPolicy, PolicyTraits } from './policy';

export function checkPMin(pMin: number): void {
  if (!(pMin > 0 && pMin < 1)) {
    throw new SpecDecError('BAD_ARGUMENT', `P-min must be between 0 and 1 (got ${pMin}).`, [
      'pMin',
    ]);
  }
}

export class ConfidenceDraftLength implements DraftLengthPolicy {
  static readonly traits: PolicyTraits = {
    readsDraftProbabilities: 'stops drafting on the draft model’s probability',
  };
  readonly endsAfter: (draftProb: number) => boolean;

  constructor(
    private readonly k: number,
    pMin: number,
  ) {
    checkPMin(pMin);
    this.endsAfter = (draftProb) => draftProb < pMin;
  }
  next(): number {
    return this.k;
  }
  observe(): void {}
}
