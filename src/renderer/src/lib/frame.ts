/**
 * Runs a callback at most once per animation frame, however often it is scheduled: incoming
 * event batches are stored right away and drawn together on the next frame. With a minimum
 * interval it also waits that long after the last run (a stream drawn 10 times a second still
 * looks live, and leaves the cores to the engine).
 */
export class FrameScheduler {
  private handle: number | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private last = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly callback: () => void,
    /** the least time between two runs, in ms (0: every frame) */
    private readonly minIntervalMs = 0,
  ) {}

  schedule(): void {
    if (this.handle !== null || this.timer !== null) return;
    const wait = this.last + this.minIntervalMs - performance.now();
    if (wait > 0) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.frame();
      }, wait);
    } else this.frame();
  }

  /** Run the pending callback now (before a state change that must see every event). */
  flush(): void {
    if (this.handle === null && this.timer === null) return;
    this.cancel();
    this.run();
  }

  cancel(): void {
    if (this.handle !== null) cancelAnimationFrame(this.handle);
    if (this.timer !== null) clearTimeout(this.timer);
    this.handle = null;
    this.timer = null;
  }

  private frame(): void {
    this.handle = requestAnimationFrame(() => {
      this.handle = null;
      this.run();
    });
  }

  private run(): void {
    this.last = performance.now();
    this.callback();
  }
}
