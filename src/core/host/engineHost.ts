/**
 * The engine host: runs sweeps and live step-through off the UI thread and speaks the protocol
 * of src/shared/protocol.ts. The same module runs in Electron's utilityProcess and in the
 * `serve` mode's worker thread; only the port differs.
 */
import { randomUUID } from 'node:crypto';
import { basename, dirname, join } from 'node:path';
import { env } from '@huggingface/transformers';
import type { EngineEvent } from '../../shared/events';
import {
  HostRequest,
  type HistoryEntry,
  type HostMessage,
  type LiveSettings,
  type PairChoice,
  type SweepSettings,
} from '../../shared/protocol';
import { SpeculativeRun } from '../decoding/speculative';
import { SpecDecError, describeError } from '../errors';
import { runRecord } from '../experiment/report';
import { runSweep } from '../experiment/sweep';
import { loadPair, releasePair, type ModelPair } from '../model/pair';
import { HistoryStore } from './historyStore';

export interface HostPort {
  post(message: HostMessage): void;
  onMessage(listener: (data: unknown) => void): void;
}

export interface HostOptions {
  /** user data folder: history and the transformers.js cache live here */
  dataDir: string;
  embeddedPair: { target: string; draft: string };
}

/** Events go out at most about once per animation frame. */
const BATCH_MS = 16;

/** Let queued messages (a cancel, say) in between decoding steps. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export function startEngineHost(port: HostPort, options: HostOptions): void {
  // transformers.js' default cache lies inside its package, read-only inside an asar.
  env.cacheDir = join(options.dataDir, 'transformers-cache');
  const history = new HistoryStore(join(options.dataDir, 'history'));
  const sweeps = new Map<string, AbortController>();
  const activeHistory = new Set<string>();
  let live: { requestId: string; run: SpeculativeRun } | null = null;
  let loaded: { key: string; pair: ModelPair } | null = null;
  let busy = false;

  const post = (m: HostMessage): void => port.post(m);
  const fail = (requestId: string | null, err: unknown): void => {
    const code = err instanceof SpecDecError ? err.code : 'INTERNAL';
    post({ type: 'error', requestId, code, message: describeError(err) });
  };

  async function pairFor(choice: PairChoice): Promise<ModelPair> {
    const target = choice.targetDir ?? options.embeddedPair.target;
    const draft = choice.draftDir ?? options.embeddedPair.draft;
    const key = `${target}\n${draft}`;
    if (loaded?.key === key) return loaded.pair;
    if (loaded) await releasePair(loaded.pair);
    loaded = null;
    // GPU execution providers where present, the CPU otherwise.
    const auto = { executionProvider: 'auto' as const };
    loaded = { key, pair: await loadPair(target, draft, { target: auto, draft: auto }) };
    return loaded.pair;
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

  async function sweep(requestId: string, settings: SweepSettings): Promise<void> {
    const pair = await pairFor(settings.pair);
    const controller = new AbortController();
    sweeps.set(requestId, controller);
    live = null; // a sweep resets the models' caches under any live run
    const entry: HistoryEntry = {
      id: `${new Date().toISOString().replace(/[:.]/g, '-')}-${randomUUID().slice(0, 8)}`,
      createdAt: new Date().toISOString(),
      settings,
      models: { target: pair.target.folder.name, draft: pair.draft!.folder.name },
      rows: [],
      status: 'running',
    };
    const events = batcher(requestId);
    let stepsSinceYield = 0;
    try {
      activeHistory.add(entry.id);
      const result = await runSweep(
        pair,
        {
          prompt: settings.prompt,
          maxNewTokens: settings.maxNewTokens,
          ks: settings.ks,
          repeats: settings.repeats,
          warmup: 1,
          noKvCache: false,
          reportProbabilities: true,
        },
        {
          onRunStart: ({ mode, k, repeat, index, total }) => {
            post({ type: 'sweep-progress', requestId, index, total, mode, k, repeat });
            if (index === 0) history.save(entry);
          },
          onEvent: async (ev) => {
            events.push(ev);
            if (ev.type === 'step-end' && ++stepsSinceYield >= 4) {
              stepsSinceYield = 0;
              await yieldToEventLoop();
            }
          },
          onRunEnd: (run) => {
            events.flush();
            const row = runRecord(run);
            entry.rows.push(row);
            history.save(entry);
            post({ type: 'sweep-row', requestId, row });
          },
        },
        controller.signal,
      );
      events.flush();
      entry.status = result.cancelled ? 'cancelled' : 'finished';
      history.save(entry);
      post({ type: 'sweep-done', requestId, cancelled: result.cancelled, historyId: entry.id });
    } catch (err) {
      events.flush();
      if (entry.rows.length > 0) {
        entry.status = 'failed';
        history.save(entry);
      }
      throw err;
    } finally {
      activeHistory.delete(entry.id);
      sweeps.delete(requestId);
    }
  }

  async function liveStart(requestId: string, settings: LiveSettings): Promise<void> {
    const pair = await pairFor(settings.pair);
    const run = new SpeculativeRun(pair, settings.k, {
      prompt: settings.prompt,
      maxNewTokens: settings.maxNewTokens,
      reportProbabilities: true,
      runId: requestId,
    });
    live = { requestId, run };
    await liveNext(requestId);
  }

  async function liveNext(requestId: string): Promise<void> {
    if (!live || live.requestId !== requestId) {
      throw new SpecDecError(
        'BAD_ARGUMENT',
        'This step-by-step run is no longer active (a sweep replaced it). Start it again.',
      );
    }
    const events = (await live.run.nextStep()) ?? [];
    post({ type: 'live-step', requestId, events, done: live.run.done });
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
    }
    // Model work: one job at a time (the models' KV caches are shared state).
    if (busy) {
      throw new SpecDecError(
        'BAD_ARGUMENT',
        'The engine is busy with a sweep. Cancel it or wait for it to finish.',
      );
    }
    busy = true;
    try {
      if (req.type === 'sweep') await sweep(req.requestId, req.settings);
      else if (req.type === 'live-start') await liveStart(req.requestId, req.settings);
      else await liveNext(req.requestId);
    } finally {
      busy = false;
    }
  }

  port.onMessage((data) => {
    const parsed = HostRequest.safeParse(data);
    if (!parsed.success) {
      post({
        type: 'error',
        requestId: null,
        code: 'BAD_REQUEST',
        message: `Malformed request: ${parsed.error.issues[0]?.message ?? 'invalid'}`,
      });
      return;
    }
    handle(parsed.data).catch((err: unknown) => fail(parsed.data.requestId, err));
  });
  const label = (dir: string): string => `${basename(dirname(dir))}/${basename(dir)} (embedded)`;
  post({
    type: 'ready',
    embeddedPair: {
      target: label(options.embeddedPair.target),
      draft: label(options.embeddedPair.draft),
    },
  });
}
