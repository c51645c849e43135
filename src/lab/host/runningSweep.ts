/**
 * The sweep running now, as far as its messages have gone out: a client that connects (or asks
 * to run) while it runs is sent this and follows the rest of its messages as its own.
 */
import type { EngineEvent } from '../../shared/events';
import {
  SweepRunStart,
  type HostMessage,
  type RunRow,
  type RunningSweep,
  type SweepSettings,
} from '../../shared/protocol';

export class RunningSweepView {
  private progress: SweepRunStart | null = null;
  private readonly rows: RunRow[] = [];
  /** the events sent of the run under way, from its run-start */
  private runEvents: EngineEvent[] = [];

  constructor(
    readonly requestId: string,
    private readonly settings: SweepSettings,
  ) {}

  /** one message of this sweep on its way out: what a late client must be told of it */
  sent(message: HostMessage): void {
    switch (message.type) {
      case 'sweep-progress':
        this.progress = SweepRunStart.parse(message); // the run's fields, without type and id
        return;
      case 'sweep-row':
        this.rows.push(message.row);
        return;
      case 'events': {
        // a batch that starts a run begins the kept events anew from that run-start
        const start = message.events.findLastIndex((ev) => ev.type === 'run-start');
        if (start >= 0) this.runEvents = message.events.slice(start);
        else this.runEvents.push(...message.events);
        return;
      }
      default:
        return;
    }
  }

  snapshot(): RunningSweep {
    return {
      requestId: this.requestId,
      settings: this.settings,
      progress: this.progress,
      rows: [...this.rows],
      events: [...this.runEvents],
    };
  }
}
