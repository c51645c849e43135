/**
 * The run chosen in the Run selector (or streaming) as a finished row of the sweep on show: the
 * engines' metrics panel reads its histogram, acceptance by position and counts from here.
 */
import type { RunRow } from '../../../shared/protocol';
import type { ReplayState } from './replay.svelte';
import type { ResultsState } from './results.svelte';
import type { RunStore } from './runs.svelte';

export class ChosenRunState {
  private readonly replay: ReplayState;
  private readonly results: ResultsState;
  private readonly runs: RunStore;

  /** the chosen run's row; null while it runs, or when it is not a run of the sweep on show */
  readonly row: RunRow | null = $derived.by(() => {
    const runId = this.replay.runId;
    return runId === null ? null : (this.results.rows.find((r) => r.runId === runId) ?? null);
  });

  constructor(replay: ReplayState, results: ResultsState, runs: RunStore) {
    this.replay = replay;
    this.results = results;
    this.runs = runs;
  }

  /** the chosen run's label in the selector ("K=4 alpha 0.8, repeat 2"), or null */
  get label(): string | null {
    const runId = this.replay.runId;
    if (runId === null) return null;
    return (
      this.runs.selectable.find((c) => c.runId === runId)?.label ??
      this.runs.get(runId)?.label ??
      null
    );
  }

  /** a run is on screen but has no row here (it still runs, or belongs to another sweep) */
  get pending(): boolean {
    return this.replay.runId !== null && this.row === null;
  }
}
