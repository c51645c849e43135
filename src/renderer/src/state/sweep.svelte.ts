/** The K sweep in progress (or the last one): its progress, its finished rows and how it ended. */
import type { DecodeMode } from '../../../shared/events';
import type { DrafterKind, DraftPolicyName } from '../../../shared/decoding';
import type {
  MeasuredCosts,
  RunningSweep,
  RunRow,
  SweepRunStart,
  SweepSettings,
  Theory,
} from '../../../shared/protocol';
import { clockTime } from '../lib/format';

export type SweepStatus = 'idle' | 'running' | 'finished' | 'cancelled' | 'failed';

export interface SweepProgress {
  /** 0-based index of the run in progress */
  index: number;
  total: number;
  mode: DecodeMode;
  k: number | null;
  /** 0-based */
  repeat: number;
  /** 0-based index into the prompt set */
  promptIndex: number;
  /** null for baselines */
  policy: DraftPolicyName | null;
  drafter: DrafterKind | null;
  /** controlled acceptance's target A; absent for real drafting */
  acceptanceTarget?: number;
  /** a token tree's shape or budget and the verification asked; absent for chains */
  tree?: SweepRunStart['tree'];
}

export class SweepState {
  status = $state<SweepStatus>('idle');
  requestId = $state<string | null>(null);
  settings = $state.raw<SweepSettings | null>(null);
  progress = $state.raw<SweepProgress | null>(null);
  /** new tokens of the run in progress, from its latest step-end */
  tokensSoFar = $state(0);
  rows = $state.raw<readonly RunRow[]>([]);
  cancelRequested = $state(false);
  /** why it failed, in plain words */
  failure = $state<string | null>(null);
  historyId = $state<string | null>(null);
  /** why the finished sweep is not in the history ("not saved: disk full at ..."), or null */
  notSaved = $state<string | null>(null);
  /** Leviathan's prediction from this sweep (sweep-done); null until then or without one */
  theory = $state.raw<Theory | null>(null);
  /** the pair's measured costs (sweep-done): the theory at each controlled acceptance target */
  costs = $state.raw<MeasuredCosts | null>(null);
  /** the run of this sweep that is streaming now */
  currentRunId = $state<string | null>(null);
  /**
   * the engine began this sweep (its first progress, row or event arrived). Until then the
   * previous sweep's settings, rows and theory stay on screen, so an attempt the engine refuses
   * (a bad model folder, a prompt too long) clears nothing.
   */
  begun = $state(true);
  /**
   * a sweep this window did not start but follows (it ran when the window opened, or when Run
   * was pressed here), in words for the progress line; null for this window's own
   */
  joined = $state<string | null>(null);
  /** the settings of a sweep the engine has not begun yet */
  private pending: SweepSettings | null = null;
  /** how many sweeps this window has started (names the run groups) */
  number = 0;
  /** names this sweep's runs in the run selector, e.g. "Sweep 2 (14:02)" */
  group = '';

  get running(): boolean {
    return this.status === 'running';
  }

  start(requestId: string, settings: SweepSettings): void {
    this.number++;
    this.group = `Sweep ${this.number} (${clockTime(Date.now())})`;
    this.joined = null;
    this.status = 'running';
    this.requestId = requestId;
    this.pending = settings;
    this.begun = false;
    this.progress = null;
    this.tokensSoFar = 0;
    this.cancelRequested = false;
    this.failure = null;
    this.notSaved = null;
    this.currentRunId = null;
  }

  /**
   * The engine began the sweep: from now on its settings and rows are the ones shown. Returns
   * true the first time (the caller clears the stream), false after.
   */
  begin(): boolean {
    if (this.begun || this.pending === null) return false;
    this.begun = true;
    this.settings = this.pending;
    this.pending = null;
    this.rows = [];
    this.historyId = null;
    this.theory = null;
    this.costs = null;
    return true;
  }

  /**
   * Follow a sweep already running on the engine (started by another window): shown as begun,
   * with its settings, its finished rows and its run under way; its messages are ours from now.
   */
  adopt(running: RunningSweep, joined: string): void {
    // Run pressed here, answered with this sweep: it takes the number that request took
    if (this.running && !this.begun) this.number--;
    this.start(running.requestId, running.settings);
    this.joined = joined;
    this.begin();
    this.rows = running.rows;
    this.progress = running.progress;
  }

  /** The sweep we follow, after a reconnect: its rows and run under way as the engine has them. */
  catchUp(running: RunningSweep): void {
    if (!this.owns(running.requestId) || !this.running) return;
    this.begin();
    this.rows = running.rows;
    this.progress = running.progress;
  }

  owns(requestId: string | null): boolean {
    return requestId !== null && requestId === this.requestId;
  }

  onProgress(progress: SweepProgress): void {
    this.progress = progress;
    this.tokensSoFar = 0;
  }

  onRow(row: RunRow): void {
    this.rows = [...this.rows, row];
  }

  onDone(
    cancelled: boolean,
    historyId: string,
    theory: Theory | null,
    notSaved: string | null = null,
  ): void {
    this.begin();
    this.status = cancelled ? 'cancelled' : 'finished';
    this.cancelRequested = false; // the cancel, if any, is complete
    this.notSaved = notSaved;
    this.historyId = historyId;
    this.theory = theory;
    this.currentRunId = null;
  }

  /** Cancelled before any run started (during the models' download): nothing to keep. */
  cancelBeforeStart(): void {
    if (this.status !== 'running') return;
    this.pending = null;
    this.status = 'cancelled';
    this.cancelRequested = false;
    this.currentRunId = null;
  }

  /**
   * The sweep ended without sweep-done (an error, the engine died): its rows stay; refused
   * before it began, what was on screen stays.
   */
  fail(message: string): void {
    if (this.status !== 'running') return;
    this.pending = null;
    this.status = 'failed';
    this.cancelRequested = false;
    this.failure = message;
    this.currentRunId = null;
  }
}
