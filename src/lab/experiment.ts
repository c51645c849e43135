/**
 * The experiment, once for the CLI and the engine host: the sweep over a loaded pair, every run
 * as a RunRow, then the pair's costs measured on the same models and the theory beside the
 * measurement. Only how progress is shown differs between them (the hooks).
 */
import type { RunRow } from '../shared/protocol';
import { predictFromSweep, type SweepTheory } from '../results/theory';
import type { ModelPair } from '../core/model/pair';
import { measureCosts, type PairCosts } from '../core/experiment/costRatio';
import { pairProviders, runRecord } from './runRows';
import {
  runSweep,
  type SweepConfig,
  type SweepHooks,
  type SweepRun,
} from '../core/experiment/sweep';

export interface ExperimentHooks extends Omit<SweepHooks, 'onRunEnd'> {
  /** a finished run, and its row as every surface records it */
  onRunEnd?(run: SweepRun, row: RunRow): void;
}

export interface ExperimentResult {
  runs: SweepRun[];
  rows: RunRow[];
  cancelled: boolean;
  /** null when the sweep was cancelled or drafted without the draft model */
  costs: PairCosts | null;
  theory: SweepTheory | null;
}

export async function runExperiment(
  pair: ModelPair,
  config: SweepConfig,
  hooks: ExperimentHooks = {},
  signal?: AbortSignal,
): Promise<ExperimentResult> {
  const providers = pairProviders(pair);
  const rows: RunRow[] = [];
  // a tree run's acceptance by draft rank comes with it (observed beside its loop, runStats.ts)
  const result = await runSweep(
    pair,
    config,
    {
      ...hooks,
      onRunEnd: (run) => {
        const row = runRecord(run, providers);
        rows.push(row);
        hooks.onRunEnd?.(run, row);
      },
    },
    signal,
  );
  const measure =
    !result.cancelled && pair.draft && (config.drafters ?? ['model']).includes('model');
  const costs = measure ? await measureCosts(pair.target.lm, pair.draft!.lm, config.ks) : null;
  const theory = predictFromSweep(rows, costs?.c ?? null, costs?.verifyCost);
  return { runs: result.runs, rows, cancelled: result.cancelled, costs, theory };
}
