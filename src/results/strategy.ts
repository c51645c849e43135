/**
 * A speculative run's strategy (which drafter proposes, which policy picks K), with the engine's
 * defaults filled in once: older records and baselines leave them out, and every table, chart,
 * label and formula reads them from here.
 */
import {
  DEFAULT_DRAFTER,
  DEFAULT_POLICY,
  type DraftPolicyName,
  type DrafterKind,
} from '../shared/decoding';

export interface Strategy {
  drafter: DrafterKind;
  policy: DraftPolicyName;
}

type HasStrategy = { drafter?: DrafterKind | null; policy?: DraftPolicyName | null };

export function strategyOf(row: HasStrategy): Strategy {
  return { drafter: row.drafter ?? DEFAULT_DRAFTER, policy: row.policy ?? DEFAULT_POLICY };
}

/** "model / fixed" */
export function strategyName(row: HasStrategy): string {
  const { drafter, policy } = strategyOf(row);
  return `${drafter} / ${policy}`;
}

/** the strategy Leviathan's theory describes: the draft model, a fixed K */
export const REFERENCE_STRATEGY = strategyName({});

/**
 * The runs that measure alpha, the per-token acceptance: speculative, K=1 (one draft per step),
 * drafted by the draft model itself (not at a controlled acceptance: that alpha was set, not
 * measured).
 */
export function measuresAlpha(
  row: HasStrategy & {
    mode: string;
    k: number | null;
    acceptanceTarget?: number | null;
    /** a token tree of depth 1 is no K=1 chain: its acceptance is per node */
    tree?: unknown;
  },
): boolean {
  return (
    row.mode === 'speculative' &&
    row.k === 1 &&
    row.tree === undefined &&
    strategyOf(row).drafter === DEFAULT_DRAFTER &&
    (row.acceptanceTarget ?? null) === null
  );
}
