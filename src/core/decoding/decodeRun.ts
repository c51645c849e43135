/**
 * What every decoding run shares: the token context, the stop rules, the metrics and the event
 * stream. A run advances one step per `nextStep()` call, so a consumer can stream it to the end
 * (`events()`, `runToEnd()`) or pull exactly one step at a time (the app's step-through).
 */
import { randomUUID } from 'node:crypto';
import type {
  DecodeMode,
  DraftModelAgreement,
  EmitKind,
  EngineEvent,
  RunEndEvent,
  RunMetrics,
  StopReason,
  TimeSplit,
} from '../../shared/events';
import { SpecDecError } from '../errors';
import type { ModelPair } from '../model/pair';
import type { DraftPolicyName, DrafterKind } from '../../shared/decoding';
import type { RunTree } from '../../shared/history';
import { checkSampling, seededRandom, type SamplingParams } from './sampling';
import { checkRepetition, repetitionActive, type RepetitionParams } from './repetition';
import { RunStats } from './runStats';

export interface RunOptions {
  prompt: string;
  maxNewTokens: number;
  /** compute draft/target probabilities for the events (costs a softmax per row) */
  reportProbabilities?: boolean;
  signal?: AbortSignal;
  runId?: string;
  /** sample instead of greedy decoding (temperature, top-k, top-p, seed) */
  sampling?: SamplingParams;
  /** repetition penalty and no-repeat n-gram, on the target's and the draft's scores alike */
  repetition?: RepetitionParams;
}

/** What only some runs have: how drafting went (empty for baselines). */
export interface RunDetails {
  policy: DraftPolicyName | null;
  drafter: DrafterKind | null;
  /** tokens drafted at each step */
  kPerStep: number[];
  /** share of steps whose i-th drafted token was accepted, for i = 0, 1, ... */
  acceptanceByPosition: number[];
  /** A when the oracle drafted (controlled acceptance); null for real drafting and baselines */
  acceptanceTarget: number | null;
  /** the oracle's count of the draft model's own agreement (the pair's alpha); null otherwise */
  draftModelAgreement?: DraftModelAgreement | null;
  /** verification steps by accepted count (index 0..K); empty for baselines */
  acceptedPerStepHistogram: number[];
  /** drafts the target's verdict decided (accepted or rejected), out of those drafted */
  draftTokensTested: number;
  /** token-tree runs only: the shape, how it was verified, the nodes at each step */
  tree?: RunTree;
}

export interface RunResult extends RunDetails {
  runId: string;
  mode: DecodeMode;
  k: number | null;
  metrics: RunMetrics;
  /** vLLM's mean acceptance length: 1 + accepted / verification steps; null without any step */
  meanAcceptanceLength: number | null;
  /** the run's time as draft passes, target passes and the rest */
  timeSplit: TimeSplit;
  stopReason: StopReason;
  outputTokenIds: number[];
  outputText: string;
}

export abstract class DecodeRun {
  readonly runId: string;
  readonly promptTokenIds: number[];
  protected readonly context: number[];
  protected readonly reportProbabilities: boolean;
  protected readonly sampling: SamplingParams | null;
  /** null when off (or set to values that change nothing) */
  protected readonly repetition: RepetitionParams | null;
  /** the run's seeded random source (sampling only) */
  protected readonly random: () => number;
  protected step = 0;
  /** the counts, observed from the events each step emits (never counted inside a step) */
  protected readonly stats = new RunStats();
  private elapsedMs = 0;
  private started = false;
  private stopReason: StopReason | null = null;
  private end: RunEndEvent | null = null;

  protected constructor(
    protected readonly pair: ModelPair,
    readonly mode: DecodeMode,
    readonly k: number | null,
    protected readonly options: RunOptions,
  ) {
    if (options.prompt.trim() === '') {
      throw new SpecDecError('PROMPT_EMPTY', 'The prompt is empty. Type a prompt to continue.');
    }
    checkMaxNewTokens(options.maxNewTokens);
    this.promptTokenIds = pair.tokenizer.encode(options.prompt);
    if (this.promptTokenIds.length >= pair.nPositions) {
      throw new SpecDecError(
        'PROMPT_TOO_LONG',
        `The prompt is ${this.promptTokenIds.length} tokens but the models hold ${pair.nPositions} in all. Shorten the prompt so that new tokens fit.`,
      );
    }
    this.context = [...this.promptTokenIds];
    this.runId = options.runId ?? randomUUID();
    this.reportProbabilities = options.reportProbabilities ?? false;
    this.sampling = options.sampling ?? null;
    if (this.sampling) checkSampling(this.sampling);
    if (options.repetition) checkRepetition(options.repetition);
    this.repetition = repetitionActive(options.repetition) ? options.repetition : null;
    this.random = seededRandom(this.sampling?.seed ?? 0);
    pair.target.lm.reset();
    pair.target.lm.resetCounters();
    pair.draft?.lm.reset();
    pair.draft?.lm.resetCounters();
  }

  protected details(): RunDetails {
    return {
      policy: null,
      drafter: null,
      kPerStep: [],
      acceptanceByPosition: [],
      acceptanceTarget: null,
      draftModelAgreement: null,
      acceptedPerStepHistogram: [],
      draftTokensTested: 0,
    };
  }

  /** Emit the events of one step into `out`; `nextStep` handles stops and metrics around it. */
  protected abstract runStep(out: EngineEvent[]): Promise<void>;

  get done(): boolean {
    return this.end !== null;
  }

  /** The events of the next step (the first call includes run-start); null after run-end. */
  async nextStep(): Promise<EngineEvent[] | null> {
    if (this.end) return null;
    const out: EngineEvent[] = [];
    const t0 = performance.now();
    if (!this.started) {
      this.started = true;
      out.push({
        type: 'run-start',
        runId: this.runId,
        mode: this.mode,
        k: this.k,
        maxNewTokens: this.options.maxNewTokens,
        models: {
          target: this.pair.target.folder.name,
          draft: this.pair.draft?.folder.name ?? null,
        },
        promptTokenIds: [...this.promptTokenIds],
        promptText: this.options.prompt,
        // what the models read, where the chat template wrapped the typed prompt in a turn
        ...(this.pair.chatTemplate === 'applied' && {
          // decoded whole: a character split over byte-level tokens would print as U+FFFD token by token
          renderedPrompt: this.pair.tokenizer.decode(this.promptTokenIds, true),
        }),
      });
    }
    // Stops are checked before a step (a cancel, or a run that cannot start) and right after
    // it, so that the step that makes the last token also carries run-end.
    this.stopReason ??= this.checkStop();
    if (!this.stopReason) {
      this.step++;
      const first = out.length;
      await this.runStep(out);
      for (let i = first; i < out.length; i++) this.stats.observe(out[i]!);
      const stepEnd: EngineEvent = {
        type: 'step-end',
        runId: this.runId,
        step: this.step,
        metrics: this.metrics(),
      };
      this.stats.observe(stepEnd);
      out.push(stepEnd);
      this.stopReason ??= this.checkStop();
    }
    this.elapsedMs += performance.now() - t0;
    if (this.stopReason) {
      this.end = this.endEvent();
      out.push(this.end);
    }
    return out;
  }

  async *events(): AsyncGenerator<EngineEvent> {
    for (let evs = await this.nextStep(); evs; evs = await this.nextStep()) yield* evs;
  }

  /** Run the remaining steps (if any) and return the result. */
  async runToEnd(): Promise<RunResult> {
    while (await this.nextStep());
    const end = this.end!;
    const m = end.metrics;
    return {
      ...this.details(),
      runId: this.runId,
      mode: this.mode,
      k: this.k,
      metrics: m,
      meanAcceptanceLength:
        m.verificationSteps > 0 ? 1 + m.acceptedTokens / m.verificationSteps : null,
      timeSplit: this.timeSplit(m.timeS),
      stopReason: end.stopReason,
      outputTokenIds: end.outputTokenIds,
      outputText: end.outputText,
    };
  }

  metrics(): RunMetrics {
    const targetPasses = this.pair.target.lm.passes;
    const m = this.stats.counts();
    return {
      ...m,
      targetPasses,
      draftPasses: this.pair.draft?.lm.passes ?? 0,
      acceptanceRate: m.draftedTokens > 0 ? m.acceptedTokens / m.draftedTokens : null,
      tokensPerTargetPass: targetPasses > 0 ? m.newTokens / targetPasses : null,
      timeS: this.elapsedMs / 1000,
      targetRunS: this.pair.target.lm.runMs / 1000,
      draftRunS: (this.pair.draft?.lm.runMs ?? 0) / 1000,
      queuedS: (this.pair.target.lm.queuedMs + (this.pair.draft?.lm.queuedMs ?? 0)) / 1000,
    };
  }

  /**
   * The run's time split: each model's whole passes (passTiming.ts `passMs`), and what is left of
   * the run's wall clock (crops, verification, sampling, events, the event loop's wait).
   */
  private timeSplit(timeS: number): TimeSplit {
    const targetS = this.pair.target.lm.passMs / 1000;
    const draftS = (this.pair.draft?.lm.passMs ?? 0) / 1000;
    // the passes are timed inside the run's clock: only float rounding could take the rest below 0
    return { draftS, targetS, otherS: Math.max(0, timeS - draftS - targetS) };
  }

  /** new tokens still allowed */
  protected get remaining(): number {
    return this.options.maxNewTokens - this.stats.newTokens;
  }

  /** Append one token and its emit event; returns false when the run must stop after it. */
  protected emit(
    out: EngineEvent[],
    tokenId: number,
    kind: EmitKind,
    draftProb: number | null,
    targetProb: number | null,
  ): boolean {
    out.push({
      type: 'emit',
      runId: this.runId,
      step: this.step,
      position: this.context.length,
      tokenId,
      text: this.pair.tokenizer.tokenText(tokenId),
      kind,
      draftProb,
      targetProb,
    });
    this.context.push(tokenId);
    if (this.pair.eosTokenIds.includes(tokenId)) {
      this.stopReason = 'eos';
      return false;
    }
    return true;
  }

  private checkStop(): StopReason | null {
    if (this.options.signal?.aborted) return 'cancelled';
    if (this.remaining <= 0) return 'max-new-tokens';
    if (this.context.length >= this.pair.nPositions) return 'context-limit';
    return null;
  }

  /** the run's host<->device bytes per pass (computed once, at the end: medians sort) */
  private transfer(): RunMetrics['transfer'] {
    const target = this.pair.target.lm.transfer();
    return target && { ...target, draft: this.pair.draft?.lm.transfer() ?? null };
  }

  private endEvent(): RunEndEvent {
    const outputTokenIds = this.context.slice(this.promptTokenIds.length);
    return {
      type: 'run-end',
      runId: this.runId,
      metrics: { ...this.metrics(), transfer: this.transfer() },
      stopReason: this.stopReason ?? 'max-new-tokens',
      outputTokenIds,
      outputText: this.pair.tokenizer.decode(outputTokenIds),
    };
  }
}

/** The one check of max new tokens that needs no model (a run's and a sweep's settings). */
export function checkMaxNewTokens(maxNewTokens: number): void {
  if (!Number.isInteger(maxNewTokens) || maxNewTokens < 1) {
    throw new SpecDecError(
      'MAX_NEW_TOKENS_INVALID',
      `Max new tokens must be a whole number of at least 1 (got ${maxNewTokens}).`,
    );
  }
}
