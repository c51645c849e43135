/**
 * Candidate generation, kept apart from verification (as in Hugging Face's candidate_generator):
 * a new way of drafting is a new Drafter (and a registry entry), not a branch in the loop.
 */
import type { SamplingParams } from '../../sampling';

export interface Draft {
  tokens: number[];
  /** the drafter's probability of each token, when asked for */
  probs: number[] | null;
  /** when sampling: the distribution each token was drawn from (absent: a certain proposal) */
  dists?: Float64Array[];
}

/** How a sampling drafter draws: the warp settings and the run's random source. */
export interface DraftSampler {
  params: SamplingParams;
  random: () => number;
}

/** What one step asks of the drafter besides the context and the most tokens to propose. */
export interface DraftRequest {
  /** report each token's probability under the drafter (Draft.probs) */
  withProbs?: boolean;
  /** sample the drafts (absent: greedy) */
  sampler?: DraftSampler;
  /**
   * The draft-length policy's say after each token, given the drafter's probability of it: true
   * ends the draft there. Only a drafter that has probabilities (DrafterTraits) is asked for it.
   */
  endsAfter?: (draftProb: number) => boolean;
}

/** What a drafter declares about itself, read before any run (the settings check) is made. */
export interface DrafterTraits {
  /** how messages name it */
  label: string;
  /** it has a probability for each token it proposes (a policy may read them) */
  hasProbabilities: boolean;
  /** it drafts with the pair's draft model */
  needsDraftModel: boolean;
  /** why it cannot run when the target samples (absent: it can) */
  greedyOnly?: string;
}

export interface Drafter {
  /** Propose up to k tokens to follow `context` (fewer if it drafts an end of text). */
  propose(context: readonly number[], k: number, request?: DraftRequest): Promise<Draft>;
  /** The first `keep` tokens of the context are final: forget any state past them. */
  rollback(keep: number): void;
}
