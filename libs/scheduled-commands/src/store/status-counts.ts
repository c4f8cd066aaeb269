import { SCHEDULED_COMMAND_STATUSES, type StatusCounts } from './scheduled-command-entry.js';

/** Rows deleted by one `purge()` call when the request sets no `limit`. */
export const DEFAULT_PURGE_LIMIT = 1000;

/** A count of 0 for every status: what the stores' counts start from. */
export function emptyCounts(): StatusCounts {
  return Object.fromEntries(
    SCHEDULED_COMMAND_STATUSES.map((status) => [status, 0]),
  ) as StatusCounts;
}
