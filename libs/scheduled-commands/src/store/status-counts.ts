import { invalidFilter } from './find-options.js';
import {
  SCHEDULED_COMMAND_STATUSES,
  DEFAULT_EXACT_COUNT_LIMIT,
  type ScheduledCommandStatistics,
  type StatusCounts,
} from './scheduled-command-entry.js';

/** Rows deleted by one `purge()` call when the request sets no `limit`. */
export const DEFAULT_PURGE_LIMIT = 1000;

/** A count of 0 for every status: what the stores' counts start from. */
export function emptyCounts(): StatusCounts {
  return Object.fromEntries(
    SCHEDULED_COMMAND_STATUSES.map((status) => [status, 0]),
  ) as StatusCounts;
}

/** The figures of pending entries in {@link ScheduledCommandStatistics}, as a store gathers them. */
export interface PendingFigures {
  /** Earliest due time of a pending entry, epoch milliseconds, or null when none is pending. */
  oldest: number | null;
  waitingForRetry: number;
  dueNow: number;
}

/** Figures of pending entries before any is seen. */
export const noPendingFigures = (): PendingFigures => ({
  oldest: null,
  waitingForRetry: 0,
  dueNow: 0,
});

/** The statistics of a store from its counts, total and pending figures. */
export function toStatistics(
  counts: StatusCounts,
  total: number,
  pending: PendingFigures,
): ScheduledCommandStatistics {
  return {
    counts,
    total,
    oldestPendingScheduledFor: pending.oldest === null ? null : new Date(pending.oldest),
    waitingForRetry: pending.waitingForRetry,
    dueNow: pending.dueNow,
  };
}

/**
 * The bound of exact counts of `estimateStatistics()`, checked.
 * @throws InvalidScheduleOptionsError when it is not an integer >= 0
 */
export function exactCountLimit(exactUpTo: number | undefined): number {
  const limit = exactUpTo ?? DEFAULT_EXACT_COUNT_LIMIT;
  if (!Number.isInteger(limit) || limit < 0) {
    throw invalidFilter('exactUpTo', exactUpTo, 'an integer >= 0');
  }
  return limit;
}
