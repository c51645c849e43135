/** A run's events go to the client in batches, at most about once per animation frame. */
import type { EngineEvent } from '../../shared/events';
import type { HostMessage } from '../../shared/protocol';

const BATCH_MS = 16;

export class EventBatcher {
  private buffer: EngineEvent[] = [];
  private last = performance.now();

  constructor(
    private readonly requestId: string,
    private readonly post: (message: HostMessage) => void,
  ) {}

  /** a run's end goes out at once, with whatever waited before it */
  push(ev: EngineEvent): void {
    this.buffer.push(ev);
    if (ev.type === 'run-end' || performance.now() - this.last >= BATCH_MS) this.flush();
  }

  flush(): void {
    if (this.buffer.length === 0) return;
    this.post({ type: 'events', requestId: this.requestId, events: this.buffer });
    this.buffer = [];
    this.last = performance.now();
  }
}
