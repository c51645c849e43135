/** Sweep results as flat records (RunRow): the CLI's JSON runs, the CSV rows and the app's rows. */
import {
  trialsText,
  type KvLocation,
  type ModelGraph,
  type Q4ComputeRan,
} from '../shared/decoding';
import { detectRepetition } from '../results/loops';
import type { ChatTemplateUse, RunRow } from '../shared/protocol';
import type { ModelPair } from '../core/model/pair';
import type { SweepRun } from '../core/experiment/sweep';

/**
 * what a sweep ran on, recorded with every run: the execution providers and what the probe
 * measured, where each cache lived, the graphs, the families, and what the prompt went through
 */
export interface Providers {
  target: string;
  draft: string | null;
  targetTrials: string | null;
  draftTrials: string | null;
  /** where each model's KV cache lived between passes */
  targetKv: KvLocation;
  draftKv: KvLocation | null;
  /** which graph each model ran */
  targetGraph: ModelGraph;
  draftGraph: ModelGraph | null;
  /** each model's family (config.json's model_type) and what the prompt went through */
  targetFamily: string;
  draftFamily: string | null;
  /** what each model's 4-bit products ran in; null for a model without them */
  targetQ4Compute: Q4ComputeRan | null;
  draftQ4Compute: Q4ComputeRan | null;
  chatTemplate: ChatTemplateUse;
}

export function pairProviders(pair: ModelPair): Providers {
  return {
    target: pair.target.lm.executionProvider,
    draft: pair.draft?.lm.executionProvider ?? null,
    targetTrials: trialsText(pair.target.lm.providerChoice),
    draftTrials: trialsText(pair.draft?.lm.providerChoice ?? null),
    targetKv: pair.target.lm.kvLocation,
    draftKv: pair.draft?.lm.kvLocation ?? null,
    targetGraph: pair.target.lm.graph,
    draftGraph: pair.draft?.lm.graph ?? null,
    targetFamily: pair.target.folder.config.modelType,
    draftFamily: pair.draft?.folder.config.modelType ?? null,
    targetQ4Compute: pair.target.lm.q4Compute,
    draftQ4Compute: pair.draft?.lm.q4Compute ?? null,
    chatTemplate: pair.chatTemplate,
  };
}

export function runRecord(run: SweepRun, providers?: Providers): RunRow {
  const m = run.metrics;
  return {
    runId: run.runId,
    mode: run.mode,
    k: run.k,
    repeat: run.repeat,
    promptIndex: run.promptIndex,
    timeS: m.timeS,
    newTokens: m.newTokens,
    targetPasses: m.targetPasses,
    draftPasses: m.draftPasses,
    verificationSteps: m.verificationSteps,
    draftedTokens: m.draftedTokens,
    acceptedTokens: m.acceptedTokens,
    corrections: m.corrections,
    bonuses: m.bonuses,
    acceptanceRate: m.acceptanceRate,
    tokensPerTargetPass: m.tokensPerTargetPass,
    speedup: run.speedup,
    identical: run.identical,
    stopReason: run.stopReason,
    targetRunS: m.targetRunS,
    draftRunS: m.draftRunS,
    queuedS: m.queuedS,
    transfer: m.transfer ?? null,
    policy: run.policy,
    drafter: run.drafter,
    kPerStep: run.kPerStep,
    acceptanceByPosition: run.acceptanceByPosition,
    acceptanceTarget: run.acceptanceTarget,
    ...(run.draftModelAgreement ? { draftModelAgreement: run.draftModelAgreement } : {}),
    meanAcceptanceLength: run.meanAcceptanceLength,
    acceptedPerStepHistogram: run.acceptedPerStepHistogram,
    draftTokensTested: run.draftTokensTested,
    timeSplit: run.timeSplit,
    ...(run.tree ? { tree: run.tree } : {}),
    repetition: detectRepetition(run.outputTokenIds),
    ...(providers
      ? {
          targetProvider: providers.target,
          draftProvider: providers.draft,
          targetProviderTrials: providers.targetTrials,
          draftProviderTrials: providers.draftTrials,
          targetKvLocation: providers.targetKv,
          draftKvLocation: providers.draftKv,
          targetGraph: providers.targetGraph,
          draftGraph: providers.draftGraph,
          targetFamily: providers.targetFamily,
          draftFamily: providers.draftFamily,
          targetQ4Compute: providers.targetQ4Compute,
          draftQ4Compute: providers.draftQ4Compute,
          chatTemplate: providers.chatTemplate,
        }
      : {}),
    outputText: run.outputText,
    outputTokenIds: run.outputTokenIds,
  };
}
