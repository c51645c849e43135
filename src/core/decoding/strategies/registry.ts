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
