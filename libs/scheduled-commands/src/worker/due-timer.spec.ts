import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { DueTimer } from './due-timer.js';

describe('DueTimer', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('fires once at the earliest time it was armed for', () => {
    const wake = vi.fn();
    const timer = new DueTimer(10_000, wake);
    timer.arm(500);
    timer.arm(900); // later: ignored
    timer.arm(200); // earlier: replaces it
    vi.advanceTimersByTime(199);
    expect(wake).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(wake).toHaveBeenCalledTimes(1);
    vi.advanceTimersByTime(10_000);
    expect(wake).toHaveBeenCalledTimes(1);
    expect(timer.armed).toBe(false);
  });

  it('is not set beyond the polling interval (the pass comes first)', () => {
    const timer = new DueTimer(1_000, vi.fn());
    timer.arm(1_000);
    expect(timer.armed).toBe(false);
  });

  it('measures on the monotonic clock: a wall-clock jump does not move it', () => {
    const wake = vi.fn();
    const timer = new DueTimer(10_000, wake);
    timer.arm(300);
    vi.setSystemTime(Date.now() + 3_600_000);
    timer.arm(250); // earlier than 300 from the start: replaces it
    vi.advanceTimersByTime(250);
    expect(wake).toHaveBeenCalledTimes(1);
  });

  it('backs off while a command is due but could not be claimed, and resets after a claim', () => {
    const wake = vi.fn();
    const timer = new DueTimer(8, wake);
    const delays: number[] = [];
    for (let i = 0; i < 5; i++) {
      const start = performance.now();
      timer.armFor(0, false);
      if (!timer.armed) {
        delays.push(8);
        continue;
      }
      vi.advanceTimersToNextTimer();
      delays.push(Math.round(performance.now() - start));
    }
    expect(delays).toEqual([1, 2, 4, 8, 8]);
    timer.armFor(0, true);
    expect(timer.armed).toBe(true);
    timer.clear();
    timer.armFor(null, false);
    expect(timer.armed).toBe(false);
  });
});
