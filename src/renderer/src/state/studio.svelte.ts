/**
 * The whole studio: one state object per concern, wired to the bridge. Messages from the host
 * are routed here; event batches are stored at once and drawn once per animation frame.
 */
import type { EngineEvent, RunStartEvent } from '../../../shared/events';
import type { AnalysisInput } from '../../../results/analysis';
import type {
  HistoryEntry,
  HostMessage,
  HostRequest,
  SweepSettings,
} from '../../../shared/protocol';
import { runsCsv } from '../../../results/runsCsv';
import { bestRow, comparesStrategies, groupKey, summarizeRows } from '../../../results/summary';
import { MAX_K } from '../../../shared/protocol';
import type { Connection, StudioBridge } from '../bridge';
import { historyAnalysisInput, sweepAnalysisInput } from '../lib/analysisInput';
import { stepsCsv, type StepRunId } from '../lib/csv';
import { clockTime, fileStamp } from '../lib/format';
import { FrameScheduler } from '../lib/frame';
import { newRequestId } from '../lib/ids';
import { controlHint, type SetupField } from '../lib/hostErrors';
import { parseWhole } from '../lib/setupValidation';
import { DetailState } from './detail.svelte';
import { DownloadState } from './download.svelte';
import { HistoryState, historyTitle } from './history.svelte';
import { LiveState } from './live.svelte';
import { NoticeState, type HostErrorNotice } from './notices.svelte';
import { ReplayState } from './replay.svelte';
import { ResultsState } from './results.svelte';
import { RunStore, runLabel, SAVED, type RunLabel, type RunLog } from './runs.svelte';
import { SetupState } from './setup.svelte';
import { SweepState } from './sweep.svelte';

/** the least time between two draws of streaming events, ms */
const STREAM_FRAME_MS = 100;

export interface EmbeddedPair {
  target: string;
  draft: string;
}

export class Studio {
  readonly setup = new SetupState();
  readonly runs = new RunStore();
  readonly replay = new ReplayState(this.runs);
  readonly sweep = new SweepState();
  readonly live = new LiveState();
  readonly history = new HistoryState();
  readonly results = new ResultsState(this.sweep, this.history);
  readonly notices = new NoticeState();
  /** the step detail view (top tokens at a picked position) */
  readonly detail = new DetailState();
  /** Hub downloads and the models the engine loaded */
  readonly download = new DownloadState();
  connection = $state.raw<Connection>({ state: 'connecting', retryInMs: null });
  /** the embedded pair's names, from the host's ready message */
  embeddedPair = $state.raw<EmbeddedPair | null>(null);
  /** a save failed or was refused */
  exportMessage = $state<string | null>(null);
  /** a saved run could not be fetched for replay (shown beside the run selector) */
  runError = $state<string | null>(null);
  /** saved runs being fetched, by request id */
  // Plain on purpose: bookkeeping of requests in flight; `fetchingRuns` is what the view shows.
  // eslint-disable-next-line svelte/prefer-svelte-reactivity
  private readonly runFetches = new Map<
    string,
    { runId: string; resolve: (log: RunLog | null) => void }
  >();
  private fetchingRuns = $state(0);
  private selectToken = 0;

  readonly bridgeKind: StudioBridge['kind'];
  private readonly bridge: StudioBridge;
  // The stream is drawn at most 10 times a second: enough to watch it grow, and on a 2-core
  // machine every frame drawn is time the engine's session.run waits for a core (bench:app).
  private readonly frame = new FrameScheduler(() => this.drawFrame(), STREAM_FRAME_MS);
  private hasOpened = false;

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
      // After a reconnect the list may have changed while we were away.
      if (this.hasOpened) this.refreshHistory();
      this.hasOpened = true;
    });
    this.refreshHistory();
    return () => {
      offMessage();
      offConnection();
      this.frame.cancel();
      this.replay.pause();
    };
  }

  get connected(): boolean {
    return this.connection.state === 'open';
  }

  /** A sweep or a step of a live run is in flight on the engine. */
  get engineBusy(): boolean {
    return this.sweep.running || this.live.status === 'waiting' || this.download.busy;
  }

  /**
   * The host error on show, if any. One about a set-up control (a bad folder, a prompt too
   * long) is gone once that control changed: it no longer describes what is set.
   */
  get hostError(): HostErrorNotice | null {
    const error = this.notices.error;
    if (error?.field && error.setupKey !== this.setup.fieldKey(error.field)) return null;
    return error;
  }

  get canRun(): boolean {
    return this.connected && !this.engineBusy && this.setup.sweepSettings !== null;
  }

  // ----- actions -----

  runSweep(): void {
    const settings = this.setup.sweepSettings;
    if (!settings || this.engineBusy) return;
    this.notices.clearError();
    this.notices.clearHostExit();
    this.live.end(); // the engine drops its live run when a sweep starts
    // The stream, the charts and the table keep what they show until the engine begins the
    // sweep (beginSweep): a refused attempt clears nothing.
    const requestId = newRequestId('sweep');
    this.sweep.start(requestId, settings);
    this.download.track(requestId, 'sweep');
    this.send({ type: 'sweep', requestId, settings });
  }

  cancelSweep(): void {
    const { requestId } = this.sweep;
    if (!this.sweep.running || requestId === null || this.sweep.cancelRequested) return;
    this.sweep.cancelRequested = true;
    this.send({ type: 'cancel', requestId });
  }

  startLive(): void {
    if (this.engineBusy) return;
    const k = parseWhole(this.live.kText, 'K', 1, MAX_K);
    this.live.kError = k.ok ? null : k.message;
    if (!k.ok) return;
    const settings = this.setup.liveSettings(k.value);
    if (!settings) {
      this.live.error =
        'Fix the marked set-up fields first (prompt, max new tokens, policy, drafter, sampling).';
      return;
    }
    this.notices.clearHostExit();
    const requestId = newRequestId('live');
    const decoding = settings.sampling ? 'sampled' : 'greedy';
    this.live.start(requestId, `${settings.drafter} / ${settings.policy}, ${decoding}`);
    this.download.track(requestId, 'live');
    this.replay.clear();
    this.send({ type: 'live-start', requestId, settings });
  }

  nextLive(): void {
    const { requestId } = this.live;
    if (!this.live.canNext || requestId === null) return;
    this.live.next();
    this.send({ type: 'live-next', requestId });
  }

  refreshHistory(): void {
    const requestId = newRequestId('history');
    this.history.requestList(requestId);
    this.send({ type: 'history-list', requestId });
  }

  loadHistory(id: string): void {
    this.history.error = null;
    const requestId = newRequestId('history');
    this.history.requestEntry(requestId, id);
    this.send({ type: 'history-get', requestId, id });
  }

  showCurrentSweep(): void {
    this.history.closeEntry();
    this.runs.saved = [];
  }

  /**
   * A saved sweep opened from History: its runs join the run selector, and the fastest one
   * (else the first) is loaded for replay when its step log was saved.
   */
  private showSavedRuns(entry: HistoryEntry): void {
    const withStrategy = comparesStrategies(entry.rows);
    const group = `${SAVED}${historyTitle(entry)}`;
    const { prompts, repeats } = entry.settings;
    this.runs.saved = entry.rows.map((row) => ({
      runId: row.runId,
      label: runLabel(row, {
        repeat: row.repeat,
        repeats,
        strategy: withStrategy
          ? { policy: row.policy ?? null, drafter: row.drafter ?? null }
          : null,
        promptIndex: prompts.length > 1 ? row.promptIndex : null,
      }),
      group,
      finished: true,
      savedIn: entry.id,
    }));
    const listed = this.history.entries.find((e) => e.id === entry.id);
    if (listed?.replayable === false) return;
    const best = bestRow(summarizeRows(entry.rows));
    const first =
      (best && entry.rows.find((r) => groupKey(r) === best.key)) ?? entry.rows.at(-1) ?? null;
    if (first) this.selectRun(first.runId);
  }

  /** Replay a run: one of this window's, or a saved sweep's (its events fetched first). */
  selectRun(runId: string): void {
    this.runError = null;
    const token = ++this.selectToken;
    void this.loadRun(runId).then((log) => {
      // the last choice wins when fetches overlap
      if (log && token === this.selectToken) this.replay.select(runId);
    });
  }

  /**
   * A run's log: this window's, or a saved sweep's fetched from the engine (null when it has
   * none; runError says why).
   */
  loadRun(runId: string): Promise<RunLog | null> {
    const log = this.runs.get(runId);
    if (log) return Promise.resolve(log);
    const saved = this.runs.savedChoice(runId);
    if (!saved?.savedIn) return Promise.resolve(null);
    const requestId = newRequestId('history');
    this.history.track(requestId, saved.savedIn);
    this.fetchingRuns++;
    return new Promise((resolve) => {
      this.runFetches.set(requestId, { runId, resolve });
      this.send({ type: 'history-run', requestId, id: saved.savedIn!, runId });
    });
  }

  /** saved runs being fetched */
  get fetchingRun(): boolean {
    return this.fetchingRuns > 0;
  }

  private settleRunFetch(requestId: string, log: RunLog | null): boolean {
    const fetch = this.runFetches.get(requestId);
    if (!fetch) return false;
    this.runFetches.delete(requestId);
    this.fetchingRuns--;
    this.history.settle(requestId);
    fetch.resolve(log);
    return true;
  }

  /**
   * A token of the stream on screen was picked: when the step detail view is open, ask the
   * engine for both models' top tokens there (under the run's decoding).
   */
  pickToken(index: number): void {
    const token = this.replay.tokens[index];
    const log = this.runs.get(this.replay.runId);
    if (!this.detail.open || !token || !log) return;
    // a click after the focus that picked it already: one question is enough
    if (this.detail.token === token && this.detail.status !== 'failed') return;
    const facts = this.detail.pick(token, log.events);
    if (!facts) return;
    const settings = this.settingsOfRun(log.runId);
    if (!settings) {
      this.detail.fail('The settings this run used are not known here (start it again).');
      return;
    }
    if (this.engineBusy) {
      this.detail.fail('The engine is busy with a run: pick the token again once it has finished.');
      return;
    }
    const requestId = newRequestId('probe');
    this.detail.wait(requestId);
    this.send({
      type: 'probe',
      requestId,
      pair: settings.pair,
      tokenIds: facts.context,
      token: facts.drafted ?? facts.emitted,
      sampling: settings.sampling,
      repetition: settings.repetition ?? null,
    });
  }

  /** the pair and decoding a run of this window or of the saved sweep on show used */
  private settingsOfRun(runId: string): SweepSettings | null {
    const entry = this.history.entry;
    if (entry?.rows.some((r) => r.runId === runId)) return entry.settings;
    if (this.live.runId === runId) return this.setup.sweepSettings;
    return this.sweep.settings;
  }

  renameHistory(id: string, name: string): void {
    const requestId = newRequestId('history');
    this.history.error = null;
    this.history.track(requestId, id);
    this.send({ type: 'history-rename', requestId, id, name });
  }

  deleteHistory(id: string): void {
    const requestId = newRequestId('history');
    this.history.error = null;
    this.history.track(requestId, id);
    this.history.setOverlay(id, false);
    this.send({ type: 'history-delete', requestId, id });
  }

  /** Draw a saved sweep over the charts (or stop). */
  overlayHistory(id: string, on: boolean): void {
    if (!this.history.setOverlay(id, on)) return;
    const requestId = newRequestId('history');
    this.history.track(requestId, id);
    this.send({ type: 'history-get', requestId, id });
  }

  /** Go back to following the run that is streaming now (or the newest one). */
  followLatest(): void {
    const runId = this.sweep.currentRunId ?? this.live.runId ?? this.runs.choices.at(-1)?.runId;
    if (runId) this.replay.follow(runId);
    this.frame.schedule();
  }

  async chooseFolder(role: 'target' | 'draft'): Promise<void> {
    const dir = await this.bridge.chooseModelFolder();
    if (dir === null) return;
    this.setup.models.role(role).useFolder(dir);
  }

  /** Fetch the chosen Hub models into the cache (or find them there) without running anything. */
  downloadModels(): void {
    if (this.engineBusy || !this.connected || this.setup.models.error) return;
    this.notices.clearError();
    const requestId = newRequestId('download');
    this.download.start(requestId);
    this.send({ type: 'download', requestId, pair: this.setup.pair });
  }

  /** Stop the download on show: a sweep's through the sweep's own cancel. */
  cancelDownload(): void {
    const { requestId } = this.download;
    if (this.download.status !== 'downloading' || requestId === null) return;
    if (this.sweep.owns(requestId)) {
      this.cancelSweep();
      this.download.cancelRequested = true;
      return;
    }
    if (this.download.cancelRequested) return;
    this.download.cancelRequested = true;
    this.send({ type: 'cancel', requestId });
  }

  /** The sweep shown (a history entry, or the current sweep) as the analysis and CSV see it. */
  get shownSweep(): (AnalysisInput & { settings: SweepSettings }) | null {
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
      embedded: this.embeddedPair,
    });
    return { ...input, settings: sweep.settings };
  }

  async exportSummary(): Promise<void> {
    const shown = this.shownSweep;
    if (!shown || shown.rows.length === 0) return;
    const { pair, sampling, repetition } = shown.settings;
    const csv = runsCsv(shown.rows, {
      prompts: shown.prompts,
      models: shown.models,
      dtypes: { target: pair.target.dtype, draft: pair.draft.dtype },
      sampling,
      repetition: repetition ?? null,
    });
    await this.save(`specdec-summary-${fileStamp()}.csv`, csv);
  }

  async exportSteps(): Promise<void> {
    const log = this.runs.get(this.replay.runId);
    if (!log) return;
    const name = log.label
      .replace(/[^\w-]+/g, '-')
      .replace(/^-|-$/g, '')
      .toLowerCase();
    // the run as the runs CSV names it: its row once it finished, else what its start said
    const shown = this.shownSweep;
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
  async exportAnalysis(markdown: string): Promise<void> {
    await this.save(`specdec-analysis-${fileStamp()}.md`, markdown);
  }

  // ----- messages -----

  private send(request: HostRequest): void {
    this.bridge.send(request);
  }

  private async save(name: string, text: string): Promise<void> {
    this.exportMessage = null;
    try {
      await this.bridge.saveText(name, text);
    } catch (err) {
      this.exportMessage = `Could not save ${name}: ${err instanceof Error ? err.message : String(err)}`;
    }
  }

  private handle(message: HostMessage): void {
    switch (message.type) {
      case 'ready':
        // A (fresh) engine is up: its names, and its view of the history (a sweep that died
        // with the last engine is listed as failed now).
        this.embeddedPair = message.embeddedPair;
        this.setup.embeddedContext = message.embeddedPair.context ?? null;
        this.download.cacheDir = message.cacheDir;
        this.refreshHistory();
        return;
      case 'events':
        if (this.sweep.owns(message.requestId)) {
          this.beginSweep();
          this.storeSweepEvents(message.events);
        } else if (this.live.owns(message.requestId)) this.storeLiveEvents(message.events);
        return;
      case 'sweep-progress':
        if (!this.sweep.owns(message.requestId)) return;
        this.beginSweep();
        this.sweep.onProgress(message);
        return;
      case 'sweep-row':
        if (!this.sweep.owns(message.requestId)) return;
        this.beginSweep();
        this.sweep.onRow(message.row);
        return;
      case 'sweep-done':
        if (!this.sweep.owns(message.requestId)) return;
        this.beginSweep();
        this.sweep.onDone(
          message.cancelled,
          message.historyId,
          message.theory,
          message.notSaved ?? null,
        );
        this.refreshHistory();
        return;
      case 'live-step':
        if (!this.live.owns(message.requestId)) return;
        this.storeLiveEvents(message.events);
        this.live.onStep(message.done);
        return;
      case 'history-list':
        this.history.onList(message.requestId, message.entries);
        return;
      case 'history-entry':
        if (this.history.onEntry(message.requestId, message.entry))
          this.showSavedRuns(message.entry);
        return;
      case 'history-run': {
        const fetch = this.runFetches.get(message.requestId);
        if (!fetch) return;
        const saved = this.runs.savedChoice(message.runId);
        this.runs.append(message.events, () => ({
          label: saved?.label ?? message.runId,
          group: saved?.group ?? SAVED,
        }));
        this.runs.publish();
        this.settleRunFetch(message.requestId, this.runs.get(message.runId));
        return;
      }
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
          message.message + controlHint(message.settings),
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

  /** The engine began the sweep we asked for: the screen switches over to it. */
  private beginSweep(): void {
    if (!this.sweep.begin()) return;
    this.history.closeEntry();
    this.replay.clear();
  }

  private onError(requestId: string | null, code: string, message: string): void {
    let fallback: SetupField | null = null;
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
      this.frame.flush();
      // Cancel during the models' download: the user asked for it, so it is no failure.
      if (code === 'CANCELLED') {
        this.sweep.cancelBeforeStart();
        return;
      }
      this.sweep.fail(message);
      this.refreshHistory(); // the host saved the finished rows of a failed sweep
    } else if (this.history.owns(requestId)) {
      if (requestId !== null && this.runFetches.has(requestId)) {
        this.runError = message;
        this.settleRunFetch(requestId, null);
      } else this.history.settle(requestId, message);
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
    this.frame.flush();
    this.notices.showHostExit(message);
    this.download.onHostExit(message);
    this.sweep.fail(`The engine stopped unexpectedly (${message}).`);
    this.live.fail(`The engine stopped unexpectedly (${message}). Start the run again.`);
    for (const requestId of [...this.runFetches.keys()]) this.settleRunFetch(requestId, null);
    this.history.settle();
  }

  private storeSweepEvents(events: readonly EngineEvent[]): void {
    const group = this.sweep.group;
    const started = this.runs.append(events, (start) => this.sweepRunLabel(start, group));
    const latest = started.at(-1);
    if (latest) {
      this.sweep.currentRunId = latest;
      if (this.replay.following) this.replay.follow(latest);
    }
    this.frame.schedule();
  }

  private sweepRunLabel(start: RunStartEvent, group: string): RunLabel {
    const progress = this.sweep.progress;
    const settings = this.sweep.settings;
    const matches = progress !== null && progress.mode === start.mode && progress.k === start.k;
    return {
      label: runLabel(start, {
        repeat: matches ? progress.repeat : null,
        repeats: settings?.repeats ?? 1,
        // name the strategy and the prompt only when the sweep has several
        strategy:
          matches && settings && settings.policies.length + settings.drafters.length > 2
            ? { policy: progress.policy, drafter: progress.drafter }
            : null,
        promptIndex: matches && (settings?.prompts.length ?? 1) > 1 ? progress.promptIndex : null,
      }),
      group,
    };
  }

  private storeLiveEvents(events: readonly EngineEvent[]): void {
    const started = this.runs.append(events, (start) => ({
      // called once per run-start, not per batch (toLocaleTimeString is slow)
      label: `Step by step, K=${start.k ?? '?'} ${this.live.strategy} (${clockTime(Date.now())})`,
      group: 'Step by step',
    }));
    const latest = started.at(-1);
    if (latest) {
      this.live.runId = latest;
      // Stepping is the point of this mode: always show it.
      this.replay.follow(latest);
    }
    this.frame.schedule();
  }

  /** Once per animation frame: draw the events that arrived since the last frame. */
  private drawFrame(): void {
    this.replay.sync();
    this.runs.publish();
    const current = this.runs.get(this.sweep.currentRunId);
    if (current) this.sweep.tokensSoFar = current.lastMetrics?.newTokens ?? 0;
  }
}
