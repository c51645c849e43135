/**
 * The step detail view: the position picked in the token stream, what the run's events say
 * about it, and the target's and the draft's top tokens there, asked of the engine (a probe)
 * only while the view is open.
 */
import type { EngineEvent } from '../../../shared/events';
import type { ProbeResult } from '../../../shared/protocol';
import { positionFacts, type PositionFacts } from '../lib/stepDetail';
import type { StreamToken } from '../lib/stream';

export class DetailState {
  /** the view is open: picking a token asks the engine */
  open = $state(false);
  facts = $state.raw<PositionFacts | null>(null);
  /** the picked token, as the stream shows it */
  token = $state.raw<StreamToken | null>(null);
  result = $state.raw<ProbeResult | null>(null);
  status = $state<'idle' | 'waiting' | 'done' | 'failed'>('idle');
  error = $state<string | null>(null);
  /** why the picked token has no detail ("the prompt", "not checked"), or null */
  note = $state<string | null>(null);
  requestId: string | null = null;

  owns(requestId: string | null): boolean {
    return requestId !== null && requestId === this.requestId;
  }

  /** Pick a token of `events`' run: returns the facts to probe, or null (nothing to ask). */
  pick(token: StreamToken, events: readonly EngineEvent[]): PositionFacts | null {
    this.token = token;
    this.result = null;
    this.error = null;
    this.requestId = null;
    this.status = 'idle';
    this.facts = null;
    if (token.kind === 'prompt' || token.position === null) {
      this.note = 'The prompt: pick a token after it.';
      return null;
    }
    if (token.kind === 'draft') {
      this.note = 'A pending draft: the target has not judged it yet.';
      return null;
    }
    if (token.unchecked) {
      this.note =
        'A discarded draft: an earlier draft of its step was rejected, so the target never judged it.';
      return null;
    }
    const facts = positionFacts(events, token.position);
    if (!facts) {
      this.note = 'The run has no verdict at this position.';
      return null;
    }
    this.note = null;
    this.facts = facts;
    return facts;
  }

  wait(requestId: string): void {
    this.requestId = requestId;
    this.status = 'waiting';
  }

  onResult(result: ProbeResult): void {
    this.result = result;
    this.status = 'done';
  }

  fail(message: string): void {
    this.status = 'failed';
    this.error = message;
  }
}
