/**
 * When to start an engine host again after it died (serve's child process, the app's utility
 * process). One that had started (it sent `ready`) and then died, a crash or an out-of-memory
 * kill mid-sweep, starts again at once. One that dies before it is ready (a broken install, a
 * data folder it cannot use) is retried with growing delays and then given up on, instead of
 * restarting in a busy loop; a new request from a person tries again.
 */
export class RestartPolicy {
  private failedStarts = 0;
  private isReady = false;

  constructor(
    private readonly firstDelayMs = 500,
    private readonly maxFailedStarts = 4,
  ) {}

  /** the host said `ready` */
  ready(): void {
    this.isReady = true;
    this.failedStarts = 0;
  }

  /** milliseconds to wait before starting it again, or null: stop trying */
  exited(): number | null {
    if (this.isReady) {
      this.isReady = false;
      return 0;
    }
    this.failedStarts++;
    if (this.failedStarts > this.maxFailedStarts) return null;
    return this.firstDelayMs * 2 ** (this.failedStarts - 1);
  }

  /** a person asked again (a new request): try from the start */
  reset(): void {
    this.failedStarts = 0;
  }
}
