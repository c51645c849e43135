/**
 * Sampled verification: modified rejection sampling (see sampling.ts). Each draft x stands with
 * probability min(1, p(x) / q(x)); the first rejected one is replaced by a draw from the residual;
 * when every draft stands the bonus is drawn from p. A drafter without distributions (prompt
 * lookup) proposed its tokens with certainty: q is one-hot on the proposal.
 */
import { argmaxWithMargin } from '../../../model/argmax';
import type { Logits } from '../../../model/causalLm';
import { residualSample, sample, warp, type SamplingParams } from '../../sampling';
import type { Draft } from '../drafters/drafter';
import type { Verdict, Verifier } from './verifier';

export class RejectionSamplingVerifier implements Verifier {
  private readonly gap = new Float64Array(1);

  constructor(
    private readonly params: SamplingParams,
    /** the run's seeded random source (shared with a sampling drafter) */
    private readonly random: () => number,
    /** the draw after a rejection; only the statistical test replaces it */
    private readonly residual: typeof residualSample = residualSample,
  ) {}

  /** the warp needs whole rows */
  readout(): undefined {
    return undefined;
  }

  verify(logits: Logits, base: number, draft: Draft): Verdict {
    const drafted = draft.tokens;
    const targetTokenIds: number[] = [];
    const targetProbs: number[] = [];
    const draws: number[] = [];
    let margin = Infinity;
    for (let i = 0; i <= drafted.length; i++) {
      const row = logits.row(base + i);
      argmaxWithMargin(row, this.gap);
      margin = Math.min(margin, this.gap[0]!);
      const p = warp(row, this.params);
      if (i === drafted.length) {
        const bonus = sample(p, this.random);
        targetTokenIds.push(bonus);
        return { accepted: i, targetTokenIds, targetProbs, finalProb: p[bonus]!, margin, draws };
      }
      const x = drafted[i]!;
      const q = draft.dists?.[i] ?? oneHot(x, p.length);
      targetProbs.push(p[x]!);
      const u = this.random();
      draws.push(u);
      if (u < Math.min(1, p[x]! / q[x]!)) {
        targetTokenIds.push(x);
        continue;
      }
      const correction = this.residual(p, q, this.random);
      targetTokenIds.push(correction);
      return {
        accepted: i,
        targetTokenIds,
        targetProbs,
        finalProb: p[correction]!,
        margin,
        draws,
      };
    }
    throw new Error('unreachable');
  }
}

function oneHot(token: number, size: number): Float64Array {
  const q = new Float64Array(size);
  q[token] = 1;
  return q;
}
