/**
 * Speculative decoding (Leviathan et al. 2023): the drafter proposes up to K tokens, one target
 * pass scores the pending token and all drafts, the verifier keeps the drafts that stand (greedy:
 * the longest prefix the target agrees with; sampled: modified rejection sampling), and the
 * target's own token follows (a correction at the first rejection, a bonus when every draft
 * stood). The output is the baseline's: token for token when greedy, in distribution when
 * sampled. Which drafter, policy and verifier run comes from strategies/factory.ts.
 */
import type { EngineEvent } from '../../shared/events';
import type { ModelPair } from '../model/pair';
import { DecodeRun, type RunDetails, type RunOptions } from './decodeRun';
import { applyRepetition } from './repetition';
import type { Draft } from './strategies/drafters/drafter';
import {
  buildStrategy,
  planStrategy,
  type SpeculationStrategy,
  type StrategySettings,
} from './strategies/factory';

export interface SpeculativeOptions extends RunOptions, StrategySettings {}

export class SpeculativeRun extends DecodeRun {
  private readonly strategy: SpeculationStrategy;

  constructor(pair: ModelPair, k: number, options: SpeculativeOptions) {
    // the choices are checked before the run's own settings, and before it touches the models
    const plan = planStrategy(pair, k, options);
    super(pair, 'speculative', k, options);
    this.strategy = buildStrategy(plan, pair, {
      reportProbabilities: this.reportProbabilities,
      sampling: this.sampling,
      repetition: this.repetition,
      random: this.random,
      promptTokenIds: this.promptTokenIds,
    });
  }

  protected override details(): RunDetails {
    return {
      policy: this.strategy.policyName,
      drafter: this.strategy.drafterKind,
      kPerStep: this.stats.kPerStep(),
      acceptanceByPosition: this.stats.acceptanceByPosition(),
      acceptanceTarget: this.strategy.acceptanceTarget,
      draftModelAgreement: this.strategy.draftModelAgreement?.() ?? null,
      acceptedPerStepHistogram: this.stats.acceptedPerStepHistogram(this.k ?? 0),
      draftTokensTested: this.stats.draftTokensTested(),
    };
  }

  protected async runStep(out: EngineEvent[]): Promise<void> {
    const { runId, step, context } = this;
    const { drafter, lengths, verifier } = this.strategy;
    const target = this.pair.target.lm;
    const len = context.length;
    // Never draft past max new tokens (the target adds one token after the drafts) or past the
    // context (the last draft sits at position len + k - 1 and the target's token after it).
    const k = Math.min(lengths.next(), this.remaining - 1, this.pair.nPositions - len - 1);
    const draft: Draft =
      k > 0
        ? await drafter.propose(context, k, {
            withProbs: this.reportProbabilities,
            ...(this.sampling ? { sampler: { params: this.sampling, random: this.random } } : {}),
            ...(lengths.endsAfter ? { endsAfter: lengths.endsAfter } : {}),
          })
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
    // Repetition controls need the rows; otherwise the verifier says what the pass reads back
    // (greedy on a device-resident target: each row's argmax and the draft's probability).
    const readout = this.repetition
      ? undefined
      : verifier.readout(input, base, drafted, target.kvLocation);
    const logits = await target.forward(input, readout);
    // each row under the repetition controls of its own prefix (the drafts before it count)
    if (this.repetition) {
      for (let i = 0; i <= drafted.length; i++)
        applyRepetition(logits.row(base + i), this.repetition, context, drafted.slice(0, i));
    }
    const { accepted, targetTokenIds, targetProbs, finalProb, margin, draws } = verifier.verify(
      logits,
      base,
      draft,
    );
    lengths.observe(drafted.length, accepted);

    if (drafted.length > 0) {
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
      const kind =
        drafted.length === 0 ? 'target' : accepted < drafted.length ? 'correction' : 'bonus';
      this.emit(out, targetTokenIds[accepted]!, kind, null, finalProb);
    }

    // Both caches keep only what is now final: the context minus its last (pending) token.
    const keep = context.length - 1;
    if (target.length > keep) target.crop(keep);
    drafter.rollback(keep);
  }
}
