/**
 * Runs of a saved sweep replayed from the run selector or the race: their events are fetched from
 * the engine's history when first chosen, stored in the RunStore, and the last choice is shown.
 */
import type { EngineEvent } from '../../../shared/events';
import type { HostRequest } from '../../../shared/protocol';
import { newRequestId } from '../lib/ids';
import type { HistoryState } from './history.svelte';
import type { ReplayState } from './replay.svelte';
import { SAVED, type RunLog, type RunStore } from './runs.svelte';

export class RunFetch {
  /** a saved run could not be fetched for replay (shown beside the run selector) */
  error = $state<string | null>(null);
  /** saved runs being fetched, by request id */
  // Plain on purpose: bookkeeping of requests in flight; `fetching` is what the view shows.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly pending = new Map<
    string,
    { runId: string; resolve: (log: RunLog | null) => void; received: EngineEvent[] }
  >();
  private inFlight = $state(0);
  private selectToken = 0;
  private readonly runs: RunStore;
  private readonly history: HistoryState;
  private readonly replay: ReplayState;
  private readonly send: (request: HostRequest) => void;

  constructor(
    runs: RunStore,
    history: HistoryState,
    replay: ReplayState,
    send: (request: HostRequest) => void,
  ) {
    this.runs = runs;
    this.history = history;
    this.replay = replay;
    this.send = send;
  }

  /** saved runs being fetched */
  get fetching(): boolean {
    return this.inFlight > 0;
  }

  /** Replay a run: one of this window's, or a saved sweep's (its events fetched first). */
  select(runId: string): void {
    this.error = null;
    const token = ++this.selectToken;
    void this.load(runId).then((log) => {
      // the last choice wins when fetches overlap
      if (log && token === this.selectToken) this.replay.select(runId);
    });
  }

  /**
   * A run's log: this window's, or a saved sweep's fetched from the engine (null when it has
   * none; `error` says why).
   */
  load(runId: string): Promise<RunLog | null> {
    const log = this.runs.get(runId);
    if (log) return Promise.resolve(log);
    const saved = this.runs.savedChoice(runId);
    if (!saved?.savedIn) return Promise.resolve(null);
    const requestId = newRequestId('history');
    this.history.track(requestId, saved.savedIn);
    this.inFlight++;
    return new Promise((resolve) => {
      this.pending.set(requestId, { runId, resolve, received: [] });
      this.send({ type: 'history-run', requestId, id: saved.savedIn!, runId });
    });
  }

  owns(requestId: string | null): boolean {
    return requestId !== null && this.pending.has(requestId);
  }

  /**
   * The engine sent a part of a saved run's events (a long run comes in several): once the last
   * has come, they join the store under the run's saved label.
   */
  onRun(
    requestId: string,
    runId: string,
    events: readonly EngineEvent[],
    part: number,
    parts: number,
  ): void {
    const fetch = this.pending.get(requestId);
    if (!fetch) return;
    fetch.received.push(...events);
    if (part < parts - 1) return;
    const saved = this.runs.savedChoice(runId);
    this.runs.append(fetch.received, () => ({
      label: saved?.label ?? runId,
      group: saved?.group ?? SAVED,
      config: saved?.config ?? runId,
      acceptanceTarget: saved?.acceptanceTarget ?? null,
    }));
    this.runs.publish();
    this.settle(requestId, this.runs.get(runId));
  }

  /** The engine could not send it: shown beside the run selector. */
  fail(requestId: string, message: string): void {
    this.error = message;
    this.settle(requestId, null);
  }

  /** The engine died: every fetch in flight ends without a log. */
  settleAll(): void {
    for (const requestId of [...this.pending.keys()]) this.settle(requestId, null);
  }

  private settle(requestId: string, log: RunLog | null): void {
    const fetch = this.pending.get(requestId);
    if (!fetch) return;
    this.pending.delete(requestId);
    this.inFlight--;
    this.history.settle(requestId);
    fetch.resolve(log);
  }
}
