/**
 * What the analysis needs, from the sweep shown: the current one (its settings, status, the
 * theory from sweep-done and the models the engine loaded) or a saved history entry.
 */
import type { AnalysisInput, SweepOutcome } from '../../../results/analysis';
import type { HistoryEntry, RunRow, SweepSettings, Theory } from '../../../shared/protocol';

export function analysisSettings(settings: SweepSettings): AnalysisInput['settings'] {
  return {
    maxNewTokens: settings.maxNewTokens,
    ks: settings.ks,
    repeats: settings.repeats,
    policies: settings.policies,
    drafters: settings.drafters,
    // the app never runs the cache-less baseline
    noKvCache: false,
    sampling: settings.sampling,
  };
}

export function historyAnalysisInput(entry: HistoryEntry): AnalysisInput {
  return {
    rows: entry.rows,
    theory: entry.theory,
    prompts: entry.settings.prompts,
    models: entry.models,
    settings: analysisSettings(entry.settings),
    status: entry.status,
  };
}

export interface CurrentSweep {
  settings: SweepSettings;
  rows: readonly RunRow[];
  theory: Theory | null;
  status: 'idle' | SweepOutcome;
  /** the names the engine loaded, when it said */
  loaded: { target: string; draft: string } | null;
  /** the embedded pair's names, for a model chosen as "embedded" (source null) */
  embedded: { target: string; draft: string } | null;
}

export function sweepAnalysisInput(sweep: CurrentSweep): AnalysisInput {
  const { pair } = sweep.settings;
  const name = (role: 'target' | 'draft'): string =>
    sweep.loaded?.[role] ?? pair[role].source ?? sweep.embedded?.[role] ?? `embedded ${role}`;
  return {
    rows: sweep.rows,
    theory: sweep.theory,
    prompts: sweep.settings.prompts,
    models: { target: name('target'), draft: name('draft') },
    settings: analysisSettings(sweep.settings),
    status: sweep.status === 'idle' ? 'finished' : sweep.status,
  };
}
