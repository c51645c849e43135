/**
 * Model work runs one job at a time (the models' KV caches are shared state), and every job can
 * be cancelled by its request id from the moment it is accepted.
 */
import { SpecDecError } from '../../core/errors';

/** a piece of model work, given the signal that cancels it */
export type ModelJob = (signal: AbortSignal) => Promise<void>;

export class ModelWorkSlot {
  /** the job running now, in words ("a sweep"), or null */
  private busy: string | null = null;
  private readonly controllers = new Map<string, AbortController>();

  cancel(requestId: string): void {
    this.controllers.get(requestId)?.abort();
  }

  /** run `job` holding the engine; refused while another job holds it */
  async run(requestId: string, name: string, job: ModelJob): Promise<void> {
    if (this.busy) {
      throw new SpecDecError(
        'BAD_ARGUMENT',
        `The engine is busy with ${this.busy}. Cancel it or wait for it to finish.`,
      );
    }
    // Registered before the first await: a cancel sent at any moment after this request
    // reaches it (downloading, probing, loading or running).
    const controller = new AbortController();
    this.controllers.set(requestId, controller);
    this.busy = name;
    try {
      await job(controller.signal);
    } finally {
      this.busy = null;
      this.controllers.delete(requestId);
    }
  }
}
