/**
 * The rows the table and charts show: the current sweep's, or a saved sweep picked in history;
 * and that sweep as the analysis and the CSV export see it.
 */
import type { AnalysisInput } from '../../../results/analysis';
import type { RunRow, SweepSettings, Theory } from '../../../shared/protocol';
import {
  badgeRow,
  bestOf,
  comparesStrategies,
  type BestChoice,
  maxRepeats,
  summarizeByPrompt,
  summarizeRows,
  type SummaryRow,
} from '../../../results/summary';
import {
  acceptanceGrid,
  type AcceptanceGrid,
  type GridCosts,
} from '../../../results/acceptanceGrid';
import type { PairAlphaMemory } from './pairAlpha.svelte';
import { historyAnalysisInput, sweepAnalysisInput } from '../lib/analysisInput';
import type { Overlay } from '../lib/chartData';
import type { DownloadState } from './download.svelte';
import { historyTitle, type HistoryState } from './history.svelte';
import type { SweepState } from './sweep.svelte';

/** the embedded pair's names, from the host's ready message */
export interface EmbeddedPair {
  target: string;
  draft: string;
}

/** a sweep as the analysis and the CSV see it, with the settings it ran with */
export type ShownSweep = AnalysisInput & { settings: SweepSettings };

export class ResultsState {
  private readonly sweep: SweepState;
  private readonly history: HistoryState;
  private readonly download: DownloadState;
  private readonly embeddedPair: () => EmbeddedPair | null;
  private readonly pairAlpha: PairAlphaMemory;

  readonly summary: SummaryRow[] = $derived(summarizeRows(this.rows));
  /** the verdict every part shows: the fastest configuration, its ties, the baseline beaten or not */
  readonly verdict: BestChoice | null = $derived(bestOf(this.summary));
  /** the row with the Best badge: the verdict's, only when it beat the baseline */
  readonly best: SummaryRow | null = $derived(badgeRow(this.summary));
  /** the most runs summarized in one row (repeats x prompts) */
  readonly repeats: number = $derived(maxRepeats(this.summary));
  /** the rows hold more than one drafter or policy: labels name them */
  readonly withStrategy: boolean = $derived(comparesStrategies(this.rows));
  /** each prompt's own summary, in prompt order */
  readonly byPrompt: Array<{ promptIndex: number; rows: SummaryRow[] }> = $derived(
    summarizeByPrompt(this.rows),
  );

  /**
   * the K x alpha picture when the sweep shown has controlled acceptance targets (computed in
   * src/results/acceptanceGrid.ts; the heat map only draws it), else null
   */
  readonly acceptanceGrid: AcceptanceGrid | null = $derived(
    this.rows.some((r) => r.acceptanceTarget != null)
      ? acceptanceGrid(this.rows, this.costs, { pairAlpha: this.knownPairAlpha })
      : null,
  );

  /** saved sweeps ticked for overlay, but not the one shown */
  readonly overlays: Overlay[] = $derived(this.overlaid());

  constructor(
    sweep: SweepState,
    history: HistoryState,
    download: DownloadState,
    embeddedPair: () => EmbeddedPair | null,
    pairAlpha: PairAlphaMemory,
  ) {
    this.pairAlpha = pairAlpha;
    this.sweep = sweep;
    this.history = history;
    this.download = download;
    this.embeddedPair = embeddedPair;
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

  /** the pair's measured costs for the sweep shown: its own, else its theory's (c, v) */
  get costs(): GridCosts | null {
    const entry = this.history.entry;
    if (entry) return entry.costs ?? entry.theory;
    return this.sweep.costs ?? this.sweep.theory;
  }

  /** the pair's alpha measured by this sweep or an earlier one of the same pair, or null */
  private get knownPairAlpha(): number | null {
    const entry = this.history.entry;
    const settings = entry?.settings ?? this.sweep.settings;
    return (entry ? entry.theory : this.sweep.theory)?.alpha ?? this.pairAlpha.of(settings?.pair);
  }

  /** The sweep shown (a history entry, or the current sweep) as the analysis and CSV see it. */
  get shown(): ShownSweep | null {
    const entry = this.history.entry;
    if (entry) return { ...historyAnalysisInput(entry), settings: entry.settings };
    const { sweep, download } = this;
    if (!sweep.settings) return null;
    const loaded = download.owns(sweep.requestId) ? download.loaded : null;
    const input = sweepAnalysisInput({
      settings: sweep.settings,
      rows: sweep.rows,
      theory: sweep.theory,
      status: sweep.status,
      loaded: loaded ? { target: loaded.target.name, draft: loaded.draft.name } : null,
      embedded: this.embeddedPair(),
    });
    return { ...input, settings: sweep.settings };
  }
}
