/**
 * Settings as the protocol defines them become what the engine runs, in one place for the CLI
 * and the engine host: the sweep's config (checked before any model is touched) and each model's
 * spec. Everything a surface sets beyond the protocol (warm-up, the no-cache baseline) is named.
 */
import { DEFAULT_WARMUP } from '../shared/defaults';
import type { GraphChoice, KvLocationChoice, Q4Compute } from '../shared/decoding';
import type { LiveSettings, ModelChoice, SweepSettings } from '../shared/protocol';
import { checkSweepSettings, type SweepConfig } from '../core/experiment/sweep';
import type { ModelSpec } from '../core/hub/openPair';
import type { TreeVerifyChoice } from '../core/decoding/tree/treeRun';

/** a sweep's settings without the pair (which the models' specs come from) */
export type SweepPlanSettings = Omit<SweepSettings, 'pair'>;

/** what a sweep's settings leave to the surface that runs it */
export interface SweepRunOptions {
  /** runs before measuring, not counted (default DEFAULT_WARMUP) */
  warmup?: number;
  /** also run the baseline without a KV cache (the CLI's --no-kv-cache) */
  noKvCache?: boolean;
  /** events carry each drafted token's probabilities (the app shows them) */
  reportProbabilities?: boolean;
  /**
   * controlled acceptance targets (the CLI's --acceptance): each runs every K with the oracle;
   * the app sends them in its settings (SweepSettings.acceptance), which take precedence
   */
  acceptance?: number[];
  /**
   * static token-tree shapes (the CLI's --tree), each a configuration beside the chains; the app
   * sends its trees, budgets and verification in its settings, which take precedence
   */
  trees?: number[][];
  /** dynamic token trees' node budgets (the CLI's --tree-budget) */
  treeBudgets?: number[];
  /** how the target verifies each tree (the CLI's --tree-verify); default auto */
  treeVerify?: TreeVerifyChoice[];
}

/**
 * The sweep a request runs, checked before any model work: a request refused for what it asks
 * never downloads, probes or loads anything.
 */
export function sweepPlan(settings: SweepPlanSettings, options: SweepRunOptions = {}): SweepConfig {
  const acceptance = settings.acceptance ?? options.acceptance;
  // the app sends its trees in its settings, the CLI as options: the settings take precedence
  const trees = settings.trees ?? options.trees;
  const treeBudgets = settings.treeBudgets ?? options.treeBudgets;
  const treeVerify = settings.treeVerify ?? options.treeVerify;
  const config: SweepConfig = {
    prompts: settings.prompts,
    maxNewTokens: settings.maxNewTokens,
    ks: settings.ks,
    repeats: settings.repeats,
    warmup: options.warmup ?? DEFAULT_WARMUP,
    noKvCache: options.noKvCache ?? false,
    ...(options.reportProbabilities ? { reportProbabilities: true } : {}),
    policies: settings.policies,
    pMin: settings.pMin,
    drafters: settings.drafters,
    // null (greedy, repetition off) is the engine's absent
    ...(settings.sampling ? { sampling: settings.sampling } : {}),
    ...(settings.repetition ? { repetition: settings.repetition } : {}),
    ...(acceptance ? { acceptance } : {}),
    ...(trees ? { trees } : {}),
    ...(treeBudgets ? { treeBudgets } : {}),
    ...(treeVerify ? { treeVerify } : {}),
  };
  checkSweepSettings(config);
  return config;
}

/** A live step-through is a one-K, one-prompt sweep without warm-up, as far as its settings go. */
export function livePlan(settings: Omit<LiveSettings, 'pair'>): SweepConfig {
  return sweepPlan(
    {
      prompts: [settings.prompt],
      maxNewTokens: settings.maxNewTokens,
      ks: [settings.k],
      repeats: 1,
      policies: [settings.policy],
      drafters: [settings.drafter],
      pMin: settings.pMin,
      sampling: settings.sampling,
      ...(settings.repetition !== undefined ? { repetition: settings.repetition } : {}),
    },
    { warmup: 0 },
  );
}

/** where a model runs beyond its provider; each left out is the loader's choice */
export interface ModelPlacement {
  kvLocation?: KvLocationChoice;
  graph?: GraphChoice;
  threads?: number;
  /** how the CPU provider computes 4-bit MatMulNBits products */
  q4Compute?: Q4Compute;
}

/** One model of the pair as the loader takes it; a null source is the embedded pair's model. */
export function modelSpecOf(
  choice: ModelChoice,
  embedded: string,
  placement: ModelPlacement = {},
): ModelSpec {
  return {
    source: choice.source ?? embedded,
    dtype: choice.dtype,
    ep: choice.ep,
    ...(placement.kvLocation !== undefined ? { kvLocation: placement.kvLocation } : {}),
    ...(placement.graph !== undefined ? { graph: placement.graph } : {}),
    ...(placement.threads !== undefined ? { threads: placement.threads } : {}),
    ...(placement.q4Compute !== undefined ? { q4Compute: placement.q4Compute } : {}),
  };
}
