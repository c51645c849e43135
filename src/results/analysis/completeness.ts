/**
 * What the settings planned against what finished: lets the analysis name what a partial sweep
 * (cancelled, failed, still running) is missing.
 */
import { strategyName } from '../strategy';
import type { RunRow } from '../../shared/protocol';
import type { AnalysisSettings, Configuration } from './types';
import { configurationLabel } from './words';

/** The configurations the settings plan, with the runs each should have. */
function plannedConfigs(settings: AnalysisSettings): Configuration[] {
  const none = { k: null, drafter: null, policy: null, acceptanceTarget: null };
  const out: Configuration[] = [
    { mode: 'baseline', ...none },
    ...(settings.noKvCache ? [{ mode: 'baseline-no-cache' as const, ...none }] : []),
  ];
  // each controlled acceptance target runs every K of every strategy (sweep.ts's plan)
  for (const acceptanceTarget of settings.acceptance ?? [null])
    for (const drafter of settings.drafters)
      for (const policy of settings.policies)
        for (const k of settings.ks)
          out.push({ mode: 'speculative', k, drafter, policy, acceptanceTarget });
  return out;
}

const planKey = (r: Configuration): string =>
  r.mode === 'speculative'
    ? `spec:${strategyName(r)}:${r.k}${r.acceptanceTarget != null ? `:a${r.acceptanceTarget}` : ''}`
    : r.mode;

export interface Completeness {
  runsPlanned: number;
  /** configurations with fewer runs than planned, e.g. "K=8 (0 of 3 runs)" */
  missing: string[];
  /** the settings ask for more than one drafter / policy */
  plannedStrategies: boolean;
}

export function completenessOf(
  rows: readonly RunRow[],
  settings: AnalysisSettings,
  promptCount: number,
): Completeness {
  const planned = plannedConfigs(settings);
  const perConfig = settings.repeats * promptCount;
  const done = new Map<string, number>();
  for (const r of rows) done.set(planKey(r), (done.get(planKey(r)) ?? 0) + 1);
  const plannedStrategies = settings.drafters.length * settings.policies.length > 1;
  const missing = planned
    .filter((p) => (done.get(planKey(p)) ?? 0) < perConfig)
    .map((p) => {
      const name = configurationLabel(p, plannedStrategies);
      return `${name} (${done.get(planKey(p)) ?? 0} of ${perConfig} run${perConfig === 1 ? '' : 's'})`;
    });
  return { runsPlanned: planned.length * perConfig, missing, plannedStrategies };
}
