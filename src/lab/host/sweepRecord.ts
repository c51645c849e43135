/**
 * One sweep saved to history as it runs: its header at the first run and at the end, each row
 * with its run's event log as the run finishes. Saving stops at the first failure (a full disk, a
 * read-only folder); the sweep goes on and says why it was not saved.
 */
import { randomUUID } from 'node:crypto';
import type { EngineEvent } from '../../shared/events';
import type { HistoryEntry, RunRow, SweepSettings } from '../../shared/protocol';
import { notSavedReason, type HistoryStore } from './historyStore';

export class SweepRecord {
  readonly entry: HistoryEntry;
  /** why saving stopped, or null while it works */
  notSaved: string | null = null;
  /** the events of the run in progress, saved with its row */
  private runLog: EngineEvent[] = [];

  constructor(
    private readonly history: HistoryStore,
    settings: SweepSettings,
    models: { target: string; draft: string },
  ) {
    this.entry = {
      id: `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`,
      createdAt: new Date().toISOString(),
      settings,
      models,
      rows: [],
      theory: null,
      status: 'running',
    };
  }

  get id(): string {
    return this.entry.id;
  }

  runStarted(index: number): void {
    this.runLog = [];
    if (index === 0) this.save(() => this.history.saveHeader(this.entry));
  }

  event(ev: EngineEvent): void {
    this.runLog.push(ev);
  }

  runFinished(row: RunRow): void {
    this.entry.rows.push(row);
    this.save(() => this.history.appendRow(this.entry.id, row));
    // the log after the row: a row without its log still reads (it cannot be replayed)
    this.save(() => this.history.appendEvents(this.entry.id, row.runId, this.runLog));
    this.runLog = [];
  }

  finished(
    theory: HistoryEntry['theory'],
    cancelled: boolean,
    costs: HistoryEntry['costs'] = null,
  ): void {
    this.entry.theory = theory;
    this.entry.costs = costs;
    this.entry.status = cancelled ? 'cancelled' : 'finished';
    // a sweep cancelled before its first run finished leaves nothing worth listing
    if (this.entry.rows.length > 0) this.save(() => this.history.saveHeader(this.entry));
    else this.history.remove(this.entry.id);
  }

  failed(): void {
    if (this.entry.rows.length > 0) {
      this.entry.status = 'failed';
      this.save(() => this.history.saveHeader(this.entry));
    } else this.history.remove(this.entry.id);
  }

  private save(write: () => void): void {
    if (this.notSaved !== null) return;
    try {
      write();
    } catch (err) {
      this.notSaved = notSavedReason(err, this.history.dir);
    }
  }
}
