/**
 * What a finished run and a saved sweep are, as rows and history entries: each value within the
 * range a run can have, so a saved file out of range is skipped, never drawn. Part of the protocol
 * (protocol.ts re-exports it).
 */
import { z } from 'zod';
import { DrafterKind, DraftPolicyName, KvLocation, ModelGraph, Q4ComputeRan } from './decoding';
import {
  DecodeMode,
  DraftModelAgreement,
  RunMetrics,
  StopReason,
  TimeSplit,
  TreeVerifyMode,
} from './events';
import { MAX_K, MAX_PROMPTS } from './limits';
import { MeasuredCosts, SweepSettings, Theory } from './settings';
import { MAX_TREE_DEPTH, MAX_TREE_NODES } from './treeShape';

/**
 * What a run did with its prompt: rendered it in the target's chat template ('applied'), fed it
 * as it is because that was asked ('off'), or because the target's tokenizer has no template
 * ('none'). Recorded with each run (chatTemplate), absent in sweeps saved before it was.
 */
export const ChatTemplateUse = z.enum(['applied', 'off', 'none']);
export type ChatTemplateUse = z.infer<typeof ChatTemplateUse>;

/** A saved sweep's name at most, in characters. */
export const MAX_HISTORY_NAME = 80;

/**
 * a saved sweep's id: its file name without `.json` (the store makes them of letters, digits, _
 * and -; a copy made by hand may add spaces, dots and brackets, as "X copy" or "X (1)")
 */
export const HistoryId = z
  .string()
  .max(100)
  .regex(
    /^[\w(-][\w ().-]*$/,
    'a saved sweep id is letters, digits, spaces and _ - . ( ), not starting with a dot',
  );
/** what the user calls a saved sweep */
export const HistoryName = z
  .string()
  .trim()
  .min(1, 'a name needs at least one character')
  .max(MAX_HISTORY_NAME, `a name is at most ${MAX_HISTORY_NAME} characters`);

/**
 * A run's counts at most: far above any run (max new tokens times K), far below what would
 * freeze a chart that draws them; and its seconds at most (a run is not months long).
 */
export const MAX_RUN_COUNT = 1e9;
export const MAX_RUN_SECONDS = 1e7;
const RunCount = z.number().int().min(0).max(MAX_RUN_COUNT);
const RunSeconds = z.number().min(0).max(MAX_RUN_SECONDS);
const Share = z.number().min(0).max(1);

const RankCountsSchema = z.object({
  tested: z.array(RunCount).max(MAX_TREE_NODES),
  accepted: z.array(RunCount).max(MAX_TREE_NODES),
});

/**
 * A token-tree run's tree: its static shape (`--tree 3,2,1`: the branching per depth) or its node
 * budget (`--tree-budget 16`), how the
 * target verified it (one pass under a tree mask, or its paths as batch rows) and the nodes it
 * verified at each step (0: a step with no room to draft).
 */
export const RunTree = z.object({
  /** a static shape; absent for a node budget's (dynamic) tree */
  shape: z.array(z.number().int().min(1).max(MAX_TREE_NODES)).min(1).max(MAX_TREE_DEPTH).optional(),
  /** a node budget (EAGLE-2's dynamic tree: the N nodes of highest path probability) */
  budget: z.number().int().min(1).max(MAX_TREE_NODES).optional(),
  verify: TreeVerifyMode,
  nodesPerStep: z.array(z.number().int().min(0).max(MAX_TREE_NODES)),
  /**
   * acceptance by draft rank, observed from the run's verify events (src/shared/treeRanks.ts):
   * tested[r], positions where the draft's (r+1)-th choice was checked (its earlier siblings
   * rejected), accepted[r], those where it was the target's token; absent in runs saved before it
   */
  ranks: RankCountsSchema.optional(),
  /**
   * under controlled acceptance only: the draft model's own acceptance by rank behind the oracle
   * (src/core/decoding/tree/treeOracle.ts), at every node whose path was the target's text,
   * its ranking read down to the target's token (as far as the tree's width let it be read): the
   * pair's own p_r, which places the pair on the trees' picture
   */
  draftModelRanks: RankCountsSchema.optional(),
});
export type RunTree = z.infer<typeof RunTree>;

/**
 * One finished run of a sweep: its metrics (see events.ts) and what it was compared with, each
 * within the range a run can have (a saved row out of range is skipped, never drawn).
 */
export const RunRow = RunMetrics.omit({ targetOnlyTokens: true }).extend({
  newTokens: RunCount,
  targetPasses: RunCount,
  draftPasses: RunCount,
  verificationSteps: RunCount,
  draftedTokens: RunCount,
  acceptedTokens: RunCount,
  corrections: RunCount,
  bonuses: RunCount,
  acceptanceRate: Share.nullable(),
  /** at most K + 1 tokens a pass */
  tokensPerTargetPass: z
    .number()
    .min(0)
    .max(MAX_K + 1)
    .nullable(),
  timeS: RunSeconds,
  targetRunS: RunSeconds,
  draftRunS: RunSeconds,
  queuedS: RunSeconds.optional(),
  runId: z.string().max(200),
  mode: DecodeMode,
  k: z.number().int().min(1).max(MAX_K).nullable(),
  repeat: RunCount,
  /** index into the sweep's prompt set */
  promptIndex: z
    .number()
    .int()
    .min(0)
    .max(MAX_PROMPTS - 1),
  /** baseline time of the same repeat / this run's time */
  speedup: z.number().min(0).nullable(),
  /** output token ids equal the baseline's of the same repeat */
  identical: z.boolean(),
  stopReason: StopReason,
  /** draft length policy and drafter (null for baselines) */
  policy: DraftPolicyName.nullable().optional(),
  drafter: DrafterKind.nullable().optional(),
  /** tokens drafted at each step */
  kPerStep: z.array(z.number().int().min(0).max(MAX_K)).optional(),
  /** how often the i-th drafted token of a step was accepted */
  acceptanceByPosition: z.array(Share).max(MAX_K).optional(),
  /**
   * Controlled acceptance: the rate A the oracle drafter drafted at (each drafted token the
   * target's with probability A); null for real drafting. The engines' metrics follow (vLLM's
   * mean acceptance length and per-step histogram, llama.cpp's tested drafts), then where the
   * run's time went. All absent in sweeps saved before them.
   */
  acceptanceTarget: Share.nullable().optional(),
  /** controlled acceptance only: the draft model's own agreement with the target (its alpha) */
  draftModelAgreement: DraftModelAgreement.nullable().optional(),
  /** 1 + accepted / verification steps; null without a verification step */
  meanAcceptanceLength: z
    .number()
    .min(1)
    .max(MAX_K + 1)
    .nullable()
    .optional(),
  /** verification steps by how many drafts they accepted: index = accepted count, 0..K */
  acceptedPerStepHistogram: z
    .array(RunCount)
    .max(MAX_K + 1)
    .optional(),
  /** drafts the target's verdict decided (accepted, or a step's first rejection), of draftedTokens */
  draftTokensTested: RunCount.optional(),
  /** the run's time: draft passes, target passes and the rest, summing to timeS */
  timeSplit: TimeSplit.extend({
    draftS: RunSeconds,
    targetS: RunSeconds,
    otherS: RunSeconds,
  }).optional(),
  /** token-tree runs only (absent for chains, baselines and sweeps saved before trees) */
  tree: RunTree.optional(),
  /** execution providers the models ran on */
  targetProvider: z.string().optional(),
  draftProvider: z.string().nullable().optional(),
  /** where the output enters a repeating cycle and its period (src/results/loops.ts), or null */
  repetition: z.object({ start: RunCount, period: RunCount }).nullable().optional(),
  /** every provider probed for the model: "cpu 1.21 ms; webgpu 742 ms; cuda: not installed" */
  targetProviderTrials: z.string().nullable().optional(),
  draftProviderTrials: z.string().nullable().optional(),
  /** where each model's KV cache lived between passes (host memory or the GPU's) */
  targetKvLocation: KvLocation.optional(),
  draftKvLocation: KvLocation.nullable().optional(),
  /** the graph each model ran: fused (rebuilt for the CPU provider) or as exported */
  targetGraph: ModelGraph.optional(),
  draftGraph: ModelGraph.nullable().optional(),
  /** each model's family (config.json's model_type); absent in sweeps saved before them */
  targetFamily: z.string().max(100).optional(),
  draftFamily: z.string().max(100).nullable().optional(),
  /**
   * what each model's 4-bit MatMulNBits products ran in (int8 activations, float32...; null: no
   * 4-bit products); absent in sweeps saved before them
   */
  targetQ4Compute: Q4ComputeRan.nullable().optional(),
  draftQ4Compute: Q4ComputeRan.nullable().optional(),
  /** what the run did with its prompt (ChatTemplateUse) */
  chatTemplate: ChatTemplateUse.optional(),
  outputText: z.string(),
  outputTokenIds: z.array(z.number().int().min(0)),
});
export type RunRow = z.infer<typeof RunRow>;

export const HistoryEntry = z.object({
  id: z.string(),
  createdAt: z.string(),
  /** the user's name for it (null: none given) */
  name: z.string().nullable().optional(),
  settings: SweepSettings,
  models: z.object({ target: z.string(), draft: z.string() }),
  rows: z.array(RunRow),
  theory: Theory.nullable(),
  /** the pair's measured costs (null or absent when not measured, or saved before them) */
  costs: MeasuredCosts.nullable().optional(),
  /** finished | cancelled | failed (host died or an error) */
  status: z.enum(['running', 'finished', 'cancelled', 'failed']),
});
export type HistoryEntry = z.infer<typeof HistoryEntry>;

/** The history list's texts (prompt, name, models) at most, in characters: the list stays small. */
export const MAX_LISTED_TEXT = 300;

export const HistorySummary = HistoryEntry.pick({
  id: true,
  createdAt: true,
  status: true,
  models: true,
  name: true,
}).extend({
  /** the first prompt of the set, and how many there are */
  prompt: z.string(),
  prompts: z.number().int(),
  ks: z.array(z.number().int()),
  /** controlled acceptance's targets A (absent: real drafting, or a host before it was listed) */
  acceptance: z.array(z.number()).optional(),
  /** token trees: the shapes ("3,2,1") and node budgets swept beside the chains (absent: none) */
  trees: z.object({ shapes: z.array(z.string()), budgets: z.array(z.number()) }).optional(),
  runs: z.number().int(),
  /** weight types of the pair */
  dtypes: z.object({ target: z.string(), draft: z.string() }).optional(),
  /**
   * the verdict (results/summary bestOf): the fastest configuration; tied: some others were not
   * beaten beyond noise; beatBaseline: it beat the baseline (absent in hosts before it was kept)
   */
  best: z
    .object({
      label: z.string(),
      speedup: z.number(),
      tied: z.boolean(),
      beatBaseline: z.boolean().optional(),
    })
    .nullable()
    .optional(),
  /** the runs' event logs were saved: they can be replayed and their steps exported */
  replayable: z.boolean().optional(),
  /** what was not as expected in its files (rows skipped, an unknown status), each with what to do */
  problems: z.array(z.string()).optional(),
  /** a copy of another saved sweep (same id inside, another file): that entry's id */
  duplicateOf: z.string().optional(),
  /** its files cannot be read, why and what to do: it can only be deleted */
  unreadable: z.string().optional(),
});
export type HistorySummary = z.infer<typeof HistorySummary>;
