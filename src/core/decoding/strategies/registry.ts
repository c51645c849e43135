/**
 * Every speculation strategy by the name the settings use, with what each declares about
 * itself, so that settings can be checked before any model is loaded (factory.ts builds them).
 */
import type { DraftPolicyName, DrafterKind } from '../../../shared/decoding';
import { MAX_K } from '../../../shared/limits';
import { SpecDecError } from '../../errors';
import type { OnnxCausalLM } from '../../model/causalLm';
import type { RepetitionParams } from '../repetition';
import type { Drafter, DrafterTraits } from './drafters/drafter';
import { ModelDrafter } from './drafters/modelDrafter';
import { OracleDrafter, type OracleSettings } from './drafters/oracleDrafter';
import { PromptLookupDrafter } from './drafters/promptLookup';
import { ConfidenceDraftLength } from './policies/confidence';
import { FixedDraftLength } from './policies/fixed';
import { HeuristicDraftLength } from './policies/heuristic';
import type { DraftLengthPolicy, PolicyTraits } from './policies/policy';

/** What a drafter is made from: the pair's draft model (when it has one) and the run's controls. */
export interface DrafterInputs {
  draftLm: OnnxCausalLM | null;
  eosTokenIds: readonly number[];
  /** null when off */
  repetition: RepetitionParams | null;
}

interface DrafterEntry {
  traits: DrafterTraits;
  /** `draftLm` is there when `traits.needsDraftModel` (checked before) */
  create(inputs: DrafterInputs): Drafter;
}

interface PolicyEntry {
  traits: PolicyTraits;
  /** K caps every policy; `pMin` is the confidence policy's threshold */
  create(k: number, pMin: number): DraftLengthPolicy;
}

export const DRAFTER_REGISTRY: Record<DrafterKind, DrafterEntry> = {
  model: {
    traits: ModelDrafter.traits,
    create: ({ draftLm, eosTokenIds, repetition }) =>
      new ModelDrafter(draftLm!, eosTokenIds, repetition),
  },
  'prompt-lookup': {
    traits: PromptLookupDrafter.traits,
    create: () => new PromptLookupDrafter(),
  },
};

/**
 * Controlled acceptance: the model drafter's passes with each proposal replaced (the oracle
 * drafter). Not a drafter of its own name: a sweep's model-drafter runs become oracle runs at each
 * acceptance target asked for, and the runs say so (`acceptanceTarget`).
 */
export const ORACLE_DRAFTER = {
  traits: OracleDrafter.traits,
  /** `reference`: the prompt then the baseline's output; `random`: one draw per drafted position */
  create: (
    { draftLm, eosTokenIds, repetition }: DrafterInputs,
    oracle: Pick<OracleSettings, 'acceptance'> & {
      reference: readonly number[];
      random: () => number;
    },
  ): OracleDrafter =>
    new OracleDrafter({
      modelDrafter: (replace) => new ModelDrafter(draftLm!, eosTokenIds, repetition, replace),
      endsText: (tokenId) => eosTokenIds.includes(tokenId),
      ...oracle,
    }),
};

export const POLICY_REGISTRY: Record<DraftPolicyName, PolicyEntry> = {
  fixed: { traits: FixedDraftLength.traits, create: (k) => new FixedDraftLength(k) },
  heuristic: { traits: HeuristicDraftLength.traits, create: (k) => new HeuristicDraftLength(k) },
  confidence: {
    traits: ConfidenceDraftLength.traits,
    create: (k, pMin) => new ConfidenceDraftLength(k, pMin),
  },
};

export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < 1 || k > MAX_K) {
    throw new SpecDecError(
      'K_OUT_OF_RANGE',
      `K (draft length) must be a whole number from 1 to ${MAX_K} (got ${k}).`,
    );
  }
}

/**
 * Refuse a policy and a drafter that cannot run together, from what each declares: a policy
 * that reads the drafter's probabilities needs a drafter that has them (else it would silently
 * draft as the fixed policy under its own name).
 */
export function checkCompatible(policy: DraftPolicyName, drafter: DrafterKind): void {
  const reads = POLICY_REGISTRY[policy].traits.readsDraftProbabilities;
  const drafterTraits = DRAFTER_REGISTRY[drafter].traits;
  if (reads === null || drafterTraits.hasProbabilities) return;
  const drafters = Object.values(DRAFTER_REGISTRY)
    .filter((d) => d.traits.hasProbabilities)
    .map((d) => d.traits.label);
  const policies = (Object.keys(POLICY_REGISTRY) as DraftPolicyName[]).filter(
    (p) => POLICY_REGISTRY[p].traits.readsDraftProbabilities === null,
  );
  throw new SpecDecError(
    'BAD_ARGUMENT',
    `The ${policy} policy ${reads}, which ${drafterTraits.label} does not have. Compare ${policy} with ${listed(drafters)} only, or ${drafterTraits.label} with the ${listed(policies)} policies, in separate sweeps.`,
  );
}

/** "a", "a and b", "a, b and c" */
function listed(words: readonly string[]): string {
  return words.length <= 1
    ? (words[0] ?? '')
    : `${words.slice(0, -1).join(', ')} and ${words[words.length - 1]!}`;
}

/** An acceptance target A: the share of drafted positions whose token is the target's. */
export function checkAcceptance(acceptance: number): void {
  if (!(acceptance > 0 && acceptance < 1)) {
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `An acceptance target must be between 0 and 1, both excluded (got ${acceptance}): at 0 nothing is accepted and at 1 every draft is, so neither measures a rate.`,
    );
  }
}

/**
 * Refuse what controlled acceptance cannot run with, from what each side declares: a drafter
 * without the draft model has no passes to keep, a policy that reads the draft's probabilities
 * would read them of tokens the oracle replaced, and a sampled target's choice is a draw the
 * baseline does not tell.
 */
export function checkOracleCompatible(
  policy: DraftPolicyName,
  drafter: DrafterKind,
  sampling: boolean,
): void {
  const oracle = ORACLE_DRAFTER.traits;
  const base = DRAFTER_REGISTRY[drafter].traits;
  if (!base.needsDraftModel) {
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `Controlled acceptance keeps the draft model's passes and replaces what it proposes; ${base.label} makes no draft-model passes. Sweep ${base.label} without an acceptance target, in a separate sweep.`,
    );
  }
  const reads = POLICY_REGISTRY[policy].traits.readsDraftProbabilities;
  if (reads !== null && !oracle.hasProbabilities) {
    const policies = (Object.keys(POLICY_REGISTRY) as DraftPolicyName[]).filter(
      (p) => POLICY_REGISTRY[p].traits.readsDraftProbabilities === null,
    );
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `The ${policy} policy ${reads}, which ${oracle.label} does not have: its tokens are not the draft model's own. Use the ${listed(policies)} policies with an acceptance target.`,
    );
  }
  if (sampling && oracle.greedyOnly) {
    throw new SpecDecError(
      'BAD_ARGUMENT',
      `Controlled acceptance needs greedy decoding: ${oracle.label} ${oracle.greedyOnly}. Set the temperature to 0, or sweep without an acceptance target.`,
      ['temperature'],
    );
  }
}
