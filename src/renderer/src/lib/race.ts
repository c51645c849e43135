/**
 * Race replay: two finished runs replayed side by side on their own recorded clocks. A run's
 * track is, after each of its steps, how many of its events had happened, when (the step-end's
 * cumulative time inside the run) and how many new tokens there were: replaying a track at a
 * chosen slow motion shows the tokens appear as they did, without a second inference competing
 * for the cores.
 */
import type { EngineEvent } from '../../../shared/events';

export interface RaceTrack {
  /** events to apply to show the run as it was at times[i] */
  readonly cursors: readonly number[];
  /** seconds into the run, ascending */
  readonly times: readonly number[];
  /** new tokens by then */
  readonly tokens: readonly number[];
  /** the run's whole time, s */
  readonly totalS: number;
  readonly totalTokens: number;
}

export function raceTrack(events: readonly EngineEvent[]): RaceTrack {
  const cursors: number[] = [];
  const times: number[] = [];
  const tokens: number[] = [];
  events.forEach((event, i) => {
    if (event.type === 'run-start') {
      cursors.push(i + 1);
      times.push(0);
      tokens.push(0);
    } else if (event.type === 'step-end' || event.type === 'run-end') {
      cursors.push(i + 1);
      // never backwards, whatever the clock said
      times.push(Math.max(times.at(-1) ?? 0, event.metrics.timeS));
      tokens.push(event.metrics.newTokens);
    }
  });
  return {
    cursors,
    times,
    tokens,
    totalS: times.at(-1) ?? 0,
    totalTokens: tokens.at(-1) ?? 0,
  };
}

/** The track's point at `t` seconds into the run: its last step that had ended by then. */
export function pointAt(track: RaceTrack, t: number): number {
  let lo = 0;
  let hi = track.times.length - 1;
  if (hi < 0) return -1;
  if (t >= track.times[hi]!) return hi;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (track.times[mid]! <= t) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

export const SLOW_MOTIONS: readonly number[] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000];

/** the smallest round slow motion that makes a run of `totalS` last at least `seconds` on screen */
export function autoSlowMotion(totalS: number, seconds = 6): number {
  const wanted = totalS > 0 ? seconds / totalS : 1;
  return SLOW_MOTIONS.find((s) => s >= wanted) ?? SLOW_MOTIONS.at(-1)!;
}

/**
 * The run a configuration is represented by in the race: its median run by time (of an even
 * count, the faster of the middle two), so the default race tells what the verdict tells.
 */
export function medianRun<R extends { runId: string; timeS: number }>(
  runs: readonly R[],
): R | null {
  if (runs.length === 0) return null;
  const sorted = [...runs].sort((a, b) => a.timeS - b.timeS);
  return sorted[(sorted.length - 1) >> 1]!;
}
