/**
 * Greedy verification (Leviathan et al. 2023, greedy case): accept while the target's argmax
 * equals the draft, then the target's argmax. The output is token-for-token the greedy baseline's.
 */
import type { KvLocation } from '../../../../shared/decoding';
import type { GreedyRead, Logits } from '../../../model/causalLm';
import type { Draft } from '../drafters/drafter';
import type { Verdict, Verifier } from './verifier';

export class GreedyVerifier implements Verifier {
  private readonly gap = new Float64Array(1);

  /** `withProbs`: report the target's probability of each checked token */
  constructor(private readonly withProbs: boolean) {}

  /** each row's argmax, and on the device the draft's probability in its row, is all it reads */
  readout(
    input: readonly number[],
    base: number,
    drafted: readonly number[],
    kvLocation: KvLocation,
  ): GreedyRead {
    return kvLocation === 'device'
      ? { pick: input.map((_, row) => (row < base ? -1 : (drafted[row - base] ?? -1))) }
      : {};
  }

  verify(logits: Logits, base: number, draft: Draft): Verdict {
    const drafted = draft.tokens;
    let accepted = 0;
    let margin = Infinity;
    const targetTokenIds: number[] = [];
    for (let i = 0; i <= drafted.length; i++) {
      const choice = logits.argmax(base + i, this.gap);
      targetTokenIds.push(choice);
      margin = Math.min(margin, this.gap[0]!);
      if (i === drafted.length || choice !== drafted[i]) break;
      accepted++;
    }
    const withProbs = this.withProbs;
    const targetProbs = withProbs ? drafted.map((t, i) => logits.prob(base + i, t)) : null;
    const final = targetTokenIds[accepted]!;
    const finalProb = withProbs ? logits.prob(base + accepted, final) : null;
    return { accepted, targetTokenIds, targetProbs, finalProb, margin };
  }
}
