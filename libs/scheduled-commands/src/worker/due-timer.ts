/**
 * The timer that wakes the worker when the nearest future command becomes due, so that it starts on
 * time rather than at the next polling pass. A local wait: it is measured on the monotonic clock
 * (`performance.now()`), never on the wall clock or the injected `Clock`.
 */
export class DueTimer {
  private timer: NodeJS.Timeout | undefined;
  private at = Infinity;
  /** Back-off while a command is due but could not be claimed. */
  private retry = 0;
  private readonly fired = (): void => {
    this.timer = undefined;
    this.at = Infinity;
    this.wake();
  };

  /**
   * @param horizon the polling interval: a timer that would fire later is not set (the pass comes first)
   * @param wake called when the timer fires
   */
  constructor(
    private readonly horizon: number,
    private readonly wake: () => void,
  ) {}

  /** Whether a timer is set. */
  get armed(): boolean {
    return this.timer !== undefined;
  }

  /** Sets the timer for `ms` from now unless one is already set for earlier (or the pass comes first). */
  arm(ms: number): void {
    if (ms >= this.horizon) return;
    ms = Math.max(0, ms);
    const at = performance.now() + ms;
    if (this.timer && this.at <= at) return;
    this.clear();
    this.at = at;
    this.timer = setTimeout(this.fired, ms);
  }

  /**
   * Sets the timer from the store's answer after a claim: `msUntilDue` until the nearest pending
   * command (`null`: none). When one is already due although the claim just found nothing (the timer
   * fired a millisecond early, the row is locked by another instance's claim, or it expired and waits
   * for the sweep), it looks again soon, backing off up to the polling interval.
   */
  armFor(msUntilDue: number | null, claimedAny: boolean): void {
    if (msUntilDue === null) return;
    if (msUntilDue > 0) {
      this.retry = 0;
      this.arm(msUntilDue);
      return;
    }
    this.retry = claimedAny ? 0 : Math.min(this.horizon, Math.max(1, this.retry * 2));
    this.arm(this.retry);
  }

  clear(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.at = Infinity;
  }
}
