/** Saved sweeps on the engine side: the list, and the one loaded into the table and charts. */
import type { HistoryEntry, HistorySummary } from '../../../shared/protocol';

export class HistoryState {
  entries = $state.raw<readonly HistorySummary[]>([]);
  /** a history-list request is out */
  listing = $state(false);
  /** the id being fetched with history-get */
  loadingId = $state<string | null>(null);
  /** the entry shown in the results (null: the current sweep is shown) */
  entry = $state.raw<HistoryEntry | null>(null);
  listRequestId: string | null = null;
  getRequestId: string | null = null;

  requestList(requestId: string): void {
    this.listRequestId = requestId;
    this.listing = true;
  }

  onList(requestId: string, entries: readonly HistorySummary[]): void {
    if (requestId === this.listRequestId) this.listing = false;
    this.entries = entries;
  }

  requestEntry(requestId: string, id: string): void {
    this.getRequestId = requestId;
    this.loadingId = id;
  }

  /** Returns true when this is the answer to our request (then it is shown). */
  onEntry(requestId: string, entry: HistoryEntry): boolean {
    if (requestId !== this.getRequestId) return false;
    this.loadingId = null;
    this.entry = entry;
    return true;
  }

  owns(requestId: string | null): boolean {
    return (
      requestId !== null && (requestId === this.listRequestId || requestId === this.getRequestId)
    );
  }

  /** An error or a dead engine ends whatever was pending. */
  settle(): void {
    this.listing = false;
    this.loadingId = null;
  }

  /** Show the current sweep again instead of a saved one. */
  closeEntry(): void {
    this.entry = null;
  }
}
