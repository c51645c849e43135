/**
 * Hugging Face's "heuristic" schedule: start at K, add 2 after a step whose drafts were all
 * accepted, subtract 1 (not below 1) otherwise.
 */
import { MAX_K } from '../../../../shared/limits';
import type { DraftLengthPolicy, PolicyTraits } from './policy';

export class HeuristicDraftLength implements DraftLengthPolicy {
  static readonly traits: PolicyTraits = { readsDraftProbabilities: null };
  private k: number;
  constructor(start: number) {
    this.k = start;
  }
  next(): number {
    return this.k;
  }
  observe(drafted: number, accepted: number): void {
    if (drafted === 0) return;
    this.k = accepted === drafted ? Math.min(MAX_K, this.k + 2) : Math.max(1, this.k - 1);
  }
}
