/**
 * The exercise's experiment: a greedy baseline, then speculative decoding for each K, repeated,
 * every run timed and counted and compared with the baseline of its repeat.
 */
import type { EngineEvent } from '../../shared/events';
import { BaselineRun } from '../decoding/baseline';
import type { DecodeRun, RunResult } from '../decoding/decodeRun';
import type { DraftPolicyName } from '../decoding/draftLength';
import type { DrafterKind } from '../decoding/drafter';
import { checkSampling, type SamplingParams } from '../decoding/sampling';
import { SpeculativeRun, checkK } from '../decoding/speculative';
import { SpecDecError } from '../errors';
import type { ModelPair } from '../model/pair';
import { spread, type Spread } from '../../shared/stats';

export const SEED_PROMPT = 'Artificial intelligence is rapidly transforming our world by';
export const DEFAULT_KS = [1, 2, 3, 4, 5, 8];

export interface SweepConfig {
  prompt: string;
  maxNewTokens: number;
  ks: number[];
  repeats: number;
  /** runs before measuring, not counted */
  warmup: number;
  /** also run the baseline without a KV cache (re-running the whole sequence each step) */
  noKvCache: boolean;
  reportProbabilities?: boolean;
  /** draft length policy, its threshold, and the drafter (see SpeculativeOptions) */
  policy?: DraftPolicyName;
  pMin?: number;
  drafter?: DrafterKind;
  /** sample (same seed for every run) instead of greedy decoding */
  sampling?: SamplingParams;
}

export interface SweepRun extends RunResult {
  repeat: number;
  /** baseline time of the same repeat / this run's time */
  speedup: number | null;
  /** output token ids equal the baseline's of the same repeat */
  identical: boolean;
}

export interface SweepHooks {
  onRunStart?(info: {
    mode: RunResult['mode'];
    k: number | null;
    repeat: number;
    index: number;
    total: number;
  }): void;
  /** may return a promise: the sweep waits for it (the engine host yields to its event loop) */
  onEvent?(event: EngineEvent): void | Promise<void>;
  onRunEnd?(run: SweepRun): void;
}

export interface SweepResult {
  runs: SweepRun[];
  /** true when a cancel stopped the sweep early (finished runs are kept) */
  cancelled: boolean;
}

/** Validate what a user typed before any model work starts. */
export function checkSweepConfig(config: SweepConfig, pair: ModelPair): void {
  if (config.prompt.trim() === '') {
    throw new SpecDecError('PROMPT_EMPTY', 'The prompt is empty. Give a prompt with --prompt.');
  }
  if (config.ks.length === 0) throw new SpecDecError('K_OUT_OF_RANGE', 'Give at least one K.');
  config.ks.forEach(checkK);
  for (const [name, v, min] of [
    ['repeats', config.repeats, 1],
    ['warmup', config.warmup, 0],
  ] as const) {
    if (!Number.isInteger(v) || v < min) {
      throw new SpecDecError(
        'BAD_ARGUMENT',
        `${name} must be a whole number of at least ${min} (got ${v}).`,
      );
    }
  }
  if (config.sampling) checkSampling(config.sampling);
  const promptTokens = pair.tokenizer.encode(config.prompt).length;
  const room = pair.nPositions - promptTokens;
  if (!Number.isInteger(config.maxNewTokens) || config.maxNewTokens < 1) {
    throw new SpecDecError(
      'MAX_NEW_TOKENS_INVALID',
      `Max new tokens must be a whole number of at least 1 (got ${config.maxNewTokens}).`,
    );
  }
  if (config.maxNewTokens > room) {
    throw new SpecDecError(
      'MAX_NEW_TOKENS_INVALID',
      `Max new tokens ${config.maxNewTokens} is past the context: the prompt is ${promptTokens} tokens and the models hold ${pair.nPositions}, so at most ${Math.max(0, room)} new tokens fit.`,
    );
  }
}

export async function runSweep(
  pair: ModelPair,
  config: SweepConfig,
  hooks: SweepHooks = {},
  signal?: AbortSignal,
): Promise<SweepResult> {
  checkSweepConfig(config, pair);
  const base = {
    prompt: config.prompt,
    maxNewTokens: config.maxNewTokens,
    reportProbabilities: config.reportProbabilities ?? false,
    ...(config.sampling ? { sampling: config.sampling } : {}),
  };
  const plan: Array<{ mode: RunResult['mode']; k: number | null }> = [
    { mode: 'baseline', k: null },
    ...(config.noKvCache ? [{ mode: 'baseline-no-cache' as const, k: null }] : []),
    ...config.ks.map((k) => ({ mode: 'speculative' as const, k })),
  ];
  const make = (mode: RunResult['mode'], k: number | null, withSignal: boolean): DecodeRun => {
    const options = { ...base, ...(withSignal && signal ? { signal } : {}) };
    if (mode === 'speculative') {
      return new SpeculativeRun(pair, k!, {
        ...options,
        ...(config.policy ? { policy: config.policy } : {}),
        ...(config.pMin !== undefined ? { pMin: config.pMin } : {}),
        ...(config.drafter ? { drafter: config.drafter } : {}),
      });
    }
    return new BaselineRun(pair, options, mode === 'baseline');
  };

  // Warm-up: let onnxruntime plan its kernels and allocators before anything is timed.
  for (let w = 0; w < config.warmup && !signal?.aborted; w++) {
    await make('baseline', null, false).runToEnd();
    await make('speculative', config.ks[0]!, false).runToEnd();
  }

  const runs: SweepRun[] = [];
  const total = plan.length * config.repeats;
  let index = 0;
  for (let repeat = 0; repeat < config.repeats; repeat++) {
    let baseline: RunResult | null = null;
    for (const { mode, k } of plan) {
      if (signal?.aborted) return { runs, cancelled: true };
      hooks.onRunStart?.({ mode, k, repeat, index: index++, total });
      const run = make(mode, k, true);
      for await (const ev of run.events()) await hooks.onEvent?.(ev);
      const result = await run.runToEnd();
      if (result.stopReason === 'cancelled') return { runs, cancelled: true };
      if (mode === 'baseline') baseline = result;
      const swept: SweepRun = {
        ...result,
        repeat,
        speedup: baseline ? baseline.metrics.timeS / result.metrics.timeS : null,
        identical: baseline !== null && sameIds(baseline.outputTokenIds, result.outputTokenIds),
      };
      runs.push(swept);
      hooks.onRunEnd?.(swept);
    }
  }
  return { runs, cancelled: false };
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export interface SweepSummaryRow {
  mode: RunResult['mode'];
  k: number | null;
  repeats: number;
  timeS: Spread;
  speedup: Spread | null;
  targetPasses: number;
  draftPasses: number;
  acceptanceRate: number | null;
  tokensPerTargetPass: number | null;
  newTokens: number;
  identical: boolean;
  outputText: string;
}

/** One row per (mode, K): medians and spread over repeats. Counts are deterministic per K. */
export function summarize(runs: readonly SweepRun[]): SweepSummaryRow[] {
  const groups = new Map<string, SweepRun[]>();
  for (const r of runs) {
    const key = `${r.mode}:${r.k ?? ''}`;
    groups.set(key, [...(groups.get(key) ?? []), r]);
  }
  return [...groups.values()].map((g) => {
    const first = g[0]!;
    const speedups = g.map((r) => r.speedup).filter((s): s is number => s !== null);
    return {
      mode: first.mode,
      k: first.k,
      repeats: g.length,
      timeS: spread(g.map((r) => r.metrics.timeS)),
      speedup: speedups.length > 0 ? spread(speedups) : null,
      targetPasses: first.metrics.targetPasses,
      draftPasses: first.metrics.draftPasses,
      acceptanceRate: first.metrics.acceptanceRate,
      tokensPerTargetPass: first.metrics.tokensPerTargetPass,
      newTokens: first.metrics.newTokens,
      identical: g.every((r) => r.identical),
      outputText: first.outputText,
    };
  });
}
