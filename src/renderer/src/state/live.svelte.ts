/**
 * Live step-through: one speculative run on the engine, advanced one step per "Next step".
 * The run's events go to the RunStore like a sweep's; this class tracks the request.
 */
import { CHAIN } from '../lib/liveDraft';

export type LiveStatus = 'idle' | 'waiting' | 'ready' | 'done' | 'failed';

export class LiveState {
  requestId = $state<string | null>(null);
  status = $state<LiveStatus>('idle');
  /** the K for the next step-by-step run */
  kText = $state('3');
  /** what it drafts: a chain of K, or a token tree of the set-up (lib/liveDraft.ts's values) */
  draft = $state(CHAIN);
  error = $state<string | null>(null);
  /** why the typed K was refused */
  kError = $state<string | null>(null);
  /** the run id of the current live run (from its run-start) */
  runId = $state<string | null>(null);
  steps = $state(0);
  /** drafter, policy and decoding of the current live run, e.g. "model / heuristic, greedy" */
  strategy = $state('');

  get active(): boolean {
    return this.status === 'waiting' || this.status === 'ready';
  }

  get canNext(): boolean {
    return this.status === 'ready';
  }

  owns(requestId: string | null): boolean {
    return requestId !== null && requestId === this.requestId;
  }

  /** the current live run drafts a token tree (its K is the tree's depth) */
  tree = $state(false);

  start(requestId: string, strategy: string, tree = false): void {
    this.requestId = requestId;
    this.strategy = strategy;
    this.tree = tree;
    this.status = 'waiting';
    this.error = null;
    this.runId = null;
    this.steps = 0;
  }

  next(): void {
    this.status = 'waiting';
  }

  onStep(done: boolean): void {
    this.steps++;
    this.status = done ? 'done' : 'ready';
  }

  fail(message: string): void {
    if (this.status === 'idle' || this.status === 'done') return;
    this.status = 'failed';
    this.error = message;
  }

  /** A sweep replaces the engine's live run: this one cannot go on. */
  end(): void {
    if (this.active) this.status = 'done';
  }
}
