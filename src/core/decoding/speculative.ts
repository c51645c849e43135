/**
 * Greedy speculative decoding (Leviathan et al. 2023, greedy case): the drafter proposes K tokens,
 * one target pass scores the pending token and all drafts, the longest prefix the target agrees
 * with is accepted, and the target's own token follows (a correction at the first mismatch, a
 * bonus when every draft was accepted). Output is token-for-token the greedy baseline's.
 */
import type { EngineEvent } from '../../shared/events';
import { DEFAULT_DRAFTER, DEFAULT_POLICY } from '../../shared/decoding';
import { SpecDecError } from '../errors';
import { argmaxWithMargin } from '../model/argmax';
import type { Logits } from '../model/causalLm';
import type { ModelPair } from '../model/pair';
import { DecodeRun, MAX_K, type RunDetails, type RunOptions } from './decodeRun';
import {
  FixedDraftLength,
  HeuristicDraftLength,
  type DraftLengthPolicy,
  type DraftPolicyName,
} from './draftLength';
import {
  ModelDrafter,
  PromptLookupDrafter,
  type Draft,
  type Drafter,
  type DrafterKind,
} from './drafter';
import { applyRepetition } from './repetition';
import { residualSample, sample, warp, type SamplingParams } from './sampling';

export interface SpeculativeOptions extends RunOptions {
  /** how many tokens to draft per step (default fixed K; K is the cap of the others) */
  policy?: DraftPolicyName;
  /** the confidence policy's threshold on the draft's top probability */
  pMin?: number;
  drafter?: DrafterKind;
  /**
   * The draw after a rejection; only the statistical test replaces it (with a broken one, to
   * show that the test notices).
   */
  residual?: typeof residualSample;
}

export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) {
    throw new SpecDecError(
      'K_OUT_OF_RANGE',
      `K (draft length) must be a whole number from 1 to ${MAX_K} (got ${k}).`,
    );
  }
}

export class SpeculativeRun extends DecodeRun {
  private readonly drafter: Drafter;
  private readonly lengths: DraftLengthPolicy;
  private readonly gap = new Float64Array(1);
  private readonly policyName: DraftPolicyName;
  private readonly drafterKind: DrafterKind;
  private readonly kPerStep: number[] = [];
  private readonly draftedAt: number[] = [];
  private readonly acceptedAt: number[] = [];
  private readonly residual: typeof residualSample;

  constructor(pair: ModelPair, k: number, options: SpeculativeOptions, drafter?: Drafter) {
    checkK(k);
    const policy = options.policy ?? DEFAULT_POLICY;
    const kind = options.drafter ?? DEFAULT_DRAFTER;
    const pMin = options.pMin ?? 0.5;
    if (policy === 'confidence' && !(pMin > 0 && pMin < 1)) {
      throw new SpecDecError('BAD_ARGUMENT', `P-min must be between 0 and 1 (got ${pMin}).`, [
        'pMin',
      ]);
    }
    if (!drafter && kind === 'model' && !pair.draft) {
      throw new SpecDecError('BAD_ARGUMENT', 'Speculative decoding needs a draft model.');
    }
    super(pair, 'speculative', k, options);
    this.policyName = policy;
    this.residual = options.residual ?? residualSample;
    this.drafterKind = kind;
    this.lengths = policy === 'heuristic' ? new HeuristicDraftLength(k) : new FixedDraftLength(k);
    this.drafter =
      drafter ??
      (kind === 'prompt-lookup'
        ? new PromptLookupDrafter()
        : new ModelDrafter(
            pair.draft!.lm,
            pair.eosTokenId,
            policy === 'confidence' ? pMin : null,
            this.repetition,
          ));
  }

  protected override details(): RunDetails {
    return {
      policy: this.policyName,
      drafter: this.drafterKind,
      kPerStep: [...this.kPerStep],
      acceptanceByPosition: this.draftedAt.map((d, i) => (this.acceptedAt[i] ?? 0) / d),
    };
  }

  protected async runStep(out: EngineEvent[]): Promise<void> {
    const { runId, step, context } = this;
    const target = this.pair.target.lm;
    const len = context.length;
    // Never draft past max new tokens (the target adds one token after the drafts) or past the
    // context (the last draft sits at position len + k - 1 and the target's token after it).
    const k = Math.min(this.lengths.next(), this.remaining - 1, this.pair.nPositions - len - 1);
    const withProbs = this.reportProbabilities;
    const sampler = this.sampling ? { params: this.sampling, random: this.random } : undefined;
    const draft: Draft =
      k > 0
        ? await this.drafter.propose(context, k, withProbs, sampler)
        : { tokens: [], probs: null };
    const drafted = draft.tokens;
    drafted.forEach((tokenId, index) =>
      out.push({
        type: 'draft',
        runId,
        step,
        index,
        position: len + index,
        tokenId,
        text: this.pair.tokenizer.tokenText(tokenId),
        draftProb: draft.probs?.[index] ?? null,
      }),
    );

    // One target pass over everything it has not seen (at least the pending token) + the drafts.
    const fed = context.slice(target.length);
    const input = drafted.length > 0 ? fed.concat(drafted) : fed;
    const base = input.length - drafted.length - 1; // row predicting the token at position len
    // Greedy verification needs each row's argmax and the draft token's probability there: on a
    // device-resident target that is all the pass reads back (sampling and repetition need rows).
    // (the picks matter only there: elsewhere the rows come back and nothing is built per step)
    const greedy =
      this.sampling || this.repetition
        ? undefined
        : target.kvLocation === 'device'
          ? { pick: input.map((_, row) => (row < base ? -1 : (drafted[row - base] ?? -1))) }
          : {};
    const logits = await target.forward(input, greedy);
    // each row under the repetition controls of its own prefix (the drafts before it count)
    if (this.repetition) {
      for (let i = 0; i <= drafted.length; i++)
        applyRepetition(logits.row(base + i), this.repetition, context, drafted.slice(0, i));
    }
    const { accepted, targetTokenIds, targetProbs, finalProb, margin, draws } = this.sampling
      ? this.verifySampled(logits, base, draft, this.sampling)
      : this.verifyGreedy(logits, base, drafted);

    this.lengths.observe(drafted.length, accepted);
    this.kPerStep.push(drafted.length);
    for (let i = 0; i < drafted.length; i++) {
      this.draftedAt[i] = (this.draftedAt[i] ?? 0) + 1;
      if (i < accepted) this.acceptedAt[i] = (this.acceptedAt[i] ?? 0) + 1;
    }
    if (drafted.length > 0) {
      this.m.verificationSteps++;
      this.m.draftedTokens += drafted.length;
      this.m.acceptedTokens += accepted;
      out.push({
        type: 'verify',
        runId,
        step,
        draftedTokenIds: [...drafted],
        verdicts: drafted.map((_, i) =>
          i < accepted ? 'accepted' : i === accepted ? 'rejected' : 'unchecked',
        ),
        targetTokenIds,
        targetProbs,
        minLogitMargin: margin,
        ...(draws ? { draws } : {}),
      });
    }

    let going = true;
    for (let i = 0; i < accepted && going; i++) {
      going = this.emit(
        out,
        drafted[i]!,
        'accepted',
        draft.probs?.[i] ?? null,
        targetProbs?.[i] ?? null,
      );
    }
    if (going) {
      const token = targetTokenIds[accepted]!;
      const kind =
        drafted.length === 0 ? 'target' : accepted < drafted.length ? 'correction' : 'bonus';
      if (kind === 'correction') this.m.corrections++;
      else if (kind === 'bonus') this.m.bonuses++;
      else this.m.targetOnlyTokens++;
      this.emit(out, token, kind, null, finalProb);
    }

    // Both caches keep only what is now final: the context minus its last (pending) token.
    const keep = context.length - 1;
    if (target.length > keep) target.crop(keep);
    this.drafter.rollback(keep);
  }

  /** Greedy: accept while the target's argmax equals the draft; then the target's argmax. */
  private verifyGreedy(logits: Logits, base: number, drafted: readonly number[]): Verdict {
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
    const withProbs = this.reportProbabilities;
    const targetProbs = withProbs ? drafted.map((t, i) => logits.prob(base + i, t)) : null;
    const final = targetTokenIds[accepted]!;
    const finalProb = withProbs ? logits.prob(base + accepted, final) : null;
    return { accepted, targetTokenIds, targetProbs, finalProb, margin };
  }

  /**
   * Sampling: modified rejection sampling (see sampling.ts). A drafter without distributions
   * (prompt lookup) proposed its tokens with certainty: q is one-hot on the proposal.
   */
  private verifySampled(logits: Logits, base: number, draft: Draft, s: SamplingParams): Verdict {
    const drafted = draft.tokens;
    const targetTokenIds: number[] = [];
    const targetProbs: number[] = [];
    const draws: number[] = [];
    let margin = Infinity;
    for (let i = 0; i <= drafted.length; i++) {
      const row = logits.row(base + i);
      argmaxWithMargin(row, this.gap);
      margin = Math.min(margin, this.gap[0]!);
      const p = warp(row, s);
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

interface Verdict {
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

function oneHot(token: number, size: number): Float64Array {
  const q = new Float64Array(size);
  q[token] = 1;
  return q;
}
