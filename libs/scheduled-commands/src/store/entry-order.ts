import type { ScheduledCommandEntry } from './scheduled-command-entry.js';

/** Comparator of ids, ascending: ids are time-ordered UUIDs (v7), so this is creation order. */
export function byIdAsc(a: { readonly id: string }, b: { readonly id: string }): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Comparator of the claim order: `priority` descending, then `scheduledFor` ascending, then
 * creation (`id`) ascending.
 */
export function claimOrder(
  a: Pick<ScheduledCommandEntry, 'id' | 'priority' | 'scheduledFor'>,
  b: Pick<ScheduledCommandEntry, 'id' | 'priority' | 'scheduledFor'>,
): number {
  return (
    b.priority - a.priority || a.scheduledFor.getTime() - b.scheduledFor.getTime() || byIdAsc(a, b)
  );
}

/**
 * A comparator by the time `timeOf` picks, ascending, then by id ascending. A `null` time counts
 * as 0 (the epoch); callers sort entries that all have the time.
 */
export function byTimeThenId<T extends { readonly id: string }>(
  timeOf: (entry: T) => Date | null,
): (a: T, b: T) => number {
  return (a, b) => (timeOf(a)?.getTime() ?? 0) - (timeOf(b)?.getTime() ?? 0) || byIdAsc(a, b);
}
