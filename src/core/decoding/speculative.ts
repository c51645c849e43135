/**
 * Greedy speculative decoding (Leviathan et al. 2023, greedy case): the drafter proposes K tokens,
 * one target pass scores the pending token and all drafts, the longest prefix the target agrees
 * with is accepted, and the target's own token follows (a correction at the first mismatch, a
 * bonus when every draft was accepted). Output is token-for-token the greedy baseline's.
 */
import type { EngineEvent } from '../../shared/events';
import { SpecDecError } from '../errors';
import { argmaxWithMargin, probOf } from '../model/argmax';
import type { ModelPair } from '../model/pair';
import { DecodeRun, MAX_K, type RunDetails, type RunOptions } from './decodeRun';
import {
  FixedDraftLength,
  HeuristicDraftLength,
  type DraftLengthPolicy,
  type DraftPolicyName,
} from './draftLength';
import { ModelDrafter, PromptLookupDrafter, type Drafter, type DrafterKind } from './drafter';

export interface SpeculativeOptions extends RunOptions {
  /** how many tokens to draft per step (default fixed K; K is the cap of the others) */
  policy?: DraftPolicyName;
  /** the confidence policy's threshold on the draft's top probability */
  pMin?: number;
  drafter?: DrafterKind;
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

  constructor(pair: ModelPair, k: number, options: SpeculativeOptions, drafter?: Drafter) {
    checkK(k);
    const policy = options.policy ?? 'fixed';
    const kind = options.drafter ?? 'model';
    const pMin = options.pMin ?? 0.5;
    if (policy === 'confidence' && !(pMin > 0 && pMin < 1)) {
      throw new SpecDecError('BAD_ARGUMENT', `--p-min must be between 0 and 1 (got ${pMin}).`);
    }
    if (!drafter && kind === 'model' && !pair.draft) {
      throw new SpecDecError('BAD_ARGUMENT', 'Speculative decoding needs a draft model.');
    }
    super(pair, 'speculative', k, options);
    this.policyName = policy;
    this.drafterKind = kind;
    this.lengths = policy === 'heuristic' ? new HeuristicDraftLength(k) : new FixedDraftLength(k);
    this.drafter =
      drafter ??
      (kind === 'prompt-lookup'
        ? new PromptLookupDrafter()
        : new ModelDrafter(pair.draft!.lm, pair.eosTokenId, policy === 'confidence' ? pMin : null));
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
    const draft =
      k > 0 ? await this.drafter.propose(context, k, withProbs) : { tokens: [], probs: null };
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
    const logits = await target.forward(drafted.length > 0 ? fed.concat(drafted) : fed);
    const base = logits.rows - drafted.length - 1; // row predicting the token at position len
    let accepted = 0;
    let margin = Infinity;
    const targetTokenIds: number[] = [];
    for (let i = 0; i <= drafted.length; i++) {
      const choice = argmaxWithMargin(logits.row(base + i), this.gap);
      targetTokenIds.push(choice);
      margin = Math.min(margin, this.gap[0]!);
      if (i === drafted.length || choice !== drafted[i]) break;
      accepted++;
    }
    const targetProbs = withProbs
      ? drafted.map((tokenId, i) => probOf(logits.row(base + i), tokenId))
      : null;

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
      const row = logits.row(base + accepted);
      this.emit(out, token, kind, null, withProbs ? probOf(row, token) : null);
    }

    // Both caches keep only what is now final: the context minus its last (pending) token.
    const keep = context.length - 1;
    if (target.length > keep) target.crop(keep);
    this.drafter.rollback(keep);
  }
}
