/**
 * The engine's event batches on their way to the screen: each batch is stored in the RunStore at
 * once (a sweep's or a step-by-step run's, named for the run selector) and drawn once per frame.
 */
import type { EngineEvent, RunStartEvent } from '../../../shared/events';
import { clockTime } from '../lib/format';
import { FrameScheduler } from '../lib/frame';
import type { LiveState } from './live.svelte';
import type { ReplayState } from './replay.svelte';
import { runConfig, runLabel, type RunLabel, type RunStore } from './runs.svelte';
import type { SweepState } from './sweep.svelte';

/** the least time between two draws of streaming events, ms */
const STREAM_FRAME_MS = 100;

export class EventStream {
  private readonly runs: RunStore;
  private readonly replay: ReplayState;
  private readonly sweep: SweepState;
  private readonly live: LiveState;
  // The stream is drawn at most 10 times a second: enough to watch it grow, and on a 2-core
  // machine every frame drawn is time the engine's session.run waits for a core (bench:app).
  private readonly frame = new FrameScheduler(() => this.draw(), STREAM_FRAME_MS);

  constructor(runs: RunStore, replay: ReplayState, sweep: SweepState, live: LiveState) {
    this.runs = runs;
    this.replay = replay;
    this.sweep = sweep;
    this.live = live;
  }

  /** A batch of the sweep's events: a run that starts is followed while the replay follows. */
  storeSweepEvents(events: readonly EngineEvent[]): void {
    const group = this.sweep.group;
    const started = this.runs.append(events, (start) => this.sweepRunLabel(start, group));
    const latest = started.at(-1);
    if (latest) {
      this.sweep.currentRunId = latest;
      if (this.replay.following) this.replay.follow(latest);
    }
    this.frame.schedule();
  }

  /** A batch of the step-by-step run's events. */
  storeLiveEvents(events: readonly EngineEvent[]): void {
    const started = this.runs.append(events, (start) => ({
      // called once per run-start, not per batch (toLocaleTimeString is slow)
      label: `Step by step, ${this.live.tree ? '' : `K=${start.k ?? '?'} `}${this.live.strategy} (${clockTime(Date.now())})`,
      group: 'Step by step',
      config: 'Step by step',
    }));
    const latest = started.at(-1);
    if (latest) {
      this.live.runId = latest;
      // Stepping is the point of this mode: always show it.
      this.replay.follow(latest);
    }
    this.frame.schedule();
  }

  /** Go back to following the run that is streaming now (or the newest one). */
  followLatest(): void {
    const runId = this.sweep.currentRunId ?? this.live.runId ?? this.runs.choices.at(-1)?.runId;
    if (runId) this.replay.follow(runId);
    this.frame.schedule();
  }

  /** Draw what is pending now (before a state change that must see every event). */
  flush(): void {
    this.frame.flush();
  }

  /** Draw nothing more (the studio is torn down). */
  cancel(): void {
    this.frame.cancel();
  }

  private sweepRunLabel(start: RunStartEvent, group: string): RunLabel {
    const progress = this.sweep.progress;
    const settings = this.sweep.settings;
    const matches = progress !== null && progress.mode === start.mode && progress.k === start.k;
    // name the strategy and the prompt only when the sweep has several
    const strategy =
      matches && settings && settings.policies.length + settings.drafters.length > 2
        ? { policy: progress.policy, drafter: progress.drafter }
        : null;
    const acceptanceTarget = matches ? (progress.acceptanceTarget ?? null) : null;
    const tree = matches ? (progress.tree ?? null) : null;
    return {
      label: runLabel(start, {
        repeat: matches ? progress.repeat : null,
        repeats: settings?.repeats ?? 1,
        strategy,
        promptIndex: matches && (settings?.prompts.length ?? 1) > 1 ? progress.promptIndex : null,
        acceptanceTarget,
        tree,
      }),
      group,
      config: runConfig(start, strategy, acceptanceTarget, tree),
      acceptanceTarget,
    };
  }

  /** Once per animation frame: draw the events that arrived since the last frame. */
  private draw(): void {
    this.replay.sync();
    this.runs.publish();
    const current = this.runs.get(this.sweep.currentRunId);
    if (current) this.sweep.tokensSoFar = current.lastMetrics?.newTokens ?? 0;
  }
}
