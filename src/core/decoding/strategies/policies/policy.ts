/**
 * How many tokens to draft at each step: the loop asks `next()` before drafting, passes
 * `endsAfter` to the drafter, and reports each verdict to `observe()`.
 */
export interface DraftLengthPolicy {
  /** the most tokens to draft at the next step */
  next(): number;
  /**
   * Whether the draft ends after a token the drafter gave probability `draftProb` (absent: the
   * draft runs to `next()`). A policy with it needs a drafter that has probabilities.
   */
  readonly endsAfter?: (draftProb: number) => boolean;
  /** what the last step drafted and how many of those the target accepted */
  observe(drafted: number, accepted: number): void;
}

/** What a policy declares about itself, read before any run (the settings check) is made. */
export interface PolicyTraits {
  /**
   * What it reads the drafter's probabilities for, in words ("stops drafting on ..."); null
   * when it reads none. A policy that reads them runs only with a drafter that has them.
   */
  readsDraftProbabilities: string | null;
}
