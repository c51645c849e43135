/**
 * The step-by-step run (`live-start`, `live-next`): one SpeculativeRun (or TreeRun, for a token
 * tree) on the loaded pair, a step per request. It ends when the models change or a sweep resets their caches.
 */
import type { DecodeRun } from '../../core/decoding/decodeRun';
import { SpeculativeRun } from '../../core/decoding/speculative';
import { TreeRun, verifyMode } from '../../core/decoding/tree/treeRun';
import { SpecDecError } from '../../core/errors';
import { checkSweepConfig, type SweepConfig } from '../../core/experiment/sweep';
import { livePlan } from '../runPlan';
import type { HostMessage, HostRequest, LiveSettings } from '../../shared/protocol';
import type { ModelJob } from './modelWorkSlot';
import type { PairCache } from './pairCache';

export class LiveSession {
  private live: { requestId: string; run: DecodeRun } | null = null;

  constructor(
    private readonly pairs: PairCache,
    private readonly post: (message: HostMessage) => void,
  ) {
    pairs.onUnload(() => this.end()); // its models are about to go
  }

  /** the run can no longer go on (its models changed or their caches were reset) */
  end(): void {
    this.live = null;
  }

  /** checks the settings now (throws), and returns the start and first step to run */
  prepareStart(req: Extract<HostRequest, { type: 'live-start' }>): ModelJob {
    const config = livePlan(req.settings);
    return (signal) => this.start(req.requestId, req.settings, config, signal);
  }

  /** checks that the run is still the active one now (throws), and returns its next step */
  prepareNext(req: Extract<HostRequest, { type: 'live-next' }>): ModelJob {
    this.current(req.requestId);
    return () => this.next(req.requestId);
  }

  private async start(
    requestId: string,
    settings: LiveSettings,
    config: SweepConfig,
    signal: AbortSignal,
  ): Promise<void> {
    const { pair } = await this.pairs.pairFor(
      requestId,
      settings.pair,
      (fit) => checkSweepConfig(config, fit),
      signal,
    );
    const common = {
      prompt: settings.prompt,
      maxNewTokens: settings.maxNewTokens,
      reportProbabilities: true,
      runId: requestId,
      ...(settings.sampling ? { sampling: settings.sampling } : {}),
      ...(settings.repetition ? { repetition: settings.repetition } : {}),
    };
    let run: DecodeRun;
    if (settings.tree) {
      // a token tree: its verify events carry the nodes the app's tree panel draws
      const { shape, budget, verify } = settings.tree;
      const options = { ...common, ...(shape ? { shape } : { budget: budget! }), verify };
      if (verifyMode(pair, options) === 'mask') await pair.target.lm.prepareTreeMask();
      run = new TreeRun(pair, options);
    } else {
      run = new SpeculativeRun(pair, settings.k, {
        ...common,
        policy: settings.policy,
        drafter: settings.drafter,
        pMin: settings.pMin,
      });
    }
    this.live = { requestId, run };
    await this.next(requestId);
  }

  private async next(requestId: string): Promise<void> {
    const current = this.current(requestId);
    const events = (await current.run.nextStep()) ?? [];
    this.post({ type: 'live-step', requestId, events, done: current.run.done });
  }

  private current(requestId: string): { requestId: string; run: DecodeRun } {
    if (!this.live || this.live.requestId !== requestId) {
      throw new SpecDecError(
        'BAD_ARGUMENT',
        'This step-by-step run is no longer active (a sweep replaced it). Start it again.',
      );
    }
    return this.live;
  }
}
