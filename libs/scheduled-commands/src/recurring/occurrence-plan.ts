import type { FireTimes } from './fire-times.js';
import type { MisfirePolicy } from './recurring-options.js';

/** What {@link planOccurrences} needs to know about a schedule and the present. */
export interface PlanInput {
  readonly fireTimes: FireTimes;
  readonly misfire: MisfirePolicy;
  readonly maxCatchUp: number;
  readonly overlap: boolean;
  /** The first fire time not materialised yet; `null`: start from `now` (new or resumed schedule). */
  readonly nextFireAt: Date | null;
  /** The store's now (the database clock on PostgreSQL). */
  readonly now: Date;
  /** Fire times up to `now + horizonMs` are materialised ahead of time. */
  readonly horizonMs: number;
  /** A fire time later than `now - graceMs` is on time (a pass that runs a little late misses nothing). */
  readonly graceMs: number;
  /** An occurrence of the schedule is pending or processing (for `overlap: false`). */
  readonly hasLiveOccurrence: boolean;
}

/** The decision of one materialisation pass for one schedule. */
export interface OccurrencePlan {
  /** Missed fire times that run under the misfire policy, in order. */
  readonly catchUp: Date[];
  /** How many fire times were missed (passed more than `graceMs` ago without an occurrence). */
  readonly missed: number;
  /** Fire times to materialise now, on time or ahead of time. */
  readonly onTime: Date[];
  /** Due fire times skipped because an earlier occurrence was still live (`overlap: false`). */
  readonly overlapSkipped: Date[];
  /** The first fire time left for a later pass, or `null` when the schedule has ended. */
  readonly nextFireAt: Date | null;
}

/** Missed fire times walked one by one at most; past that the walk jumps to the present. */
const MAX_MISSED_WALK = 100_000;

/**
 * Decides, purely, which occurrences of a schedule to create now:
 * - fire times earlier than `now - graceMs` that have no occurrence were **missed**: `'skip'` runs
 *   none, `'once'` the latest, `'all'` the latest `maxCatchUp`, in order;
 * - the following fire times up to `now + horizonMs` are materialised ahead of time, as ordinary
 *   future entries that the worker's due timer starts on time;
 * - with `overlap: false` at most one occurrence is live at a time: a fire time that is already due
 *   while an earlier occurrence is live is skipped, and a future one waits for a later pass.
 */
export function planOccurrences(input: PlanInput): OccurrencePlan {
  const { fireTimes, now } = input;
  const nowMs = now.getTime();
  let t = input.nextFireAt ?? fireTimes.next(now);
  const missedTail: Date[] = [];
  const keep = input.misfire === 'skip' ? 0 : input.misfire === 'once' ? 1 : input.maxCatchUp;
  let missed = 0;
  while (t && t.getTime() < nowMs - input.graceMs) {
    missed++;
    if (keep > 0) {
      missedTail.push(t);
      if (missedTail.length > keep) missedTail.shift();
    }
    t =
      missed >= MAX_MISSED_WALK
        ? fireTimes.next(new Date(nowMs - input.graceMs - 1))
        : fireTimes.next(t);
  }
  const onTime: Date[] = [];
  const overlapSkipped: Date[] = [];
  while (t && t.getTime() <= nowMs + input.horizonMs) {
    const live = input.hasLiveOccurrence || missedTail.length > 0 || onTime.length > 0;
    if (!input.overlap && live) {
      if (t.getTime() > nowMs) break;
      overlapSkipped.push(t);
    } else {
      onTime.push(t);
    }
    t = fireTimes.next(t);
  }
  return { catchUp: missedTail, missed, onTime, overlapSkipped, nextFireAt: t };
}
