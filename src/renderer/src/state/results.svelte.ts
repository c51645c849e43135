/** The rows the table and charts show: the current sweep's, or a saved sweep picked in history. */
import type { RunRow, Theory } from '../../../shared/protocol';
import {
  bestRow,
  comparesStrategies,
  maxRepeats,
  summarizeByPrompt,
  summarizeRows,
  type SummaryRow,
} from '../../../results/summary';
import type { Overlay } from '../lib/chartData';
import { historyTitle, type HistoryState } from './history.svelte';
import type { SweepState } from './sweep.svelte';

export class ResultsState {
  private readonly sweep: SweepState;
  private readonly history: HistoryState;

  readonly summary: SummaryRow[] = $derived(summarizeRows(this.rows));
  readonly best: SummaryRow | null = $derived(bestRow(this.summary));
  /** the most runs summarized in one row (repeats x prompts) */
  readonly repeats: number = $derived(maxRepeats(this.summary));
  /** the rows hold more than one drafter or policy: labels name them */
  readonly withStrategy: boolean = $derived(comparesStrategies(this.rows));
  /** each prompt's own summary, in prompt order */
  readonly byPrompt: Array<{ promptIndex: number; rows: SummaryRow[] }> = $derived(
    summarizeByPrompt(this.rows),
  );

  /** saved sweeps ticked for overlay, but not the one shown */
  readonly overlays: Overlay[] = $derived(this.overlaid());

  constructor(sweep: SweepState, history: HistoryState) {
    this.sweep = sweep;
    this.history = history;
  }

  private overlaid(): Overlay[] {
    return this.history.overlays
      .filter((e) => e.id !== this.history.entry?.id)
      .map((e) => ({ label: historyTitle(e), summary: summarizeRows(e.rows) }));
  }

  get source(): 'sweep' | 'history' {
    return this.history.entry ? 'history' : 'sweep';
  }

  get rows(): readonly RunRow[] {
    return this.history.entry?.rows ?? this.sweep.rows;
  }

  /** the prompt set the rows were made from */
  get prompts(): readonly string[] {
    return (this.history.entry?.settings ?? this.sweep.settings)?.prompts ?? [];
  }

  /** Leviathan's prediction for the sweep shown (null while it runs, or without a K=1 run) */
  get theory(): Theory | null {
    return this.history.entry ? this.history.entry.theory : this.sweep.theory;
  }
}
