/**
 * The exercise's experiment: a baseline (the target alone, greedy or sampled as the settings
 * say), then speculative decoding for each K, repeated, every run timed and counted and compared
 * with the baseline of its repeat.
 */
import {
  DEFAULT_DRAFTER,
  DEFAULT_POLICY,
  type DraftPolicyName,
  type DrafterKind,
  type RepetitionParams,
  type SamplingParams,
} from '../../shared/decoding';
import type { EngineEvent } from '../../shared/events';
import { MAX_PROMPTS } from '../../shared/limits';
import { BaselineRun } from '../decoding/baseline';
import { checkMaxNewTokens, type DecodeRun, type RunResult } from '../decoding/decodeRun';
import { checkRepetition } from '../decoding/repetition';
import { checkSampling } from '../decoding/sampling';
import { SpeculativeRun } from '../decoding/speculative';
import {
  checkTreeRun,
  TreeRun,
  TREE_BUDGET_SAMPLING_REFUSAL,
  verifyMode,
  type TreeVerifyChoice,
} from '../decoding/tree/treeRun';
import {
  MAX_TREE_DEPTH,
  MAX_TREE_SHAPES,
  treeBudgetProblem,
  treeShapeProblem,
  treeShapeText,
} from '../../shared/treeShape';
import {
  checkAcceptance,
  checkCompatible,
  checkK,
  checkOracleCompatible,
  DRAFTER_REGISTRY,
} from '../decoding/strategies/registry';
import { treeAcceptanceProblem } from '../../shared/treeAcceptance';
import { SpecDecError } from '../errors';
import type { ModelPair, PairFit } from '../model/pair';

export interface SweepConfig {
  /** a prompt set: every run is made for each prompt */
  prompts: string[];
  maxNewTokens: number;
  ks: number[];
  repeats: number;
  /** runs before measuring, not counted */
  warmup: number;
  /** also run the baseline without a KV cache (re-running the whole sequence each step) */
  noKvCache: boolean;
  reportProbabilities?: boolean;
  /** draft length policies and drafters compared (every K runs with each); default fixed, model */
  policies?: DraftPolicyName[];
  drafters?: DrafterKind[];
  /** the confidence policy's threshold */
  pMin?: number;
  /** sample (same seed for every run) instead of greedy decoding */
  sampling?: SamplingParams;
  /** repetition penalty / no-repeat n-gram, for every run (the baseline too) */
  repetition?: RepetitionParams;
  /**
   * Controlled acceptance: every speculative configuration runs once per target A, the oracle
   * drafter replacing the draft model's proposals from the baseline of the same repeat and prompt
   * (a tree's, the tree oracle choosing each node's children by rank); absent: real drafting
   */
  acceptance?: number[];
  /**
   * static token-tree shapes (`--tree 3,2,1`), each a greedy configuration of its own beside the
   * chains: the model drafter, verified in one target pass
   */
  trees?: number[][];
  /**
   * dynamic token trees (`--tree-budget N`, EAGLE-2's): the N drafted nodes of highest path
   * probability, each budget a configuration of its own
   */
  treeBudgets?: number[];
  /**
   * how the target verifies each tree (each way its own configuration): auto (under the tree
   * mask where the target's graph takes one, else as rows), mask, rows; default auto
   */
  treeVerify?: TreeVerifyChoice[];
}

/** a token tree's shape or node budget, and the verification asked */
export type PlannedTree = ({ shape: number[] } | { budget: number }) & {
  verify: TreeVerifyChoice;
};

export interface SweepRun extends RunResult {
  repeat: number;
  promptIndex: number;
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
    promptIndex: number;
    policy: DraftPolicyName | null;
    drafter: DrafterKind | null;
    /** there when the run's acceptance is controlled */
    acceptanceTarget?: number;
    /** there for a token tree: its shape or budget and the verification asked */
    tree?: PlannedTree;
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

/**
 * Validate what a user typed, before any model or provider is touched: once, in src/lab's run
 * plan. What needs the models is checkSweepConfig's.
 */
export function checkSweepSettings(config: SweepConfig): void {
  if (config.prompts.length === 0 || config.prompts.length > MAX_PROMPTS) {
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `A prompt set holds 1 to ${MAX_PROMPTS} prompts (got ${config.prompts.length}).`,
    );
  }
  const empty = config.prompts.findIndex((p) => p.trim() === '');
  if (empty >= 0) {
    throw new SpecDecError(
      'PROMPT_EMPTY',
      config.prompts.length === 1
        ? 'The prompt is empty. Give a prompt.'
        : `Prompt ${empty + 1} of the set is empty. Remove empty lines from the prompt file.`,
      ['prompt'],
    );
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
  if (config.repetition) checkRepetition(config.repetition);
  // every policy runs with every drafter: each pair must suit what the two declare they need
  const drafters = config.drafters ?? [DEFAULT_DRAFTER];
  for (const policy of config.policies ?? []) {
    for (const drafter of drafters) checkCompatible(policy, drafter);
  }
  if (config.acceptance) {
    if (config.acceptance.length === 0)
      throw new SpecDecError('BAD_ARGUMENT', 'Give at least one acceptance target.');
    config.acceptance.forEach(checkAcceptance);
    for (const policy of config.policies ?? [DEFAULT_POLICY]) {
      for (const drafter of drafters)
        checkOracleCompatible(policy, drafter, config.sampling !== undefined);
    }
  }
  if (config.trees || config.treeBudgets) checkTrees(config);
  checkMaxNewTokens(config.maxNewTokens);
}

/**
 * Trees draft with the draft model; a node budget runs greedy only; under controlled acceptance,
 * greedy static shapes only (src/shared/treeAcceptance.ts).
 */
function checkTrees(config: SweepConfig): void {
  const trees = config.trees ?? [];
  const budgets = config.treeBudgets ?? [];
  const count = trees.length + budgets.length;
  if (count === 0 || count > MAX_TREE_SHAPES)
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `A sweep compares 1 to ${MAX_TREE_SHAPES} tree shapes and budgets (got ${count}).`,
    );
  for (const shape of trees) {
    const problem = treeShapeProblem(shape);
    if (problem)
      throw new SpecDecError('BAD_ARGUMENT', `Tree ${treeShapeText(shape)}: ${problem}.`);
  }
  for (const budget of budgets) {
    const problem = treeBudgetProblem(budget);
    if (problem) throw new SpecDecError('BAD_ARGUMENT', `Tree budget ${budget}: ${problem}.`);
  }
  if (config.sampling && budgets.length > 0)
    throw new SpecDecError('BAD_ARGUMENT', TREE_BUDGET_SAMPLING_REFUSAL, ['temperature']);
  if (config.acceptance) {
    const refusal = treeAcceptanceProblem({
      sampling: config.sampling !== undefined,
      budgets: budgets.length > 0,
    });
    if (refusal) throw new SpecDecError('BAD_ARGUMENT', refusal);
  }
}

/**
 * What needs the pair, checked once as it loads (the `check` hook of openPair): a draft model where
 * a drafter needs one, and every prompt with its max new tokens within the context.
 */
export function checkSweepConfig(config: SweepConfig, pair: PairFit): void {
  const drafters = config.drafters ?? [DEFAULT_DRAFTER];
  if ((config.trees || config.treeBudgets) && !pair.hasDraft)
    throw new SpecDecError('BAD_ARGUMENT', 'Token trees need a draft model.');
  if (drafters.some((d) => DRAFTER_REGISTRY[d].traits.needsDraftModel) && !pair.hasDraft) {
    throw new SpecDecError('BAD_ARGUMENT', 'Drafting with a model needs a draft model.');
  }
  config.prompts.forEach((prompt, i) => {
    const promptTokens = pair.tokenizer.encode(prompt).length;
    const room = pair.nPositions - promptTokens;
    const which = config.prompts.length > 1 ? `prompt ${i + 1} of the set` : 'the prompt';
    // a prompt that fills the context alone is the prompt's fault, whatever max new tokens is
    if (room < 1) {
      throw new SpecDecError(
        'PROMPT_TOO_LONG',
        `${which[0]!.toUpperCase()}${which.slice(1)} is ${promptTokens} tokens and the models hold ${pair.nPositions} in all, so no new token fits. Shorten ${which === 'the prompt' ? 'it' : 'that prompt'} to under ${pair.nPositions} tokens.`,
      );
    }
    if (config.maxNewTokens > room) {
      throw new SpecDecError(
        'MAX_NEW_TOKENS_INVALID',
        `Max new tokens ${config.maxNewTokens} is past the context: ${which} is ${promptTokens} tokens and the models hold ${pair.nPositions}, so at most ${room} new tokens fit. Lower max new tokens or shorten the prompt.`,
      );
    }
  });
}

/**
 * Every run of the sweep, interleaved by repeat. The config comes from src/lab's run plan (its
 * settings checked there) and was checked against this pair as it loaded (checkSweepConfig).
 */
export async function runSweep(
  pair: ModelPair,
  config: SweepConfig,
  hooks: SweepHooks = {},
  signal?: AbortSignal,
): Promise<SweepResult> {
  interface Planned {
    mode: RunResult['mode'];
    k: number | null;
    policy: DraftPolicyName | null;
    drafter: DrafterKind | null;
    /** null: real drafting */
    acceptance: number | null;
    /** a token tree's shape or budget and how it is verified; absent: a chain */
    tree?: PlannedTree;
  }
  const baselineOnly = { k: null, policy: null, drafter: null, acceptance: null };
  const plan: Planned[] = [
    { mode: 'baseline', ...baselineOnly },
    ...(config.noKvCache ? [{ mode: 'baseline-no-cache' as const, ...baselineOnly }] : []),
  ];
  for (const acceptance of config.acceptance ?? [null]) {
    for (const drafter of config.drafters ?? [DEFAULT_DRAFTER]) {
      for (const policy of config.policies ?? [DEFAULT_POLICY]) {
        for (const k of config.ks)
          plan.push({ mode: 'speculative', k, policy, drafter, acceptance });
      }
    }
  }
  const trees: Array<{ shape: number[] } | { budget: number }> = [
    ...(config.trees ?? []).map((shape) => ({ shape })),
    ...(config.treeBudgets ?? []).map((budget) => ({ budget })),
  ];
  let masked = false;
  // under controlled acceptance every tree runs at each target, as the chains do
  for (const acceptance of trees.length > 0 ? (config.acceptance ?? [null]) : []) {
    for (const verify of config.treeVerify ?? ['auto']) {
      for (const tree of trees) {
        // what the pair cannot run (a graph without batch rows, a way the target cannot verify)
        // is refused before any run, not midway
        const options = { prompt: '', maxNewTokens: 1, ...tree, verify };
        checkTreeRun(pair, options);
        if (verifyMode(pair, options) === 'mask') masked = true;
        const k = 'shape' in tree ? tree.shape.length : Math.min(tree.budget, MAX_TREE_DEPTH);
        const chain = { k, policy: 'fixed', drafter: 'model', acceptance } as const;
        plan.push({ mode: 'speculative', ...chain, tree: { ...tree, verify } });
      }
    }
  }
  // the target's graph with a tree mask replaces its session: opened now, before the baseline and
  // outside any timed run, so every run of the sweep runs the same graph
  if (masked) await pair.target.lm.prepareTreeMask();
  /**
   * `truth`: the baseline run of the same repeat and prompt (it runs first), which the oracle
   * reads the target's choices from; its draws are seeded by `seed`, the repeat's and prompt's.
   */
  const make = (
    p: Planned,
    prompt: string,
    withSignal: boolean,
    truth: RunResult | null,
    seed: number,
  ): DecodeRun => {
    const options = {
      prompt,
      maxNewTokens: config.maxNewTokens,
      reportProbabilities: config.reportProbabilities ?? false,
      ...(config.sampling ? { sampling: config.sampling } : {}),
      ...(config.repetition ? { repetition: config.repetition } : {}),
      ...(withSignal && signal ? { signal } : {}),
    };
    const oracle =
      p.acceptance !== null
        ? { oracle: { acceptance: p.acceptance, baselineTokenIds: truth!.outputTokenIds, seed } }
        : {};
    if (p.tree) return new TreeRun(pair, { ...options, ...p.tree, ...oracle });
    if (p.mode === 'speculative') {
      return new SpeculativeRun(pair, p.k!, {
        ...options,
        policy: p.policy!,
        drafter: p.drafter!,
        ...(config.pMin !== undefined ? { pMin: config.pMin } : {}),
        ...oracle,
      });
    }
    return new BaselineRun(pair, options, p.mode === 'baseline');
  };

  // Warm-up: let onnxruntime plan its kernels and allocators before anything is timed.
  for (let w = 0; w < config.warmup && !signal?.aborted; w++) {
    const truth = await make(plan[0]!, config.prompts[0]!, false, null, 0).runToEnd();
    await make(plan[plan.length - 1]!, config.prompts[0]!, false, truth, 0).runToEnd();
  }

  const runs: SweepRun[] = [];
  const total = plan.length * config.repeats * config.prompts.length;
  let index = 0;
  for (let repeat = 0; repeat < config.repeats; repeat++) {
    for (const [promptIndex, prompt] of config.prompts.entries()) {
      let baseline: RunResult | null = null;
      // every repeat and prompt draws afresh; every configuration of them draws the same
      const seed = repeat * MAX_PROMPTS + promptIndex;
      for (const { acceptance, tree, ...p } of plan) {
        if (signal?.aborted) return { runs, cancelled: true };
        hooks.onRunStart?.({
          ...p,
          ...(tree ? { tree } : {}),
          ...(acceptance !== null ? { acceptanceTarget: acceptance } : {}),
          repeat,
          promptIndex,
          index: index++,
          total,
        });
        const run = make(
          { ...p, acceptance, ...(tree ? { tree } : {}) },
          prompt,
          true,
          baseline,
          seed,
        );
        for await (const ev of run.events()) await hooks.onEvent?.(ev);
        const result = await run.runToEnd();
        if (result.stopReason === 'cancelled') return { runs, cancelled: true };
        if (p.mode === 'baseline') baseline = result;
        const swept: SweepRun = {
          ...result,
          repeat,
          promptIndex,
          speedup: baseline ? baseline.metrics.timeS / result.metrics.timeS : null,
          identical: baseline !== null && sameIds(baseline.outputTokenIds, result.outputTokenIds),
        };
        runs.push(swept);
        hooks.onRunEnd?.(swept);
      }
    }
  }
  return { runs, cancelled: false };
}

function sameIds(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
