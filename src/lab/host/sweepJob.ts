/**
 * The `sweep` request: its settings become a sweep plan (refused before any model work), the
 * experiment runs on the loaded pair with its progress, rows and events streamed to the client,
 * and the sweep is saved to history as it goes.
 */
import type { HistoryStore } from './historyStore';
import { runExperiment } from '../experiment';
import { checkSweepConfig, type SweepConfig } from '../../core/experiment/sweep';
import { sweepPlan } from '../runPlan';
import type { HostMessage, HostRequest, RunningSweep, SweepSettings } from '../../shared/protocol';
import { EventBatcher } from './eventBatcher';
import type { ModelJob } from './modelWorkSlot';
import type { PairCache } from './pairCache';
import { RunningSweepView } from './runningSweep';
import { SweepRecord } from './sweepRecord';

/** Let queued messages (a cancel, say) in between decoding steps. */
const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

export class SweepJob {
  private readonly savingIds = new Set<string>();
  /** the sweep running now (from its acceptance to its end), for clients that attach to it */
  private current: RunningSweepView | null = null;

  constructor(
    private readonly pairs: PairCache,
    private readonly history: HistoryStore,
    private readonly post: (message: HostMessage) => void,
    /** a sweep resets the models' caches: whatever else ran on them (a live run) ends */
    private readonly onModelsReset: () => void,
  ) {}

  /** the history entries a running sweep is still writing */
  get saving(): ReadonlySet<string> {
    return this.savingIds;
  }

  /** a sweep runs now (from its acceptance to its end) */
  get isRunning(): boolean {
    return this.current !== null;
  }

  /** the sweep running now as a late client needs it, or null */
  running(): RunningSweep | null {
    return this.current?.snapshot() ?? null;
  }

  /** checks the settings now (throws), and returns the sweep to run */
  prepare(req: Extract<HostRequest, { type: 'sweep' }>): ModelJob {
    // the app's sweeps warm up (the default) and show each drafted token's probabilities
    const config = sweepPlan(req.settings, { reportProbabilities: true });
    return (signal) => this.run(req.requestId, req.settings, config, signal);
  }

  private async run(
    requestId: string,
    settings: SweepSettings,
    config: SweepConfig,
    signal: AbortSignal,
  ): Promise<void> {
    const view = new RunningSweepView(requestId, settings);
    this.current = view;
    try {
      await this.runTracked(requestId, settings, config, signal, view);
    } finally {
      if (this.current === view) this.current = null;
    }
  }

  private async runTracked(
    requestId: string,
    settings: SweepSettings,
    config: SweepConfig,
    signal: AbortSignal,
    view: RunningSweepView,
  ): Promise<void> {
    // what goes out is also what a client that attaches later is told
    const post = (message: HostMessage): void => {
      view.sent(message);
      this.post(message);
    };
    const { pair, info } = await this.pairs.pairFor(
      requestId,
      settings.pair,
      (fit) => checkSweepConfig(config, fit),
      signal,
    );
    this.onModelsReset();
    const record = new SweepRecord(this.history, settings, {
      target: info.target.name,
      draft: info.draft.name,
    });
    const events = new EventBatcher(requestId, post);
    let stepsSinceYield = 0;
    try {
      this.savingIds.add(record.id);
      const result = await runExperiment(
        pair,
        config,
        {
          onRunStart: (run) => {
            post({ type: 'sweep-progress', requestId, ...run });
            record.runStarted(run.index);
          },
          onEvent: async (ev) => {
            events.push(ev);
            record.event(ev);
            if (ev.type === 'step-end' && ++stepsSinceYield >= 4) {
              stepsSinceYield = 0;
              await yieldToEventLoop();
            }
          },
          onRunEnd: (_run, row) => {
            events.flush();
            record.runFinished(row);
            post({ type: 'sweep-row', requestId, row });
          },
        },
        signal,
      );
      events.flush();
      const costs = result.costs && {
        c: result.costs.c,
        verifyCost: result.costs.verifyCost,
      };
      record.finished(result.theory, result.cancelled, costs);
      this.post({
        type: 'sweep-done',
        requestId,
        cancelled: result.cancelled,
        historyId: record.id,
        theory: record.entry.theory,
        costs: record.entry.costs ?? null,
        notSaved: record.notSaved,
      });
    } catch (err) {
      events.flush();
      record.failed();
      throw err;
    } finally {
      this.savingIds.delete(record.id);
    }
  }
}
