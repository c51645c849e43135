/**
 * A token picked in the stream while the step detail view is open: the engine is asked for both
 * models' top tokens at that position, under the decoding the token's run used.
 */
import type { HostRequest, SweepSettings } from '../../../shared/protocol';
import { newRequestId } from '../lib/ids';
import type { DetailState } from './detail.svelte';
import type { HistoryState } from './history.svelte';
import type { LiveState } from './live.svelte';
import type { ReplayState } from './replay.svelte';
import type { RunStore } from './runs.svelte';
import type { SetupState } from './setup.svelte';
import type { SweepState } from './sweep.svelte';

/** the studio's parts a probe reads: the picked token's run and where its settings are kept */
export interface PositionDetailParts {
  readonly detail: DetailState;
  readonly replay: ReplayState;
  readonly runs: RunStore;
  readonly history: HistoryState;
  readonly live: LiveState;
  readonly sweep: SweepState;
  readonly setup: SetupState;
  /** a run or a download is in flight on the engine: a probe would wait behind it */
  readonly engineBusy: boolean;
}

export class PositionDetailRequest {
  private readonly parts: PositionDetailParts;
  private readonly send: (request: HostRequest) => void;

  constructor(parts: PositionDetailParts, send: (request: HostRequest) => void) {
    this.parts = parts;
    this.send = send;
  }

  /**
   * A token of the stream on screen was picked: when the step detail view is open, ask the
   * engine for both models' top tokens there (under the run's decoding).
   */
  pick(index: number): void {
    const { detail, replay, runs } = this.parts;
    const token = replay.tokens[index];
    const log = runs.get(replay.runId);
    if (!detail.open || !token || !log) return;
    // a click after the focus that picked it already: one question is enough
    if (detail.token === token && detail.status !== 'failed') return;
    const facts = detail.pick(token, log.events);
    if (!facts) return;
    const settings = this.settingsOfRun(log.runId);
    if (!settings) {
      detail.fail('The settings this run used are not known here (start it again).');
      return;
    }
    if (this.parts.engineBusy) {
      detail.fail('The engine is busy with a run: pick the token again once it has finished.');
      return;
    }
    const requestId = newRequestId('probe');
    detail.wait(requestId);
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
    const { history, live, setup, sweep } = this.parts;
    const entry = history.entry;
    if (entry?.rows.some((r) => r.runId === runId)) return entry.settings;
    if (live.runId === runId) return setup.sweepSettings;
    return sweep.settings;
  }
}
