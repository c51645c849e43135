/**
 * The whole studio: one state object per concern, wired to the bridge. Studio only routes: each
 * host message goes to the part that owns its request, and the parts send through the bridge.
 */
import type { HostMessage, HostRequest } from '../../../shared/protocol';
import type { Connection, StudioBridge } from '../bridge';
import { controlHint, inAppWords, type SetupField } from '../lib/hostErrors';
import { newRequestId } from '../lib/ids';
import { ChosenRunState } from './chosenRun.svelte';
import { DetailState } from './detail.svelte';
import { DownloadState } from './download.svelte';
import { DownloadControl } from './downloadControl.svelte';
import { EventStream } from './eventStream.svelte';
import { ExportState } from './exports.svelte';
import { HistoryState } from './history.svelte';
import { HistoryCoordinator } from './historyCoordinator.svelte';
import { LiveState } from './live.svelte';
import { LiveControl } from './liveControl.svelte';
import { PairAlphaMemory } from './pairAlpha.svelte';
import { NoticeState, setupKeyOf, type HostErrorNotice } from './notices.svelte';
import { ReplayState } from './replay.svelte';
import { ResultsState, type EmbeddedPair } from './results.svelte';
import { RunFetch } from './runFetch.svelte';
import { RunStore } from './runs.svelte';
import { SetupState } from './setup.svelte';
import { PositionDetailRequest } from './positionDetail.svelte';
import { SweepControl } from './sweepControl.svelte';
import { SweepState } from './sweep.svelte';

/** how long a tab waits before asking a busy engine again for the running sweep */
const ATTACH_RETRY_MS = 1000;

export class Studio {
  // What the views show, one state per concern:
  readonly setup = new SetupState();
  readonly runs = new RunStore();
  readonly replay = new ReplayState(this.runs);
  readonly sweep = new SweepState();
  readonly live = new LiveState();
  readonly history = new HistoryState();
  readonly notices = new NoticeState();
  /** the step detail view (top tokens at a picked position) */
  readonly detail = new DetailState();
  /** Hub downloads and the models the engine loaded */
  readonly download = new DownloadState();
  /** the pair's alpha as sweeps measured it: places the pair on a controlled acceptance grid */
  readonly pairAlpha = new PairAlphaMemory();
  readonly results = new ResultsState(
    this.sweep,
    this.history,
    this.download,
    () => this.embeddedPair,
    this.pairAlpha,
  );
  /** the run chosen in the Run selector, as a row of the sweep on show (its engine metrics) */
  readonly chosenRun = new ChosenRunState(this.replay, this.results, this.runs);
  connection = $state.raw<Connection>({ state: 'connecting', retryInMs: null });
  /** the embedded pair's names, from the host's ready message */
  embeddedPair = $state.raw<EmbeddedPair | null>(null);

  // What acts on them: the requests each part sends and the answers it takes.
  /** event batches stored at once, drawn once per frame */
  readonly stream = new EventStream(this.runs, this.replay, this.sweep, this.live);
  /** saved runs fetched for replay */
  readonly runFetch = new RunFetch(this.runs, this.history, this.replay, (r) => this.send(r));
  /** the history panel's requests */
  readonly historyCoordinator = new HistoryCoordinator(
    this.history,
    this.runs,
    this.runFetch,
    (request) => this.send(request),
  );
  readonly sweepControl = new SweepControl(this, (request) => this.send(request));
  readonly liveControl = new LiveControl(this, (request) => this.send(request));
  readonly downloadControl = new DownloadControl(this, (request) => this.send(request));
  /** top tokens asked of the engine at a picked position */
  readonly positionDetail = new PositionDetailRequest(this, (request) => this.send(request));
  readonly exports = new ExportState(this.results, this.runs, this.replay, (name, text) =>
    this.bridge.saveText(name, text),
  );

  readonly bridgeKind: StudioBridge['kind'];
  private readonly bridge: StudioBridge;
  private hasOpened = false;
  /** the `attach` sent when the connection opened, asked again if the engine was too busy */
  private attachRequest: string | null = null;

  constructor(bridge: StudioBridge) {
    this.bridge = bridge;
    this.bridgeKind = bridge.kind;
  }

  /** Subscribe to the bridge and ask for the history; returns the clean-up. */
  start(): () => void {
    const offMessage = this.bridge.onMessage((message) => this.handle(message));
    const offConnection = this.bridge.onConnection((connection) => {
      this.connection = connection;
      if (connection.state !== 'open') return;
      // a sweep running on the engine (started by another window) is shown here too
      this.attach();
      // After a reconnect the list may have changed while we were away.
      if (this.hasOpened) this.historyCoordinator.refresh();
      this.hasOpened = true;
    });
    this.historyCoordinator.refresh();
    return () => {
      offMessage();
      offConnection();
      this.stream.cancel();
      this.replay.pause();
    };
  }

  private attach(): void {
    this.attachRequest = newRequestId('attach');
    this.send({ type: 'attach', requestId: this.attachRequest });
  }

  get connected(): boolean {
    return this.connection.state === 'open';
  }

  /** A sweep or a step of a live run is in flight on the engine. */
  get engineBusy(): boolean {
    return this.sweep.running || this.live.status === 'waiting' || this.download.busy;
  }

  /**
   * The host error on show, if any. One about set-up controls (a bad folder, a prompt too
   * long) is gone once one of them changed: it no longer describes what is set.
   */
  get hostError(): HostErrorNotice | null {
    const error = this.notices.error;
    if (error?.field && error.setupKey !== setupKeyOf(error.causes, (f) => this.setup.fieldKey(f)))
      return null;
    return error;
  }

  get canRun(): boolean {
    return this.connected && !this.engineBusy && this.setup.sweepSettings !== null;
  }

  /** A model folder picked with the app's dialog. */
  async chooseFolder(role: 'target' | 'draft'): Promise<void> {
    const dir = await this.bridge.chooseModelFolder();
    if (dir === null) return;
    this.setup.models.role(role).useFolder(dir);
  }

  private send(request: HostRequest): void {
    this.bridge.send(request);
  }

  private handle(message: HostMessage): void {
    switch (message.type) {
      case 'ready':
        // A (fresh) engine is up: its names, and its view of the history (a sweep that died
        // with the last engine is listed as failed now).
        this.embeddedPair = message.embeddedPair;
        this.setup.embeddedContext = message.embeddedPair.context ?? null;
        this.download.cacheDir = message.cacheDir;
        this.historyCoordinator.refresh();
        return;
      case 'events':
        if (this.sweep.owns(message.requestId)) this.sweepControl.onEvents(message.events);
        else if (this.live.owns(message.requestId)) this.stream.storeLiveEvents(message.events);
        return;
      case 'sweep-progress':
        if (this.sweep.owns(message.requestId)) this.sweepControl.onProgress(message);
        return;
      case 'sweep-row':
        if (this.sweep.owns(message.requestId)) this.sweepControl.onRow(message.row);
        return;
      case 'sweep-done':
        if (this.sweep.owns(message.requestId)) {
          this.sweepControl.onDone(message);
          this.pairAlpha.remember(this.sweep.settings?.pair, message.theory);
        }
        return;
      case 'sweep-attach':
        this.sweepControl.onAttach(message.sweep, message.refused, message.requestId);
        return;
      case 'live-step':
        if (!this.live.owns(message.requestId)) return;
        this.stream.storeLiveEvents(message.events);
        this.live.onStep(message.done);
        return;
      case 'history-list':
        this.history.onList(message.requestId, message.entries);
        return;
      case 'history-entry':
        this.historyCoordinator.onEntry(message.requestId, message.entry);
        this.pairAlpha.remember(message.entry.settings.pair, message.entry.theory);
        return;
      case 'history-run':
        this.runFetch.onRun(
          message.requestId,
          message.runId,
          message.events,
          message.part,
          message.parts,
        );
        return;
      case 'probe-result':
        if (this.detail.owns(message.requestId)) this.detail.onResult(message.result);
        return;
      case 'download-progress':
        this.download.onProgress(message.requestId, message.progress);
        return;
      case 'download-done':
        this.download.onDone(message.requestId, message.downloadedBytes);
        return;
      case 'models-loaded':
        this.download.onLoaded(message.requestId, { target: message.target, draft: message.draft });
        return;
      case 'error':
        this.onError(
          message.requestId,
          message.code,
          inAppWords(message.code, message.message) + controlHint(message.settings),
        );
        return;
      case 'host-exit':
        this.onHostExit(message.message);
        return;
      default: {
        // every message type is handled above: a new one fails to compile until it is
        const unhandled: never = message;
        console.warn('Unhandled host message', unhandled);
      }
    }
  }

  /** An error goes to the part whose request failed; what the user must see becomes a notice. */
  private onError(requestId: string | null, code: string, message: string): void {
    let fallback: SetupField | null = null;
    // serve refuses work beyond its bounds with BUSY: the running sweep is asked for again
    if (requestId !== null && requestId === this.attachRequest) {
      if (code === 'BUSY')
        setTimeout(() => {
          if (this.connected) this.attach();
        }, ATTACH_RETRY_MS);
      return;
    }
    // a download on show stops, whichever request it belongs to
    this.download.onError(requestId, code, message);
    if (this.live.owns(requestId)) {
      this.live.fail(message);
      return;
    }
    if (this.detail.owns(requestId)) {
      this.detail.fail(message);
      return;
    }
    if (this.sweep.owns(requestId)) {
      if (!this.sweepControl.onError(code, message)) return;
    } else if (this.history.owns(requestId)) {
      this.historyCoordinator.onError(requestId, message);
      return;
    } else if (this.download.owns(requestId)) {
      // a cancel the user asked for is shown in the download panel, not as an error
      if (code === 'CANCELLED') return;
      // any download failure is about the pair: shown under it, beside the download panel
      fallback = 'pair';
    } else if (requestId !== null) {
      return; // another window's request (the serve mode tells every client)
    }
    this.notices.showError(code, message, (field) => this.setup.fieldKey(field), fallback);
  }

  private onHostExit(message: string): void {
    this.stream.flush();
    this.notices.showHostExit(message);
    this.download.onHostExit(message);
    this.sweep.fail(`The engine stopped unexpectedly (${message}).`);
    this.live.fail(`The engine stopped unexpectedly (${message}). Start the run again.`);
    this.historyCoordinator.onHostExit();
  }
}
