/**
 * The one tracker of the worker's background work: claims under way, completion batches being written,
 * failure writes, a claim put off to the next turn of the event loop. `drain()` and `stop()` await
 * {@link whenIdle} instead of polling flags. It keeps a count, not the promises.
 */
export class BackgroundTasks {
  private pending = 0;
  private waiters: (() => void)[] = [];
  /** Bound once: tracking a task allocates no closure. */
  private readonly done = (): void => this.end();

  /** Pieces of work under way. */
  get size(): number {
    return this.pending;
  }

  /** Counts `task` until it settles, whether it resolves or rejects. */
  track(task: Promise<unknown>): void {
    this.pending++;
    task.then(this.done, this.done);
  }

  /** Counts a piece of work that is not a promise; {@link end} must follow exactly once. */
  begin(): void {
    this.pending++;
  }

  /**
   * Ends a piece of work counted by {@link begin}.
   * @throws {Error} when nothing is under way (an `end()` without its `begin()`)
   */
  end(): void {
    if (this.pending === 0) throw new Error('BackgroundTasks.end() called without begin()');
    if (--this.pending === 0 && this.waiters.length > 0) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
  }

  /** Resolves once no work is under way (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
