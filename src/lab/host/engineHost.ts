/**
 * The engine host: runs sweeps and live step-through off the UI thread and speaks the protocol
 * of src/shared/protocol.ts. The same module runs in Electron's utilityProcess and in the
 * `serve` mode's worker thread; only the port differs.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { EngineEvent } from '../../shared/events';
import {
  parseHostRequest,
  type HostRequest,
  type HistoryEntry,
  type HostMessage,
  type LiveSettings,
  type LoadedModelInfo,
  type ModelChoice,
  type PairChoice,
  type SweepSettings,
} from '../../shared/protocol';
import { probePosition } from '../../core/decoding/positionDetail';
import { checkRepetition } from '../../core/decoding/repetition';
import { checkSampling } from '../../core/decoding/sampling';
import { SpeculativeRun } from '../../core/decoding/speculative';
import { FOLDER_ERRORS, SpecDecError, describeError } from '../../core/errors';
import { runExperiment } from '../experiment';
import {
  checkSweepConfig,
  checkSweepSettings,
  type SweepConfig,
} from '../../core/experiment/sweep';
import { resolveModels } from '../../core/hub/hub';
import { openPair, type ModelSpec } from '../../core/hub/openPair';
import { pairFit, releasePair, type ModelPair, type PairFit } from '../../core/model/pair';
import { probeFiles, type ProbeLauncher } from '../../core/model/providerProbe';
import { HistoryStore, notSavedReason } from './historyStore';

export interface HostPort {
  post(message: HostMessage): void;
  onMessage(listener: (data: unknown) => void): void;
}

export interface HostOptions {
  /** user data folder: history, the model download cache and the provider probe live here */
  dataDir: string;
  /** the provider probe's child script, where the host runs from a bundle (Electron) */
  probeLauncher?: ProbeLauncher;
  embeddedPair: { target: string; draft: string };
  /** a Hub mirror (default huggingface.co) */
  hubHost?: string;
  /**
   * the clients are remote (serve): errors about a model folder say only that it is not one, so
   * that nobody learns which paths exist on this machine or what its files contain
   */
  remoteClients?: boolean;
}

const JOB_NAMES = {
  sweep: 'a sweep',
  download: 'a download',
  'live-start': 'a step-by-step run',
  'live-next': 'a step-by-step run',
  probe: 'a look at one position',
} as const;

/** Events go out at most about once per animation frame. */
const BATCH_MS = 16;

/** Let queued messages (a cancel, say) in between decoding steps. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function startEngineHost(port: HostPort, options: HostOptions): void {
  // transformers.js' default cache lies inside its package, read-only inside an asar.
  const cacheDir = join(options.dataDir, 'models');
  const hubHost = options.hubHost ?? process.env.SPECDEC_HUB_HOST;
  const history = new HistoryStore(join(options.dataDir, 'history'));
  const sweeps = new Map<string, AbortController>();
  const activeHistory = new Set<string>();
  let live: { requestId: string; run: SpeculativeRun } | null = null;
  let loaded: {
    key: string;
    pair: ModelPair;
    info: { target: LoadedModelInfo; draft: LoadedModelInfo };
  } | null = null;
  /** the job running now, in words, or null */
  let busy: string | null = null;

  const post = (m: HostMessage): void => port.post(m);
  const fail = (requestId: string | null, err: unknown): void => {
    if (options.remoteClients && err instanceof SpecDecError && FOLDER_ERRORS.has(err.code)) {
      // one answer for "missing" and "broken", and nothing read from the folder
      post({
        type: 'error',
        requestId,
        code: 'MODEL_FOLDER_INVALID',
        message: `Not a model folder this server can use: ${err.subject ?? 'one of the folders given'}. Give a folder on the serving machine that holds config.json, tokenizer.json and onnx/model.onnx.`,
      });
      return;
    }
    const code = err instanceof SpecDecError ? err.code : 'INTERNAL';
    const settings = err instanceof SpecDecError ? [...err.settings] : [];
    post({
      type: 'error',
      requestId,
      code,
      message: describeError(err),
      ...(settings.length > 0 ? { settings } : {}),
    });
  };

  const spec = (m: ModelChoice, embedded: string): ModelSpec => ({
    source: m.source ?? embedded,
    dtype: m.dtype,
    ep: m.ep,
  });
  const hubOptions = (requestId: string, choice: PairChoice, signal: AbortSignal) => ({
    cacheDir,
    offline: choice.offline,
    signal,
    ...(hubHost ? { hubHost } : {}),
    onProgress: (progress: import('../../shared/protocol').DownloadProgress) =>
      post({ type: 'download-progress', requestId, progress }),
  });

  const probe = {
    ...probeFiles(options.dataDir),
    ...(options.probeLauncher ? { launcher: options.probeLauncher } : {}),
  };

  /**
   * The pair a request runs on: downloaded if needed (cancellable), loaded once and kept.
   * A request the models cannot hold (`config` past their context) is refused before any
   * session opens.
   */
  /** the pair a request runs on, loaded (or the loaded one); `check` runs before any session opens */
  async function pairFor(
    requestId: string,
    choice: PairChoice,
    check: (fit: PairFit) => void,
    signal: AbortSignal,
  ): Promise<ModelPair> {
    const target = spec(choice.target, options.embeddedPair.target);
    const draft = spec(choice.draft, options.embeddedPair.draft);
    const key = JSON.stringify([target, draft]);
    if (loaded?.key !== key) {
      live = null; // its models are about to go
      if (loaded) await releasePair(loaded.pair);
      loaded = null;
      const opened = await openPair(target, draft, hubOptions(requestId, choice, signal), {
        probe,
        check,
      });
      if (opened.downloadedBytes > 0) {
        post({ type: 'download-done', requestId, downloadedBytes: opened.downloadedBytes });
      }
      loaded = { key, pair: opened.pair, info: { target: opened.target, draft: opened.draft! } };
    } else check(pairFit(loaded.pair));
    post({ type: 'models-loaded', requestId, ...loaded.info });
    return loaded.pair;
  }

  /** Fetch both models into the cache (or find them there) without loading them. */
  async function download(requestId: string, choice: PairChoice, signal: AbortSignal) {
    const models = [
      spec(choice.target, options.embeddedPair.target),
      spec(choice.draft, options.embeddedPair.draft),
    ];
    const resolved = await resolveModels(models, hubOptions(requestId, choice, signal));
    const bytes = resolved.reduce((s, r) => s + r.downloadedBytes, 0);
    post({ type: 'download-done', requestId, downloadedBytes: bytes });
  }

  function batcher(requestId: string) {
    let buffer: EngineEvent[] = [];
    let last = performance.now();
    const flush = (): void => {
      if (buffer.length === 0) return;
      post({ type: 'events', requestId, events: buffer });
      buffer = [];
      last = performance.now();
    };
    return {
      push(ev: EngineEvent): void {
        buffer.push(ev);
        if (ev.type === 'run-end' || performance.now() - last >= BATCH_MS) flush();
      },
      flush,
    };
  }

  /** what a sweep request runs: checked before any model work (and before "busy") */
  function sweepConfigOf(settings: SweepSettings): SweepConfig {
    const config: SweepConfig = {
      prompts: settings.prompts,
      maxNewTokens: settings.maxNewTokens,
      ks: settings.ks,
      repeats: settings.repeats,
      warmup: 1,
      noKvCache: false,
      reportProbabilities: true,
      policies: settings.policies,
      drafters: settings.drafters,
      pMin: settings.pMin,
      ...(settings.sampling ? { sampling: settings.sampling } : {}),
      ...(settings.repetition ? { repetition: settings.repetition } : {}),
    };
    checkSweepSettings(config, true);
    return config;
  }

  /** a live run is a one-K, one-prompt sweep as far as its settings go */
  function liveConfigOf(settings: LiveSettings): SweepConfig {
    const config: SweepConfig = {
      prompts: [settings.prompt],
      maxNewTokens: settings.maxNewTokens,
      ks: [settings.k],
      repeats: 1,
      warmup: 0,
      noKvCache: false,
      policies: [settings.policy],
      drafters: [settings.drafter],
      pMin: settings.pMin,
      ...(settings.sampling ? { sampling: settings.sampling } : {}),
      ...(settings.repetition ? { repetition: settings.repetition } : {}),
    };
    checkSweepSettings(config, true);
    return config;
  }

  async function sweep(
    requestId: string,
    settings: SweepSettings,
    config: SweepConfig,
    signal: AbortSignal,
  ): Promise<void> {
    const pair = await pairFor(
      requestId,
      settings.pair,
      (fit) => checkSweepConfig(config, fit),
      signal,
    );
    live = null; // a sweep resets the models' caches under any live run
    const entry: HistoryEntry = {
      id: `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`,
      createdAt: new Date().toISOString(),
      settings,
      models: { target: loaded!.info.target.name, draft: loaded!.info.draft.name },
      rows: [],
      theory: null,
      status: 'running',
    };
    // Saving stops at the first failure (a full disk, a read-only folder); the rows still go
    // out, and sweep-done says why they were not saved.
    let notSaved: string | null = null;
    const save = (write: () => void): void => {
      if (notSaved !== null) return;
      try {
        write();
      } catch (err) {
        notSaved = notSavedReason(err, history.dir);
      }
    };
    const events = batcher(requestId);
    /** the events of the run in progress, saved with its row */
    let runLog: EngineEvent[] = [];
    let stepsSinceYield = 0;
    try {
      activeHistory.add(entry.id);
      const result = await runExperiment(
        pair,
        config,
        {
          onRunStart: (run) => {
            runLog = [];
            post({ type: 'sweep-progress', requestId, ...run });
            if (run.index === 0) save(() => history.saveHeader(entry));
          },
          onEvent: async (ev) => {
            events.push(ev);
            runLog.push(ev);
            if (ev.type === 'step-end' && ++stepsSinceYield >= 4) {
              stepsSinceYield = 0;
              await yieldToEventLoop();
            }
          },
          onRunEnd: (_run, row) => {
            events.flush();
            entry.rows.push(row);
            save(() => history.appendRow(entry.id, row));
            // the log after the row: a row without its log still reads (it cannot be replayed)
            save(() => history.appendEvents(entry.id, row.runId, runLog));
            runLog = [];
            post({ type: 'sweep-row', requestId, row });
          },
        },
        signal,
      );
      events.flush();
      entry.theory = result.theory;
      entry.status = result.cancelled ? 'cancelled' : 'finished';
      // a sweep cancelled before its first run finished leaves nothing worth listing
      if (entry.rows.length > 0) save(() => history.saveHeader(entry));
      else history.remove(entry.id);
      post({
        type: 'sweep-done',
        requestId,
        cancelled: result.cancelled,
        historyId: entry.id,
        theory: entry.theory,
        notSaved,
      });
    } catch (err) {
      events.flush();
      if (entry.rows.length > 0) {
        entry.status = 'failed';
        save(() => history.saveHeader(entry));
      } else history.remove(entry.id);
      throw err;
    } finally {
      activeHistory.delete(entry.id);
    }
  }

  async function liveStart(
    requestId: string,
    settings: LiveSettings,
    config: SweepConfig,
    signal: AbortSignal,
  ): Promise<void> {
    const pair = await pairFor(
      requestId,
      settings.pair,
      (fit) => checkSweepConfig(config, fit),
      signal,
    );
    const run = new SpeculativeRun(pair, settings.k, {
      prompt: settings.prompt,
      maxNewTokens: settings.maxNewTokens,
      reportProbabilities: true,
      runId: requestId,
      policy: settings.policy,
      drafter: settings.drafter,
      pMin: settings.pMin,
      ...(settings.sampling ? { sampling: settings.sampling } : {}),
      ...(settings.repetition ? { repetition: settings.repetition } : {}),
    });
    live = { requestId, run };
    await liveNext(requestId);
  }

  /** the step detail view's question: both models' top tokens at one position of a run */
  async function lookAt(
    req: Extract<HostRequest, { type: 'probe' }>,
    signal: AbortSignal,
  ): Promise<void> {
    const pair = await pairFor(
      req.requestId,
      req.pair,
      (fit) => {
        if (req.tokenIds.length >= fit.nPositions)
          throw new SpecDecError(
            'BAD_ARGUMENT',
            `That position is past these models' context (${fit.nPositions} tokens).`,
          );
      },
      signal,
    );
    const result = await probePosition(pair, req.tokenIds, {
      token: req.token,
      sampling: req.sampling,
      repetition: req.repetition,
    });
    post({ type: 'probe-result', requestId: req.requestId, result });
  }

  function checkLive(requestId: string): { requestId: string; run: SpeculativeRun } {
    if (!live || live.requestId !== requestId) {
      throw new SpecDecError(
        'BAD_ARGUMENT',
        'This step-by-step run is no longer active (a sweep replaced it). Start it again.',
      );
    }
    return live;
  }

  async function liveNext(requestId: string): Promise<void> {
    const current = checkLive(requestId);
    const events = (await current.run.nextStep()) ?? [];
    post({ type: 'live-step', requestId, events, done: current.run.done });
  }

  async function handle(req: HostRequest): Promise<void> {
    switch (req.type) {
      case 'cancel':
        sweeps.get(req.requestId)?.abort();
        return;
      case 'history-list':
        post({
          type: 'history-list',
          requestId: req.requestId,
          entries: history.list(activeHistory),
        });
        return;
      case 'history-get': {
        const entry = history.get(req.id);
        if (!entry)
          throw new SpecDecError(
            'BAD_ARGUMENT',
            `No saved run ${req.id} (it may have been deleted).`,
          );
        post({ type: 'history-entry', requestId: req.requestId, entry });
        return;
      }
      case 'history-run': {
        const events = history.runEvents(req.id, req.runId);
        if (!events)
          throw new SpecDecError(
            'BAD_ARGUMENT',
            'This saved run has no step log to replay (it was saved before logs were kept, or the disk was full): its row in the table is what was kept.',
          );
        post({
          type: 'history-run',
          requestId: req.requestId,
          id: req.id,
          runId: req.runId,
          events,
        });
        return;
      }
      case 'history-rename':
      case 'history-delete': {
        if (activeHistory.has(req.id))
          throw new SpecDecError(
            'BAD_ARGUMENT',
            'This sweep is still running: rename or delete it once it has finished.',
          );
        if (req.type === 'history-delete') history.remove(req.id);
        else {
          let found: boolean;
          try {
            found = history.rename(req.id, req.name);
          } catch (err) {
            throw new SpecDecError(
              'BAD_ARGUMENT',
              `Could not rename the saved sweep: ${notSavedReason(err, history.dir).replace(/^not saved: /, '')}.`,
            );
          }
          if (!found)
            throw new SpecDecError(
              'BAD_ARGUMENT',
              `No saved sweep ${req.id} (it may have been deleted).`,
            );
        }
        // every window's list changes
        post({
          type: 'history-list',
          requestId: req.requestId,
          entries: history.list(activeHistory),
        });
        return;
      }
    }
    // What the request runs, checked first: a request refused for what it asks never holds
    // the engine, even for the next message of the same batch.
    const { requestId } = req;
    let job: (signal: AbortSignal) => Promise<void>;
    if (req.type === 'sweep') {
      const config = sweepConfigOf(req.settings);
      job = (signal) => sweep(requestId, req.settings, config, signal);
    } else if (req.type === 'live-start') {
      const config = liveConfigOf(req.settings);
      job = (signal) => liveStart(requestId, req.settings, config, signal);
    } else if (req.type === 'download') {
      job = (signal) => download(requestId, req.pair, signal);
    } else if (req.type === 'probe') {
      if (req.sampling) checkSampling(req.sampling);
      if (req.repetition) checkRepetition(req.repetition);
      job = (signal) => lookAt(req, signal);
    } else {
      checkLive(requestId);
      job = () => liveNext(requestId);
    }
    // Model work: one job at a time (the models' KV caches are shared state).
    if (busy) {
      throw new SpecDecError(
        'BAD_ARGUMENT',
        `The engine is busy with ${busy}. Cancel it or wait for it to finish.`,
      );
    }
    // Registered before the first await: a cancel sent at any moment after this request
    // reaches it (downloading, probing, loading or running).
    const controller = new AbortController();
    sweeps.set(requestId, controller);
    busy = JOB_NAMES[req.type];
    try {
      await job(controller.signal);
    } finally {
      busy = null;
      sweeps.delete(requestId);
    }
  }

  port.onMessage((data) => {
    const parsed = parseHostRequest(data);
    if (!parsed.ok) {
      post({
        type: 'error',
        requestId: parsed.requestId,
        code: 'BAD_REQUEST',
        message: parsed.message,
      });
      return;
    }
    handle(parsed.request).catch((err: unknown) => fail(parsed.request.requestId, err));
  });
  const label = (dir: string): string => `${basename(dirname(dir))}/${basename(dir)} (embedded)`;
  /** a model folder's context from its config (null when it cannot be read: the run will say) */
  const contextOf = (dir: string): number | null => {
    try {
      const c = JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      const n = c.n_positions ?? c.n_ctx ?? c.max_position_embeddings;
      return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : null;
    } catch {
      return null;
    }
  };
  const contexts = [options.embeddedPair.target, options.embeddedPair.draft].map(contextOf);
  post({
    type: 'ready',
    embeddedPair: {
      target: label(options.embeddedPair.target),
      draft: label(options.embeddedPair.draft),
      context: contexts.includes(null) ? null : Math.min(...(contexts as number[])),
    },
    cacheDir,
  });
}
