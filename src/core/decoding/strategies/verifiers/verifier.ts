/**
 * Verification, kept apart from drafting: one target pass scores the pending token and every
 * draft, and a verifier decides how many drafts stand and which target token follows them.
 */
import type { KvLocation } from '../../../../shared/decoding';
import type { GreedyRead, Logits } from '../../../model/causalLm';
import type { Draft } from '../drafters/drafter';

export interface Verdict {
  accepted: number;
  /** the target's token at each checked position: accepted drafts, then the final token */
  targetTokenIds: number[];
  targetProbs: number[] | null;
  /** the target's probability of the final (correction, bonus or target-only) token */
  finalProb: number | null;
  /** smallest top-two logit gap among the checked rows */
  margin: number;
  /** sampling: the uniform draw each checked draft's acceptance test used */
  draws?: number[];
}

export interface Verifier {
  /**
   * What the target pass must read back for this verifier when nothing else needs the rows:
   * undefined for whole rows, or a GreedyRead (each row's argmax, and on a device-resident
   * target the draft token's probability in its row).
   */
  readout(
    input: readonly number[],
    base: number,
    drafted: readonly number[],
    kvLocation: KvLocation,
  ): GreedyRead | undefined;
  /** `base`: the row that predicts the first draft's position (the context's next token) */
  verify(logits: Logits, base: number, draft: Draft): Verdict;
}
