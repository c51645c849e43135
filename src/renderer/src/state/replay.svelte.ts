/**
 * What the token stream shows: either a run as it streams in ("following", updated once per
 * frame) or a finished run replayed stop by stop (back, forward, play, scrub over steps).
 */
import { kPerStepFromIndex, kPerStepFromTokens, treeStrip, type TreeStrip } from '../lib/kPerStep';
import { buildReplayIndex, describeStop, EMPTY_INDEX, type ReplayIndex } from '../lib/replayIndex';
import { StreamBuilder, type StreamToken } from '../lib/stream';
import type { RunLog, RunStore } from './runs.svelte';
import type { EngineEvent } from '../../../shared/events';

export const SPEEDS: readonly number[] = [2, 5, 10, 25, 60];

/** token kinds that were drafts (counted as the K used at a step) */
const DRAFTED: ReadonlySet<StreamToken['kind']> = new Set(['draft', 'accepted', 'rejected']);

export class ReplayState {
  runId = $state<string | null>(null);
  /** true: show the run's events as they arrive; false: replaying at `stopIndex` */
  following = $state(true);
  tokens = $state.raw<readonly StreamToken[]>([]);
  index = $state.raw<ReplayIndex>(EMPTY_INDEX);
  stopIndex = $state(0);
  /** the step on screen (0: the prompt alone) */
  step = $state(0);
  playing = $state(false);
  /** replay speed in stops (visible events) per second */
  speed = $state(10);
  /** the run on screen has ended (it can be replayed) */
  finished = $state(false);

  private builder = new StreamBuilder();
  private applied = 0;
  private log: RunLog | null = null;
  private timer: ReturnType<typeof setInterval> | null = null;
  private readonly runs: RunStore;

  constructor(runs: RunStore) {
    this.runs = runs;
  }

  /** the highest step of the replayed run */
  get lastStep(): number {
    return Math.max(0, this.index.steps.length - 1);
  }

  /** drafts proposed at the step on screen: the K used there (null for the prompt) */
  get draftsAtStep(): number | null {
    if (this.step === 0) return null;
    if (!this.following) return this.index.steps[this.step]?.drafts ?? null;
    return this.tokens.filter((t) => t.step === this.step && DRAFTED.has(t.kind)).length;
  }

  /**
   * the K used at every step of the run on screen: the whole run once it is indexed (finished),
   * else the steps streamed so far
   */
  get kPerStep(): number[] {
    if (this.index.steps.length > 0) return kPerStepFromIndex(this.index);
    return kPerStepFromTokens(this.tokens, this.step);
  }

  /**
   * a token tree's run: each step's nodes and accepted path length, over the whole run once it is
   * indexed (as kPerStep), else over the events streamed so far; null for a chain's run
   */
  get treeStrip(): TreeStrip | null {
    const shown = this.shownEvents;
    if (!shown) return null;
    const whole = this.index.steps.length > 0;
    return treeStrip(
      shown.events,
      whole ? shown.events.length : shown.applied,
      this.kPerStep.length,
    );
  }

  /** what the replay stop on screen shows ("draft 2 of 3"); null while following */
  get stageText(): string | null {
    const stop = this.index.stops[this.stopIndex];
    if (this.following || !stop || !this.log) return null;
    return describeStop(this.log.events, stop, this.index.steps[stop.step]?.drafts ?? 0);
  }

  /** the run's configured K (null for a baseline) */
  get configuredK(): number | null {
    return this.runId === null ? null : (this.runs.get(this.runId)?.start.k ?? null);
  }

  /**
   * the run on screen's events and how many of them are on screen, for the views beside the
   * stream (the tree panel); null with no run. Updates whenever the tokens on screen do.
   */
  get shownEvents(): { events: readonly EngineEvent[]; applied: number } | null {
    void this.tokens; // what is applied changes only with the tokens: this makes it reactive
    if (this.runId === null || !this.log) return null;
    return { events: this.log.events, applied: this.applied };
  }

  /** the run on screen's controlled acceptance target (an oracle run); null for real drafting */
  get acceptanceTarget(): number | null {
    void this.runId; // the log changes with the run on screen
    void this.tokens;
    return this.log?.acceptanceTarget ?? null;
  }

  /** a finished run is on screen, so the step controls can move through it */
  get replayable(): boolean {
    return this.finished;
  }

  get canBack(): boolean {
    return this.replayable && (this.following ? this.tokens.length > 0 : this.stopIndex > 0);
  }

  get canForward(): boolean {
    return this.replayable && !this.following && this.stopIndex < this.index.stops.length - 1;
  }

  /** Show `runId` as it streams in; `sync` (on the next frame) draws its events. */
  follow(runId: string): void {
    this.pause();
    this.following = true;
    this.load(runId);
  }

  /** Apply the followed run's new events (called once per animation frame). */
  sync(): void {
    if (!this.following || !this.log) return;
    const events = this.log.events;
    if (this.applied >= events.length) return;
    for (; this.applied < events.length; this.applied++) this.builder.apply(events[this.applied]!);
    this.tokens = this.builder.tokens.slice();
    this.step = this.builder.step;
    if (this.log.end && !this.finished) {
      // The run just ended: index it so the scrubber spans it, staying at its end.
      this.index = buildReplayIndex(events);
      this.stopIndex = Math.max(0, this.index.stops.length - 1);
      this.finished = true;
    }
  }

  /**
   * Show a finished run whole (its end: every step applied); stepping back and playing start
   * from there.
   */
  select(runId: string): void {
    this.pause();
    this.load(runId);
    this.enterReplay(Number.POSITIVE_INFINITY);
  }

  /** Show nothing and follow the next run that starts (a new sweep or live run). */
  clear(): void {
    this.pause();
    this.runId = null;
    this.log = null;
    this.following = true;
    this.builder.reset();
    this.applied = 0;
    this.tokens = [];
    this.index = EMPTY_INDEX;
    this.step = 0;
    this.finished = false;
  }

  back(): void {
    if (!this.toReplay()) return;
    this.goTo(this.stopIndex - 1);
  }

  forward(): void {
    if (!this.toReplay()) return;
    this.goTo(this.stopIndex + 1);
  }

  /** Move to the end of the previous or next step. */
  stepBy(delta: -1 | 1): void {
    if (!this.toReplay()) return;
    // Back from the middle of a step also lands on the end of the step before it.
    const current = this.index.stops[this.stopIndex]?.step ?? 0;
    this.toStep(current + delta);
  }

  /** Show the run as it is at the end of `step` (the scrubber). */
  toStep(step: number): void {
    if (!this.toReplay()) return;
    const info = this.index.steps[Math.max(0, Math.min(this.lastStep, step))];
    if (info) this.goTo(info.lastStop);
  }

  togglePlay(): void {
    if (this.playing) this.pause();
    else this.play();
  }

  play(): void {
    if (!this.toReplay()) return;
    if (this.stopIndex >= this.index.stops.length - 1) this.goTo(0);
    this.playing = true;
    this.restartTimer();
  }

  pause(): void {
    this.playing = false;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  setSpeed(speed: number): void {
    this.speed = speed;
    if (this.playing) this.restartTimer();
  }

  private restartTimer(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = setInterval(() => {
      if (this.stopIndex >= this.index.stops.length - 1) this.pause();
      else this.goTo(this.stopIndex + 1);
    }, 1000 / this.speed);
  }

  private load(runId: string): void {
    this.runId = runId;
    this.log = this.runs.get(runId);
    this.finished = this.log?.end != null;
    this.builder.reset();
    this.applied = 0;
    this.tokens = [];
    this.index = EMPTY_INDEX;
    this.stopIndex = 0;
    this.step = 0;
  }

  /** Leave following mode for a finished run, keeping the view where it is (its end). */
  private toReplay(): boolean {
    if (!this.log?.end) return false;
    if (this.following) this.enterReplay(Number.POSITIVE_INFINITY);
    return true;
  }

  private enterReplay(stop: number): void {
    if (!this.log) return;
    this.following = false;
    this.index = buildReplayIndex(this.log.events);
    this.builder.reset();
    this.applied = 0;
    this.goTo(Math.min(stop, this.index.stops.length - 1));
  }

  private goTo(stopIndex: number): void {
    const stops = this.index.stops;
    if (!this.log || stops.length === 0) return;
    const clamped = Math.max(0, Math.min(stops.length - 1, stopIndex));
    const stop = stops[clamped]!;
    const events = this.log.events;
    const rebuilt = stop.cursor < this.applied;
    if (rebuilt) {
      // Going back: fold again from the start (a few thousand events, well under a frame).
      this.builder.reset();
      this.applied = 0;
    }
    for (; this.applied < stop.cursor; this.applied++) this.builder.apply(events[this.applied]!);
    this.stopIndex = clamped;
    this.step = stop.step;
    this.tokens = rebuilt
      ? reuseUnchanged(this.tokens, this.builder.tokens)
      : this.builder.tokens.slice();
  }
}

function sameToken(a: StreamToken, b: StreamToken): boolean {
  return (
    a.key === b.key &&
    a.kind === b.kind &&
    a.text === b.text &&
    a.tokenId === b.tokenId &&
    a.step === b.step &&
    a.draftProb === b.draftProb &&
    a.targetProb === b.targetProb &&
    a.unchecked === b.unchecked
  );
}

/**
 * A re-folded token list that keeps the previous objects where nothing changed, so the keyed
 * list on screen updates only the tokens that differ instead of every one.
 */
function reuseUnchanged(
  previous: readonly StreamToken[],
  next: readonly StreamToken[],
): StreamToken[] {
  return next.map((token, i) => {
    const old = previous[i];
    return old !== undefined && sameToken(old, token) ? old : token;
  });
}
