import { Clock } from '../clock.js';

/**
 * A {@link Clock} that only moves when told to: time stands still between calls, so tests decide
 * exactly when a command becomes due, when a lease runs out and when an entry expires.
 *
 * Provide it in place of the system clock (`{ provide: Clock, useValue: clock }` or the module's
 * `clock` option), or pass it to a store such as `InMemoryScheduledCommandStore`.
 */
export class ManualClock extends Clock {
  private current: number;

  /**
   * @param start the initial time. @default the wall-clock time at construction
   * @throws {RangeError} when `start` is an invalid date
   */
  constructor(start: Date | number = Date.now()) {
    super();
    this.current = ManualClock.toMs(start, 'start');
  }

  /** The current manual time (a new `Date` on every call). */
  override now(): Date {
    return new Date(this.current);
  }

  /**
   * Jumps to `date` (forwards or backwards).
   * @throws {RangeError} when `date` is an invalid date
   */
  set(date: Date | number): void {
    this.current = ManualClock.toMs(date, 'date');
  }

  /**
   * Moves the time forward by `ms` milliseconds and returns the new time.
   * @throws {RangeError} when `ms` is negative or not a finite number (use {@link set} to go back)
   */
  advance(ms: number): Date {
    if (typeof ms !== 'number' || !Number.isFinite(ms) || ms < 0) {
      throw new RangeError(
        `ManualClock.advance(ms): expected a finite number >= 0, got ${String(ms)}`,
      );
    }
    this.current += ms;
    return this.now();
  }

  private static toMs(value: Date | number, name: string): number {
    const ms = value instanceof Date ? value.getTime() : value;
    if (typeof ms !== 'number' || !Number.isFinite(ms)) {
      throw new RangeError(`ManualClock: "${name}" is not a valid date`);
    }
    return ms;
  }
}
