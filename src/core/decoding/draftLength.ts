/**
 * How many tokens to draft at each step, as separate strategies (the decoding loop only asks
 * `next()` and reports `observe()`).
 */
import { MAX_K } from '../../shared/protocol';

import type { DraftPolicyName } from '../../shared/decoding';
export type { DraftPolicyName };

export interface DraftLengthPolicy {
  /** the most tokens to draft at the next step */
  next(): number;
  /** what the last step drafted and how many of those the target accepted */
  observe(drafted: number, accepted: number): void;
}

/** Always K (the exercise's setting; also the cap of the confidence policy). */
export class FixedDraftLength implements DraftLengthPolicy {
  constructor(private readonly k: number) {}
  next(): number {
    return this.k;
  }
  observe(): void {}
}

/**
 * Hugging Face's "heuristic" schedule: start at K, add 2 after a step whose drafts were all
 * accepted, subtract 1 (not below 1) otherwise.
 */
export class HeuristicDraftLength implements DraftLengthPolicy {
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
