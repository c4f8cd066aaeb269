import { Cron } from 'croner';
import { InvalidRecurringScheduleError } from '../errors/index.js';
import { messages } from '../scheduled-commands.messages.js';

/** The timing part of a recurring schedule. */
export interface FireTimesSpec {
  readonly cron: string | null;
  readonly every: number | null;
  readonly timezone: string;
  readonly startAt: Date | null;
  readonly endAt: Date | null;
}

const MINUTE = 60_000;
/** Longest a clock is ever set back (DST is one hour, or 30 minutes on Lord Howe Island). */
const MAX_SHIFT = 3 * 60 * MINUTE;

/**
 * The fire times of a schedule, read from a cron expression (croner) in a time zone, or every `every`
 * milliseconds from `startAt` (the Unix epoch without one), within `startAt..endAt`.
 *
 * **The DST rule.** Every wall-clock time the expression names runs at most once, and a time of day
 * that falls in a transition still runs once:
 * - spring forward (a gap, e.g. 02:00–03:00 in Europe/Paris): a fixed time of day in the gap (`30 2 * * *`)
 *   runs once, at the first valid time after the gap (03:00); times a repeating expression names in
 *   the gap (`*\/15 * * * *`) do not exist and are not run;
 * - fall back (an overlap, e.g. 02:00–03:00 twice): a wall-clock time that occurs twice runs once, at
 *   its first occurrence; the second pass through the repeated hour does not run it again.
 */
export class FireTimes {
  private readonly cron: Cron | null;
  private readonly offsets: Intl.DateTimeFormat;

  /** @throws InvalidRecurringScheduleError for an expression croner cannot read. */
  constructor(private readonly spec: FireTimesSpec) {
    this.offsets = new Intl.DateTimeFormat('en-US', {
      timeZone: spec.timezone,
      timeZoneName: 'longOffset',
    });
    if (spec.cron === null) {
      this.cron = null;
      return;
    }
    if (typeof spec.cron !== 'string' || spec.cron.trim().split(/\s+/).length > 6) {
      throw new InvalidRecurringScheduleError(
        'cron',
        messages.invalidRecurring('cron', spec.cron, 'a cron expression of 5 or 6 fields'),
      );
    }
    try {
      this.cron = new Cron(spec.cron, {
        timezone: spec.timezone,
        mode: '5-or-6-parts',
        paused: true,
      });
    } catch (error) {
      throw new InvalidRecurringScheduleError(
        'cron',
        messages.invalidRecurring(
          'cron',
          spec.cron,
          `a cron expression of 5 or 6 fields (${(error as Error).message})`,
        ),
      );
    }
  }

  /** The first fire time strictly after `after`, or `null` when there is none (past `endAt`). */
  next(after: Date): Date | null {
    let from = after.getTime();
    if (this.spec.startAt && from < this.spec.startAt.getTime())
      from = this.spec.startAt.getTime() - 1;
    for (let guard = 0; guard < 10_000; guard++) {
      const t = this.cron ? this.cronNext(from) : this.everyNext(from);
      if (t === null) return null;
      if (this.spec.endAt && t > this.spec.endAt.getTime()) return null;
      if (this.cron === null || !this.isRepeatedWallTime(t)) return new Date(t);
      from = t;
    }
    return null;
  }

  private everyNext(from: number): number {
    const every = this.spec.every as number;
    const anchor = this.spec.startAt?.getTime() ?? 0;
    return anchor + (Math.floor((from - anchor) / every) + 1) * every;
  }

  private cronNext(from: number): number | null {
    // croner works in whole seconds; start from the second that contains `from`.
    const next = (this.cron as Cron).nextRun(new Date(Math.floor(from / 1000) * 1000));
    return next ? next.getTime() : null;
  }

  /**
   * True when the wall-clock time of `t` already occurred earlier, because the clocks were set back
   * between then and `t` (the second pass through a fall-back overlap).
   */
  private isRepeatedWallTime(t: number): boolean {
    const now = this.offsetMinutes(t);
    const before = this.offsetMinutes(t - MAX_SHIFT);
    const shift = before - now;
    return shift > 0 && this.offsetMinutes(t - shift * MINUTE) === before;
  }

  /** The zone's UTC offset at `t`, in minutes. */
  private offsetMinutes(t: number): number {
    const name = this.offsets.formatToParts(new Date(t)).find((p) => p.type === 'timeZoneName');
    const m = /GMT([+-])(\d{2}):(\d{2})/.exec(name?.value ?? '');
    if (!m) return 0;
    return (m[1] === '-' ? -1 : 1) * (Number(m[2]) * 60 + Number(m[3]));
  }
}
