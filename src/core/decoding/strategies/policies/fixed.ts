/** The exercise's setting: draft K tokens at every step. */
import type { DraftLengthPolicy, PolicyTraits } from './policy';

export class FixedDraftLength implements DraftLengthPolicy {
  static readonly traits: PolicyTraits = { readsDraftProbabilities: null };
  constructor(private readonly k: number) {}
  next(): number {
    return this.k;
  }
  observe(): void {}
}
