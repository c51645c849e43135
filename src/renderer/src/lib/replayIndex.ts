/**
 * Where a replay can stop. Forward and back move one *visible* event at a time (the prompt, a
 * draft, a verdict, a correction/bonus/target token); events that change nothing on screen
 * (an accepted draft's emit, step-end, run-end) ride along with the event before them.
 */
import type { EngineEvent } from '../../../shared/events';

export interface ReplayStop {
  /** index of the visible event this stop shows */
  at: number;
  /** events applied when stopped here */
  cursor: number;
  /** the step shown (0: only the prompt) */
  step: number;
}

export interface StepInfo {
  step: number;
  /** drafts proposed in this step: the K actually used (smaller near max new tokens) */
  drafts: number;
  /** index of the last stop of this step */
  lastStop: number;
}

export interface ReplayIndex {
  stops: ReplayStop[];
  /** indexed by step number; steps[0] is the prompt */
  steps: StepInfo[];
}

export const EMPTY_INDEX: ReplayIndex = { stops: [], steps: [] };

function visible(event: EngineEvent): boolean {
  switch (event.type) {
    case 'run-start':
    case 'draft':
    case 'verify':
      return true;
    case 'emit':
      return event.kind !== 'accepted';
    default:
      return false;
  }
}

function stepOf(event: EngineEvent): number {
  return event.type === 'run-start' || event.type === 'run-end' ? 0 : event.step;
}

export function buildReplayIndex(events: readonly EngineEvent[]): ReplayIndex {
  const stops: ReplayStop[] = [];
  const steps: StepInfo[] = [];
  for (let i = 0; i < events.length; i++) {
    const event = events[i]!;
    if (!visible(event)) continue;
    let end = i + 1;
    while (end < events.length && !visible(events[end]!)) end++;
    const step = stepOf(event);
    for (let s = steps.length; s <= step; s++) steps.push({ step: s, drafts: 0, lastStop: 0 });
    if (event.type === 'draft') steps[step]!.drafts++;
    stops.push({ at: i, cursor: end, step });
    steps[step]!.lastStop = stops.length - 1;
  }
  // Steps without a visible event cannot happen (every step emits a token); fill any gap.
  for (let s = 1; s < steps.length; s++) {
    if (steps[s]!.lastStop < steps[s - 1]!.lastStop) steps[s]!.lastStop = steps[s - 1]!.lastStop;
  }
  return { stops, steps };
}

/** What the stop shows, in words: "draft 2 of 3", "verified: 1 accepted, 2 rejected"... */
export function describeStop(
  events: readonly EngineEvent[],
  stop: ReplayStop,
  drafts: number,
): string {
  const event = events[stop.at];
  switch (event?.type) {
    case 'run-start':
      return 'the prompt';
    case 'draft':
      return `draft ${event.index + 1} of ${drafts}`;
    case 'verify': {
      const accepted = event.verdicts.filter((v) => v === 'accepted').length;
      // a tree's nodes under a branch the target left were never judged: said apart
      const unchecked = event.tree ? event.verdicts.filter((v) => v === 'unchecked').length : 0;
      const rejected = event.verdicts.length - accepted - unchecked;
      return `verified: ${accepted} accepted, ${rejected} rejected${unchecked > 0 ? `, ${unchecked} unchecked` : ''}`;
    }
    case 'emit':
      return event.kind === 'target' ? 'target token' : `${event.kind} token`;
    default:
      return '';
  }
}
