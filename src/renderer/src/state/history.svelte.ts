/**
 * Saved sweeps on the engine side, as a lab notebook: the list, the one loaded into the table
 * and charts, the ones overlaid on the charts, and renaming and deleting.
 */
import type { HistoryEntry, HistorySummary } from '../../../shared/protocol';
import { dateTime } from '../lib/format';

/** what a saved sweep is called: its name, else when it ran */
export function historyTitle(entry: Pick<HistorySummary, 'name' | 'createdAt'>): string {
  return entry.name ?? `Sweep of ${dateTime(entry.createdAt)}`;
}

export class HistoryState {
  entries = $state.raw<readonly HistorySummary[]>([]);
  /** a history-list request is out */
  listing = $state(false);
  /** the id being fetched with history-get */
  loadingId = $state<string | null>(null);
  /** the entry shown in the results (null: the current sweep is shown) */
  entry = $state.raw<HistoryEntry | null>(null);
  /** saved sweeps drawn over the charts, in the order they were ticked */
  overlays = $state.raw<readonly HistoryEntry[]>([]);
  /** ids ticked for overlay (some may still be loading) */
  overlayIds = $state.raw<readonly string[]>([]);
  /** why the last rename, delete or replay fetch failed, shown in the history panel */
  error = $state<string | null>(null);
  listRequestId: string | null = null;
  getRequestId: string | null = null;
  /** other requests of ours: overlay fetches (request id -> entry id), renames, deletes */
  // Plain on purpose: bookkeeping of requests in flight, which no view shows.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly pending = new Map<string, string>();

  requestList(requestId: string): void {
    this.listRequestId = requestId;
    this.listing = true;
  }

  onList(requestId: string, entries: readonly HistorySummary[]): void {
    if (requestId === this.listRequestId) this.listing = false;
    this.pending.delete(requestId);
    this.entries = entries;
    // deleted (here or in another window): stop showing and overlaying it
    // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a lookup, discarded at once
    const ids = new Set(entries.map((e) => e.id));
    if (this.entry && !ids.has(this.entry.id) && !this.listing) this.entry = null;
    if (this.overlayIds.some((id) => !ids.has(id))) {
      this.overlayIds = this.overlayIds.filter((id) => ids.has(id));
      this.overlays = this.overlays.filter((e) => ids.has(e.id));
    }
  }

  requestEntry(requestId: string, id: string): void {
    this.getRequestId = requestId;
    this.loadingId = id;
  }

  /** Returns true when this is the answer to our request (then it is shown). */
  onEntry(requestId: string, entry: HistoryEntry): boolean {
    const overlay = this.pending.get(requestId);
    if (overlay !== undefined) {
      this.pending.delete(requestId);
      if (this.overlayIds.includes(entry.id) && !this.overlays.some((e) => e.id === entry.id))
        this.overlays = [...this.overlays, entry];
      return false;
    }
    if (requestId !== this.getRequestId) return false;
    this.loadingId = null;
    this.entry = entry;
    return true;
  }

  /** Tick or untick a saved sweep for overlay; returns true when its rows must be fetched. */
  setOverlay(id: string, on: boolean): boolean {
    if (!on) {
      this.overlayIds = this.overlayIds.filter((x) => x !== id);
      this.overlays = this.overlays.filter((e) => e.id !== id);
      return false;
    }
    if (this.overlayIds.includes(id)) return false;
    this.overlayIds = [...this.overlayIds, id];
    return true;
  }

  /** a request of ours about entry `id` (an overlay fetch, a rename, a delete) */
  track(requestId: string, id: string): void {
    this.pending.set(requestId, id);
  }

  owns(requestId: string | null): boolean {
    return (
      requestId !== null &&
      (requestId === this.listRequestId ||
        requestId === this.getRequestId ||
        this.pending.has(requestId))
    );
  }

  /** An error or a dead engine ends whatever was pending. */
  settle(requestId: string | null = null, message: string | null = null): void {
    const overlay = requestId === null ? undefined : this.pending.get(requestId);
    if (overlay !== undefined) {
      this.pending.delete(requestId!);
      this.overlayIds = this.overlayIds.filter((x) => x !== overlay);
    }
    if (message !== null) this.error = message;
    this.listing = false;
    this.loadingId = null;
  }

  /** Show the current sweep again instead of a saved one. */
  closeEntry(): void {
    this.entry = null;
  }
}
