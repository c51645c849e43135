/**
 * The history panel's requests: listing, opening, renaming, deleting and overlaying saved sweeps.
 * A saved sweep opened joins the run selector with its runs, and its best one is replayed.
 */
import type { HistoryEntry, HostRequest } from '../../../shared/protocol';
import { bestOf, comparesStrategies, groupKey, summarizeRows } from '../../../results/summary';
import { newRequestId } from '../lib/ids';
import { historyTitle, type HistoryState } from './history.svelte';
import type { RunFetch } from './runFetch.svelte';
import { runConfig, runLabel, SAVED, type RunStore } from './runs.svelte';

export class HistoryCoordinator {
  private readonly history: HistoryState;
  private readonly runs: RunStore;
  private readonly runFetch: RunFetch;
  private readonly send: (request: HostRequest) => void;

  constructor(
    history: HistoryState,
    runs: RunStore,
    runFetch: RunFetch,
    send: (request: HostRequest) => void,
  ) {
    this.history = history;
    this.runs = runs;
    this.runFetch = runFetch;
    this.send = send;
  }

  refresh(): void {
    const requestId = newRequestId('history');
    this.history.requestList(requestId);
    this.send({ type: 'history-list', requestId });
  }

  open(id: string): void {
    this.history.error = null;
    const requestId = newRequestId('history');
    this.history.requestEntry(requestId, id);
    this.send({ type: 'history-get', requestId, id });
  }

  /** Show the current sweep again: the saved sweep's runs leave the run selector. */
  showCurrentSweep(): void {
    this.history.closeEntry();
    this.runs.saved = [];
  }

  rename(id: string, name: string): void {
    const requestId = newRequestId('history');
    this.history.error = null;
    this.history.track(requestId, id);
    this.send({ type: 'history-rename', requestId, id, name });
  }

  delete(id: string): void {
    const requestId = newRequestId('history');
    this.history.error = null;
    this.history.track(requestId, id);
    this.history.setOverlay(id, false);
    this.send({ type: 'history-delete', requestId, id });
  }

  /** Draw a saved sweep over the charts (or stop). */
  overlay(id: string, on: boolean): void {
    if (!this.history.setOverlay(id, on)) return;
    const requestId = newRequestId('history');
    this.history.track(requestId, id);
    this.send({ type: 'history-get', requestId, id });
  }

  /** A saved sweep arrived: shown when it is the one opened (an overlay's is only drawn). */
  onEntry(requestId: string, entry: HistoryEntry): void {
    if (this.history.onEntry(requestId, entry)) this.showSavedRuns(entry);
  }

  /** A request of the history failed: a saved run's fetch beside the selector, else in the panel. */
  onError(requestId: string | null, message: string): void {
    if (requestId !== null && this.runFetch.owns(requestId)) this.runFetch.fail(requestId, message);
    else this.history.settle(requestId, message);
  }

  /** The engine died: every history request in flight ends. */
  onHostExit(): void {
    this.runFetch.settleAll();
    this.history.settle();
  }

  /**
   * A saved sweep opened from History: its runs join the run selector, and the fastest one
   * (else the first) is loaded for replay when its step log was saved.
   */
  private showSavedRuns(entry: HistoryEntry): void {
    const withStrategy = comparesStrategies(entry.rows);
    const group = `${SAVED}${historyTitle(entry)}`;
    const { prompts, repeats } = entry.settings;
    this.runs.saved = entry.rows.map((row) => {
      const strategy = withStrategy
        ? { policy: row.policy ?? null, drafter: row.drafter ?? null }
        : null;
      return {
        runId: row.runId,
        label: runLabel(row, {
          repeat: row.repeat,
          repeats,
          strategy,
          promptIndex: prompts.length > 1 ? row.promptIndex : null,
          acceptanceTarget: row.acceptanceTarget ?? null,
          tree: row.tree ?? null,
        }),
        group,
        config: runConfig(row, strategy, row.acceptanceTarget ?? null, row.tree ?? null),
        acceptanceTarget: row.acceptanceTarget ?? null,
        finished: true,
        savedIn: entry.id,
      };
    });
    const listed = this.history.entries.find((e) => e.id === entry.id);
    if (listed?.replayable === false) return;
    const best = bestOf(summarizeRows(entry.rows))?.row ?? null;
    const first =
      (best && entry.rows.find((r) => groupKey(r) === best.key)) ?? entry.rows.at(-1) ?? null;
    if (first) this.runFetch.select(first.runId);
  }
}
