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
import { seededRandom, type residualSample, type SamplingParams } from '../sampling';
import type { Drafter } from './drafters/drafter';
import type { OracleSettings } from './drafters/oracleDrafter';
import type { DraftModelAgreement } from '../../../shared/events';
import type { DraftLengthPolicy } from './policies/policy';
import {
  checkAcceptance,
  checkCompatible,
  checkK,
  checkOracleCompatible,
  DRAFTER_REGISTRY,
  ORACLE_DRAFTER,
  POLICY_REGISTRY,
} from './registry';
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
  /**
   * Controlled acceptance: the model drafter's proposals replaced by the oracle drafter's at this
   * target, from the baseline of the same prompt and repeat (absent: real drafting).
   */
  oracle?: OracleSettings;
}

export interface SpeculationStrategy {
  policyName: DraftPolicyName;
  drafterKind: DrafterKind;
  /** A when the oracle drafts (controlled acceptance), null for real drafting */
  acceptanceTarget: number | null;
  /** the oracle's count of the draft model's own agreement with the target; null without it */
  draftModelAgreement: (() => DraftModelAgreement) | null;
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
  oracle: OracleSettings | null;
}

/** What the run sets up that its strategy uses (DecodeRun makes them). */
export interface RunControls {
  reportProbabilities: boolean;
  sampling: SamplingParams | null;
  /** null when off */
  repetition: RepetitionParams | null;
  /** the run's seeded random source, shared by a sampling drafter and the verifier */
  random: () => number;
  /** the prompt's tokens (the oracle's reference starts with them) */
  promptTokenIds: readonly number[];
}

/** Check K and the choices (each strategy's own needs) against the pair; throws what cannot run. */
export function planStrategy(
  pair: ModelPair,
  k: number,
  settings: StrategySettings & { sampling?: SamplingParams | undefined },
): StrategyPlan {
  checkK(k);
  const policyName = settings.policy ?? DEFAULT_POLICY;
  const drafterKind = settings.drafter ?? DEFAULT_DRAFTER;
  const lengths = POLICY_REGISTRY[policyName].create(k, settings.pMin ?? DEFAULT_P_MIN);
  checkCompatible(policyName, drafterKind);
  if (settings.oracle) {
    checkAcceptance(settings.oracle.acceptance);
    checkOracleCompatible(policyName, drafterKind, settings.sampling !== undefined);
  }
  if (DRAFTER_REGISTRY[drafterKind].traits.needsDraftModel && !pair.draft) {
    throw new SpecDecError('BAD_ARGUMENT', 'Speculative decoding needs a draft model.');
  }
  return {
    policyName,
    drafterKind,
    lengths,
    residual: settings.residual,
    oracle: settings.oracle ?? null,
  };
}

/** The run's strategy: its drafter, its policy, and greedy or rejection-sampling verification. */
export function buildStrategy(
  plan: StrategyPlan,
  pair: ModelPair,
  run: RunControls,
): SpeculationStrategy {
  const inputs = {
    draftLm: pair.draft?.lm ?? null,
    eosTokenIds: pair.eosTokenIds,
    repetition: run.repetition,
  };
  const { oracle } = plan;
  const oracleDrafter = oracle
    ? ORACLE_DRAFTER.create(inputs, {
        acceptance: oracle.acceptance,
        reference: [...run.promptTokenIds, ...oracle.baselineTokenIds],
        // its own draws: the sampling random source stays the run's alone
        random: seededRandom(oracle.seed),
      })
    : null;
  const drafter = oracleDrafter ?? DRAFTER_REGISTRY[plan.drafterKind].create(inputs);
  const verifier = run.sampling
    ? new RejectionSamplingVerifier(run.sampling, run.random, plan.residual)
    : new GreedyVerifier(run.reportProbabilities);
  return {
    policyName: plan.policyName,
    drafterKind: plan.drafterKind,
    acceptanceTarget: oracle?.acceptance ?? null,
    draftModelAgreement: oracleDrafter ? () => oracleDrafter.draftModelAgreement() : null,
    drafter,
    lengths: plan.lengths,
    verifier,
  };
}
