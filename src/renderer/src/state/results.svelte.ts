/** The rows the table and charts show: the current sweep's, or a saved sweep picked in history. */
import type { RunRow } from '../../../shared/protocol';
import { bestRow, maxRepeats, summarizeRows, type SummaryRow } from '../../../shared/summary';
import type { HistoryState } from './history.svelte';
import type { SweepState } from './sweep.svelte';

export class ResultsState {
  private readonly sweep: SweepState;
  private readonly history: HistoryState;

  readonly summary: SummaryRow[] = $derived(summarizeRows(this.rows));
  readonly best: SummaryRow | null = $derived(bestRow(this.summary));
  readonly repeats: number = $derived(maxRepeats(this.summary));

  constructor(sweep: SweepState, history: HistoryState) {
    this.sweep = sweep;
    this.history = history;
  }

  get source(): 'sweep' | 'history' {
    return this.history.entry ? 'history' : 'sweep';
  }

  get rows(): readonly RunRow[] {
    return this.history.entry?.rows ?? this.sweep.rows;
  }
}
