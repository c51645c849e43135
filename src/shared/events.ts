/**
 * The engine's event stream: one definition for the engine, the CLI, the IPC bridge and the UI.
 * Schemas validate events where they cross a process boundary; the types are inferred from them.
 */
import { z } from 'zod';
import { PassTransfer } from './decoding';

export const EmitKind = z.enum(['accepted', 'correction', 'bonus', 'target']);
export type EmitKind = z.infer<typeof EmitKind>;

export const DecodeMode = z.enum(['baseline', 'baseline-no-cache', 'speculative']);
export type DecodeMode = z.infer<typeof DecodeMode>;

export const StopReason = z.enum(['max-new-tokens', 'eos', 'context-limit', 'cancelled']);
export type StopReason = z.infer<typeof StopReason>;

export const RunMetrics = z.object({
  newTokens: z.number().int(),
  targetPasses: z.number().int(),
  draftPasses: z.number().int(),
  verificationSteps: z.number().int(),
  draftedTokens: z.number().int(),
  acceptedTokens: z.number().int(),
  corrections: z.number().int(),
  bonuses: z.number().int(),
  /** new tokens made by target-only steps (baseline steps, or speculative steps with no room to draft) */
  targetOnlyTokens: z.number().int(),
  /** accepted / drafted; null when nothing was drafted */
  acceptanceRate: z.number().nullable(),
  /** new tokens / target passes */
  tokensPerTargetPass: z.number().nullable(),
  timeS: z.number(),
  /** seconds spent inside the target's and the draft's session.run */
  targetRunS: z.number(),
  draftRunS: z.number(),
  /**
   * seconds both models' passes waited for the event loop before onnxruntime started them (it
   * runs a pass from a setImmediate, after the I/O callbacks already due: a host's messages to
   * the app, a progress bar); part of timeS, in neither RunS. Absent in sweeps saved before it.
   */
  queuedS: z.number().optional(),
  /**
   * run-end only: host<->device bytes per target pass (medians), and the draft's; null for a
   * run that made no pass
   */
  transfer: PassTransfer.extend({ draft: PassTransfer.nullable() }).nullable().optional(),
});
export type RunMetrics = z.infer<typeof RunMetrics>;

/**
 * Where a run's time went: the draft model's passes, the target's passes (each from its feeds to
 * its logits, less the wait for the event loop), and the rest (crops, verification, sampling,
 * events, bookkeeping, the event loop's wait). The three sum to the run's time.
 */
export const TimeSplit = z.object({
  draftS: z.number(),
  targetS: z.number(),
  otherS: z.number(),
});
export type TimeSplit = z.infer<typeof TimeSplit>;

/**
 * Under controlled acceptance, the pair's own alpha is still measured: at each drafted position
 * whose context was the target's text, whether the draft model's greedy token was the target's.
 */
export const DraftModelAgreement = z.object({
  positions: z.number().int().nonnegative(),
  agreed: z.number().int().nonnegative(),
});
export type DraftModelAgreement = z.infer<typeof DraftModelAgreement>;

export const RunStartEvent = z.object({
  type: z.literal('run-start'),
  runId: z.string(),
  mode: DecodeMode,
  k: z.number().int().nullable(),
  maxNewTokens: z.number().int(),
  models: z.object({ target: z.string(), draft: z.string().nullable() }),
  promptTokenIds: z.array(z.number().int()),
  /** the prompt as typed */
  promptText: z.string(),
  /**
   * with a chat template applied: the prompt as the models read it, promptTokenIds as text
   * (special tokens included), the template's turn around the typed text; absent otherwise
   */
  renderedPrompt: z.string().optional(),
});

export const DraftEvent = z.object({
  type: z.literal('draft'),
  runId: z.string(),
  step: z.number().int(),
  /** index of this draft token within its step (0-based) */
  index: z.number().int(),
  /** position of the token in the whole sequence (prompt included) */
  position: z.number().int(),
  tokenId: z.number().int(),
  text: z.string(),
  /** draft model's probability of this token; null when probabilities are not computed */
  draftProb: z.number().nullable(),
});

/** how a token tree was verified: one pass under a tree mask, or its root-to-leaf paths as batch rows */
export const TreeVerifyMode = z.enum(['mask', 'rows']);
export type TreeVerifyMode = z.infer<typeof TreeVerifyMode>;

export const Verdict = z.enum(['accepted', 'rejected', 'unchecked']);

/**
 * One node of a step's token tree, in the order the verify event lists them (depth by depth):
 * its parent's index in that list (-1: the pending token, the root), its token, the draft's
 * probability of it, and the target's verdict (rejected: a sibling the target checked and chose
 * against; unchecked: under a branch the target left).
 */
export const TreeNodeEvent = z.object({
  parent: z.number().int(),
  depth: z.number().int(),
  tokenId: z.number().int(),
  draftProb: z.number().nullable(),
  verdict: Verdict,
});
export type TreeNodeEvent = z.infer<typeof TreeNodeEvent>;

export const VerifyEvent = z.object({
  type: z.literal('verify'),
  runId: z.string(),
  step: z.number().int(),
  draftedTokenIds: z.array(z.number().int()),
  verdicts: z.array(Verdict),
  /** the target's token at each drafted position (its argmax, or its sample), then one past the drafts */
  targetTokenIds: z.array(z.number().int()),
  /** the target's probability of each drafted token; null when not computed */
  targetProbs: z.array(z.number()).nullable(),
  /** smallest gap between the target's top two logits among the checked positions */
  minLogitMargin: z.number(),
  /**
   * sampling only: the uniform draw u each checked draft was tested with (accepted when
   * u < min(1, p/q)), for the step detail view
   */
  draws: z.array(z.number()).optional(),
  /**
   * token trees only: the step's tree, node by node as draftedTokenIds lists them (verdicts
   * alike), and how it was verified. targetTokenIds then holds the target's token at each depth
   * of the accepted path and one past it.
   */
  tree: z.object({ verify: TreeVerifyMode, nodes: z.array(TreeNodeEvent) }).optional(),
});

export const EmitEvent = z.object({
  type: z.literal('emit'),
  runId: z.string(),
  step: z.number().int(),
  position: z.number().int(),
  tokenId: z.number().int(),
  text: z.string(),
  kind: EmitKind,
  draftProb: z.number().nullable(),
  targetProb: z.number().nullable(),
});

export const StepEndEvent = z.object({
  type: z.literal('step-end'),
  runId: z.string(),
  step: z.number().int(),
  metrics: RunMetrics,
});

export const RunEndEvent = z.object({
  type: z.literal('run-end'),
  runId: z.string(),
  metrics: RunMetrics,
  stopReason: StopReason,
  outputTokenIds: z.array(z.number().int()),
  outputText: z.string(),
});

export const EngineEvent = z.discriminatedUnion('type', [
  RunStartEvent,
  DraftEvent,
  VerifyEvent,
  EmitEvent,
  StepEndEvent,
  RunEndEvent,
]);
export type EngineEvent = z.infer<typeof EngineEvent>;
export type RunStartEvent = z.infer<typeof RunStartEvent>;
export type DraftEvent = z.infer<typeof DraftEvent>;
export type VerifyEvent = z.infer<typeof VerifyEvent>;
export type EmitEvent = z.infer<typeof EmitEvent>;
export type StepEndEvent = z.infer<typeof StepEndEvent>;
export type RunEndEvent = z.infer<typeof RunEndEvent>;
