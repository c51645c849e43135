/**
 * Saving what is on screen as files: the table (one row per configuration) and the runs (one row
 * per run) of the sweep shown, the step CSV of the run in the stream, and the analysis report; a
 * save that fails or is refused says so.
 */
import { runsCsv } from '../../../results/runsCsv';
import { summaryCsv } from '../../../results/summaryCsv';
import { stepsCsv, type StepRunId } from '../lib/csv';
import { fileStamp } from '../lib/format';
import type { ReplayState } from './replay.svelte';
import type { ResultsState } from './results.svelte';
import type { RunStore } from './runs.svelte';

export class ExportState {
  /** a save failed or was refused */
  message = $state<string | null>(null);
  private readonly results: ResultsState;
  private readonly logs: RunStore;
  private readonly replay: ReplayState;
  private readonly saveText: (name: string, text: string) => Promise<unknown>;

  constructor(
    results: ResultsState,
    runs: RunStore,
    replay: ReplayState,
    saveText: (name: string, text: string) => Promise<unknown>,
  ) {
    this.results = results;
    this.logs = runs;
    this.replay = replay;
    this.saveText = saveText;
  }

  /** the exercise's table of the sweep shown, one row per configuration (the CLI's --summary-csv) */
  async table(): Promise<void> {
    const shown = this.results.shown;
    if (!shown || shown.rows.length === 0) return;
    await this.save(`specdec-table-${fileStamp()}.csv`, summaryCsv(shown.rows));
  }

  /** every run of the sweep shown, one row each, as the CLI's --csv writes it */
  async runs(): Promise<void> {
    const shown = this.results.shown;
    if (!shown || shown.rows.length === 0) return;
    const { pair, sampling, repetition } = shown.settings;
    const csv = runsCsv(shown.rows, {
      prompts: shown.prompts,
      models: shown.models,
      dtypes: { target: pair.target.dtype, draft: pair.draft.dtype },
      sampling,
      repetition: repetition ?? null,
    });
    await this.save(`specdec-runs-${fileStamp()}.csv`, csv);
  }

  /** every step of the run on screen */
  async steps(): Promise<void> {
    const log = this.logs.get(this.replay.runId);
    if (!log) return;
    const name = log.label
      .replace(/[^\w-]+/g, '-')
      .replace(/^-|-$/g, '')
      .toLowerCase();
    // the run as the runs CSV names it: its row once it finished, else what its start said
    const shown = this.results.shown;
    const row = shown?.rows.find((r) => r.runId === log.start.runId);
    const promptIndex = row?.promptIndex ?? null;
    const run: StepRunId = {
      promptIndex,
      prompt: log.start.promptText,
      target: shown?.models.target ?? log.start.models.target,
      draft: log.start.models.draft ? (shown?.models.draft ?? log.start.models.draft) : null,
      mode: log.start.mode,
      k: log.start.k,
      policy: row?.policy ?? null,
      drafter: row?.drafter ?? null,
      repeat: row?.repeat ?? null,
    };
    await this.save(`specdec-steps-${name}-${fileStamp()}.csv`, stepsCsv(log.events, run));
  }

  /** The analysis report, as built by the analysis panel (charts embedded as PNG data URIs). */
  async analysis(markdown: string): Promise<void> {
    await this.save(`specdec-analysis-${fileStamp()}.md`, markdown);
  }

  private async save(name: string, text: string): Promise<void> {
    this.message = null;
    try {
      await this.saveText(name, text);
    } catch (err) {
      this.message = `Could not save ${name}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }
}
