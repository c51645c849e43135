/**
 * The sweep request: started and cancelled from the run controls; its progress, rows, events and
 * end as the engine reports them, and the moment the engine begins it (the screen switches over).
 */
import type { EngineEvent } from '../../../shared/events';
import type {
  HostRequest,
  MeasuredCosts,
  RunningSweep,
  RunRow,
  Theory,
} from '../../../shared/protocol';
import { newRequestId } from '../lib/ids';
import type { DownloadState } from './download.svelte';
import type { EventStream } from './eventStream.svelte';
import type { HistoryState } from './history.svelte';
import type { HistoryCoordinator } from './historyCoordinator.svelte';
import type { LiveState } from './live.svelte';
import type { NoticeState } from './notices.svelte';
import type { ReplayState } from './replay.svelte';
import type { SetupState } from './setup.svelte';
import type { SweepProgress, SweepState } from './sweep.svelte';

/** the studio's parts a sweep starts from and switches over */
export interface SweepParts {
  readonly setup: SetupState;
  readonly sweep: SweepState;
  readonly live: LiveState;
  readonly download: DownloadState;
  readonly notices: NoticeState;
  readonly history: HistoryState;
  readonly historyCoordinator: HistoryCoordinator;
  readonly replay: ReplayState;
  readonly stream: EventStream;
  /** a run or a download is in flight on the engine */
  readonly engineBusy: boolean;
}

export interface SweepEnd {
  cancelled: boolean;
  historyId: string;
  theory: Theory | null;
  notSaved?: string | null;
  costs?: MeasuredCosts | null;
}

export class SweepControl {
  private readonly parts: SweepParts;
  private readonly send: (request: HostRequest) => void;

  constructor(parts: SweepParts, send: (request: HostRequest) => void) {
    this.parts = parts;
    this.send = send;
  }

  start(): void {
    const { setup, sweep, live, download, notices } = this.parts;
    const settings = setup.sweepSettings;
    if (!settings || this.parts.engineBusy) return;
    notices.clearError();
    notices.clearHostExit();
    live.end(); // the engine drops its live run when a sweep starts
    // The stream, the charts and the table keep what they show until the engine begins the
    // sweep (begin): a refused attempt clears nothing.
    const requestId = newRequestId('sweep');
    sweep.start(requestId, settings);
    download.track(requestId, 'sweep');
    this.send({ type: 'sweep', requestId, settings });
  }

  cancel(): void {
    const { sweep } = this.parts;
    const { requestId } = sweep;
    if (!sweep.running || requestId === null || sweep.cancelRequested) return;
    sweep.cancelRequested = true;
    this.send({ type: 'cancel', requestId });
  }

  onEvents(events: readonly EngineEvent[]): void {
    this.begin();
    this.parts.stream.storeSweepEvents(events);
  }

  onProgress(progress: SweepProgress): void {
    this.begin();
    this.parts.sweep.onProgress(progress);
  }

  onRow(row: RunRow): void {
    this.begin();
    this.parts.sweep.onRow(row);
  }

  onDone(end: SweepEnd): void {
    this.begin();
    this.parts.sweep.onDone(end.cancelled, end.historyId, end.theory, end.notSaved ?? null);
    this.parts.sweep.costs = end.costs ?? null;
    this.parts.historyCoordinator.refresh();
  }

  /**
   * The engine's answer to attach (sent when the connection opens) or to Run while another
   * window's sweep runs (`refused`, answering `replyTo`): that sweep is followed here, with Cancel.
   */
  onAttach(running: RunningSweep | null, refused: boolean, replyTo: string): void {
    const { sweep, download } = this.parts;
    if (running === null || (refused && !sweep.owns(replyTo))) return;
    if (sweep.owns(running.requestId)) {
      sweep.catchUp(running); // this window's sweep, after a reconnect
      return;
    }
    // Unasked (the connection opened), it only fills a window that shows nothing yet: one that
    // reconnects keeps what it shows (a finished sweep, a history entry; Run shows the sweep).
    if (!refused && (sweep.status !== 'idle' || this.parts.history.entry !== null)) return;
    sweep.adopt(
      running,
      refused
        ? 'a sweep started elsewhere was running, so yours was not started'
        : 'started before this window opened',
    );
    download.track(running.requestId, 'sweep');
    this.parts.history.closeEntry();
    this.parts.replay.clear();
    if (running.events.length > 0) this.parts.stream.storeSweepEvents(running.events);
  }

  /** The sweep failed; returns false for a cancel the user asked for (no error to show). */
  onError(code: string, message: string): boolean {
    const { sweep, stream } = this.parts;
    stream.flush();
    // Cancel during the models' download: the user asked for it, so it is no failure.
    if (code === 'CANCELLED') {
      sweep.cancelBeforeStart();
      return false;
    }
    sweep.fail(message);
    this.parts.historyCoordinator.refresh(); // the host saved the finished rows of a failed sweep
    return true;
  }

  /** The engine began the sweep we asked for: the screen switches over to it. */
  private begin(): void {
    if (!this.parts.sweep.begin()) return;
    this.parts.history.closeEntry();
    this.parts.replay.clear();
  }
}
