/** What a finished (or cancelled) sweep hands to its outputs: the files, the JSON and the tables. */
import type { SweepConfig } from '../../core/experiment/sweep';
import type { OpenedPair } from '../../core/hub/openPair';
import type { ExperimentResult } from '../../lab/experiment';
import type { Providers } from '../../lab/runRows';
import type { SweepCliOptions } from './options';

export interface SweepOutcome {
  opts: SweepCliOptions;
  prompts: readonly string[];
  /** what ran (src/lab/runPlan.ts) */
  config: SweepConfig;
  /** the pair as loaded: names, sources, providers */
  opened: OpenedPair;
  /** what each model ran on, read while the pair was loaded */
  providers: Providers;
  result: ExperimentResult;
}
