/**
 * What a user sets for a sweep or a step-by-step run, as it crosses every boundary (the app, serve,
 * the CLI's run plan), and the theory a sweep is compared with. Part of the protocol (protocol.ts
 * re-exports it).
 */
import { z } from 'zod';
import {
  DrafterKind,
  DraftPolicyName,
  Dtype,
  ExecutionProviderChoice,
  Q4Compute,
  RepetitionParams,
  SamplingParams,
} from './decoding';
import { MAX_ACCEPTANCE_TARGETS, MAX_KS, MAX_PROMPTS, MAX_REPEATS } from './limits';
import { MAX_TREE_SHAPES, treeBudgetProblem, treeShapeProblem, treeShapeText } from './treeShape';

/**
 * One model of the pair. `source` is null for the embedded pair's model, else a local folder, a
 * Hub repo id (`Xenova/gpt2`) or a catalog name (`gpt2-medium`); see src/shared/catalog.ts.
 */
export const ModelChoice = z.object({
  source: z.string().min(1).nullable(),
  /** the ONNX weights to fetch for a Hub model (ignored for folders) */
  dtype: Dtype,
  ep: ExecutionProviderChoice,
  /**
   * how the CPU provider computes a 4-bit file's MatMulNBits products (the CLI's --q4-compute);
   * absent: int8 (defaults.ts), as for clients that predate the choice
   */
  q4Compute: Q4Compute.optional(),
});
export type ModelChoice = z.infer<typeof ModelChoice>;

/**
 * What a pair does with each prompt (the CLI's --chat-template): auto renders it as a user's turn
 * in the target's chat template where its tokenizer has one; off feeds it as written.
 */
export const ChatTemplateChoice = z.enum(['auto', 'off']);
export type ChatTemplateChoice = z.infer<typeof ChatTemplateChoice>;

export const PairChoice = z.object({
  target: ModelChoice,
  draft: ModelChoice,
  /** use only the download cache, never the network */
  offline: z.boolean(),
  /** absent: auto (requests from clients that predate the switch) */
  chatTemplate: ChatTemplateChoice.optional(),
});
export type PairChoice = z.infer<typeof PairChoice>;

/** how the target verifies a token tree: under a tree mask, as batch rows, or the graph's choice */
export const TreeVerifyChoice = z.enum(['auto', 'mask', 'rows']);
export type TreeVerifyChoice = z.infer<typeof TreeVerifyChoice>;

/** a static token-tree shape (`--tree 3,2,1`), within src/shared/treeShape.ts's limits */
const TreeShapeSetting = z.array(z.number().int()).superRefine((shape, ctx) => {
  const problem = treeShapeProblem(shape);
  if (problem)
    ctx.addIssue({ code: 'custom', message: `Tree ${treeShapeText(shape)}: ${problem}.` });
});

/** a dynamic tree's node budget (`--tree-budget N`) */
const TreeBudgetSetting = z
  .number()
  .int()
  .superRefine((budget, ctx) => {
    const problem = treeBudgetProblem(budget);
    if (problem) ctx.addIssue({ code: 'custom', message: `Tree budget: ${problem}.` });
  });

/** How speculative runs draft and verify: shared by sweeps and live step-through. */
const DecodeChoices = {
  pMin: z.number().gt(0).lt(1),
  /** null: greedy decoding */
  sampling: SamplingParams.nullable(),
  /** repetition penalty / no-repeat n-gram; absent or null: off */
  repetition: RepetitionParams.nullable().optional(),
};

export const SweepSettings = z.object({
  pair: PairChoice,
  /** a prompt set: every run is made for each prompt */
  prompts: z.array(z.string()).min(1).max(MAX_PROMPTS),
  maxNewTokens: z.number().int(),
  ks: z.array(z.number().int()).min(1).max(MAX_KS),
  repeats: z.number().int().min(1).max(MAX_REPEATS),
  /** compared side by side: every K is run for each policy and each drafter */
  policies: z.array(DraftPolicyName).min(1),
  drafters: z.array(DrafterKind).min(1),
  /**
   * Controlled acceptance (the CLI's --acceptance): each target A, strictly between 0 and 1, runs
   * every K with the oracle drafter as a configuration of its own. Absent: real drafting.
   */
  acceptance: z
    .array(z.number().gt(0).lt(1))
    .min(1)
    .max(MAX_ACCEPTANCE_TARGETS)
    .refine((targets) => new Set(targets).size === targets.length, {
      message: 'Each acceptance target once.',
    })
    .optional(),
  /**
   * Token trees (the CLI's --tree, --tree-budget, --tree-verify), each shape and budget a
   * configuration beside the chains, run once per verification way. Absent: chains only.
   */
  trees: z.array(TreeShapeSetting).min(1).max(MAX_TREE_SHAPES).optional(),
  treeBudgets: z.array(TreeBudgetSetting).min(1).max(MAX_TREE_SHAPES).optional(),
  treeVerify: z.array(TreeVerifyChoice).min(1).max(3).optional(),
  ...DecodeChoices,
});
export type SweepSettings = z.infer<typeof SweepSettings>;

export const LiveSettings = z.object({
  pair: PairChoice,
  prompt: z.string(),
  maxNewTokens: z.number().int(),
  k: z.number().int(),
  policy: DraftPolicyName,
  drafter: DrafterKind,
  /** a token tree instead of a chain of K: a shape or a node budget (one of them) */
  tree: z
    .object({
      shape: TreeShapeSetting.optional(),
      budget: TreeBudgetSetting.optional(),
      verify: TreeVerifyChoice,
    })
    .refine((t) => (t.shape === undefined) !== (t.budget === undefined), {
      message: 'A token tree has a shape or a node budget (one of them).',
    })
    .optional(),
  ...DecodeChoices,
});
export type LiveSettings = z.infer<typeof LiveSettings>;

/**
 * The pair's costs measured after a sweep (src/core/experiment/costRatio.ts): the theory's inputs
 * without alpha, so a sweep with controlled acceptance only (no real K=1 run, so no Theory) is
 * still predicted at each of its targets.
 */
export const MeasuredCosts = z.object({
  /** a one-token draft pass over a one-token target pass */
  c: z.number(),
  /** t_target(K + 1) / t_target(1) per measured K */
  verifyCost: z.record(z.string(), z.number()).optional(),
});
export type MeasuredCosts = z.infer<typeof MeasuredCosts>;

/** Leviathan et al.'s prediction from a sweep's measured alpha (K=1 acceptance) and cost ratio c. */
export const Theory = z.object({
  alpha: z.number(),
  c: z.number(),
  bestK: z.number().int(),
  /** t_target(K + 1) / t_target(1) per measured K (Leviathan assumes 1) */
  verifyCost: z.record(z.string(), z.number()).optional(),
  /** the best K predicted with the measured verification cost */
  bestKMeasuredCost: z.number().int().optional(),
});
export type Theory = z.infer<typeof Theory>;
