/**
 * One place that turns a speculative run's settings into its strategy (as Hugging Face's
 * `_get_candidate_generator` does): the drafter, the draft-length policy and the verifier.
 */
import {
  DEFAULT_DRAFTER,
  DEFAULT_POLICY,
  type DraftPolicyName,
  type DrafterKind,
} from '../../../shared/decoding';
import { DEFAULT_P_MIN } from '../../../shared/defaults';
import { SpecDecError } from '../../errors';
import type { ModelPair } from '../../model/pair';
import type { RepetitionParams } from '../repetition';
import type { residualSample, SamplingParams } from '../sampling';
import type { Drafter } from './drafters/drafter';
import type { DraftLengthPolicy } from './policies/policy';
import { checkCompatible, checkK, DRAFTER_REGISTRY, POLICY_REGISTRY } from './registry';
import { GreedyVerifier } from './verifiers/greedy';
import { RejectionSamplingVerifier } from './verifiers/rejectionSampling';
import type { Verifier } from './verifiers/verifier';

export interface StrategySettings {
  /** how many tokens to draft per step (default fixed K; K is the cap of the others) */
  policy?: DraftPolicyName;
  /** the confidence policy's threshold on the draft's probability */
  pMin?: number;
  drafter?: DrafterKind;
  /**
   * The draw after a rejection; only the statistical test replaces it (with a broken one, to
   * show that the test notices).
   */
  residual?: typeof residualSample;
}

export interface SpeculationStrategy {
  policyName: DraftPolicyName;
  drafterKind: DrafterKind;
  drafter: Drafter;
  lengths: DraftLengthPolicy;
  verifier: Verifier;
}

/** The settings checked against the pair, before the run is made. */
export interface StrategyPlan {
  policyName: DraftPolicyName;
  drafterKind: DrafterKind;
  lengths: DraftLengthPolicy;
  residual: typeof residualSample | undefined;
}

/** What the run sets up that its strategy uses (DecodeRun makes them). */
export interface RunControls {
  reportProbabilities: boolean;
  sampling: SamplingParams | null;
  /** null when off */
  repetition: RepetitionParams | null;
  /** the run's seeded random source, shared by a sampling drafter and the verifier */
  random: () => number;
}

/** Check K and the choices (each strategy's own needs) against the pair; throws what cannot run. */
export function planStrategy(pair: ModelPair, k: number, settings: StrategySettings): StrategyPlan {
  checkK(k);
  const policyName = settings.policy ?? DEFAULT_POLICY;
  const drafterKind = settings.drafter ?? DEFAULT_DRAFTER;
  const lengths = POLICY_REGISTRY[policyName].create(k, settings.pMin ?? DEFAULT_P_MIN);
  checkCompatible(policyName, drafterKind);
  if (DRAFTER_REGISTRY[drafterKind].traits.needsDraftModel && !pair.draft) {
    throw new SpecDecError('BAD_ARGUMENT', 'Speculative decoding needs a draft model.');
  }
  return { policyName, drafterKind, lengths, residual: settings.residual };
}

/** The run's strategy: its drafter, its policy, and greedy or rejection-sampling verification. */
export function buildStrategy(
  plan: StrategyPlan,
  pair: ModelPair,
  run: RunControls,
): SpeculationStrategy {
  const drafter = DRAFTER_REGISTRY[plan.drafterKind].create({
    draftLm: pair.draft?.lm ?? null,
    eosTokenIds: pair.eosTokenIds,
    repetition: run.repetition,
  });
  const verifier = run.sampling
    ? new RejectionSamplingVerifier(run.sampling, run.random, plan.residual)
    : new GreedyVerifier(run.reportProbabilities);
  return {
    policyName: plan.policyName,
    drafterKind: plan.drafterKind,
    drafter,
    lengths: plan.lengths,
    verifier,
  };
}
