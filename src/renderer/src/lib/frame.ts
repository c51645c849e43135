/**
 * Runs a callback at most once per animation frame, however often it is scheduled: incoming
 * event batches are stored right away and drawn together on the next frame.
 */
export class FrameScheduler {
  private handle: number | null = null;

  constructor(private readonly callback: () => void) {}

  schedule(): void {
    if (this.handle !== null) return;
    this.handle = requestAnimationFrame(() => {
      this.handle = null;
      this.callback();
    });
  }

  /** Run the pending callback now (before a state change that must see every event). */
  flush(): void {
    if (this.handle === null) return;
    cancelAnimationFrame(this.handle);
    this.handle = null;
    this.callback();
  }

  cancel(): void {
    if (this.handle !== null) cancelAnimationFrame(this.handle);
    this.handle = null;
  }
}
