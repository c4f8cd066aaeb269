/**
 * An `AbortController` made only when someone asks for its signal: most handlers never read it, and
 * creating a controller and its signal for every run is a measurable share of the worker's CPU.
 * Aborting before the signal exists is remembered, so a signal created later starts aborted.
 */
export class LazyAbort {
  private controller: AbortController | undefined;
  private reason: unknown;
  private aborted = false;

  /** The signal of this run (created on first access). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.reason);
    }
    return this.controller.signal;
  }

  /** Fires the signal (now, or as soon as it is created). Later calls do nothing. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.reason = reason;
    this.controller?.abort(reason);
  }
}
