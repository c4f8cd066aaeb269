/**
 * Runs the worker's polling passes one at a time. While a pass is under way, callers share one queued
 * pass that starts after it, so a pass always starts after the call that asked for it. The queued pass
 * starts whether the one before it resolved or rejected: a pass that failed once never blocks the
 * later ones (its own callers see its rejection).
 */
export class SerialPass {
  private current: Promise<void> | undefined;
  private queued: Promise<void> | undefined;
  private readonly runQueued = (): Promise<void> => {
    this.queued = undefined;
    return this.run();
  };

  /** @param pass one pass; it decides by itself whether there is anything to do (e.g. when stopped). */
  constructor(private readonly pass: () => Promise<void>) {}

  /** Runs a pass now, or queues one after the pass under way; resolves when that pass is done. */
  run(): Promise<void> {
    if (this.current) {
      this.queued ??= this.current.then(this.runQueued, this.runQueued);
      return this.queued;
    }
    let pass: Promise<void>;
    try {
      pass = this.pass();
    } catch (error) {
      pass = Promise.reject(error);
    }
    const current = pass.finally(() => {
      if (this.current === current) this.current = undefined;
    });
    this.current = current;
    return current;
  }

  /** Settles once the pass under way and the queued one (if any) are over, however they ended. */
  async whenIdle(): Promise<void> {
    while (this.current || this.queued) await Promise.allSettled([this.current, this.queued]);
  }
}
