import { parseFilter } from '../find-options.js';
import {
  ScheduledCommandStatus,
  type NewScheduledCommand,
  type ScheduledCommandEntry,
  type ScheduledCommandFilter,
  type ScheduledCommandStatistics,
} from '../scheduled-command-entry.js';
import type { NewRecurringOccurrence } from '../recurring-schedule-record.js';
import { emptyCounts, noPendingFigures, toStatistics } from '../status-counts.js';

/**
 * The rows of the in-memory store and the pure functions over them: what the store keeps, copies,
 * matches and counts. The store itself holds the map and changes rows.
 */

/** An entry as the in-memory store keeps it: a mutable copy. */
export type Row = { -readonly [K in keyof ScheduledCommandEntry]: ScheduledCommandEntry[K] };

/** Whether an entry in `status` holds its idempotency key (pending or processing). */
export const isLive = (status: ScheduledCommandStatus): boolean =>
  status === ScheduledCommandStatus.Pending || status === ScheduledCommandStatus.Processing;

const copyDate = (date: Date | null): Date | null => (date ? new Date(date.getTime()) : null);

/** A detached copy: callers may change what they get without touching the store. */
export function snapshot(row: Row): ScheduledCommandEntry {
  return {
    ...row,
    scheduledFor: new Date(row.scheduledFor.getTime()),
    expiresAt: copyDate(row.expiresAt),
    metadata: row.metadata ? { ...row.metadata } : null,
    createdAt: new Date(row.createdAt.getTime()),
    startedAt: copyDate(row.startedAt),
    completedAt: copyDate(row.completedAt),
    lockedUntil: copyDate(row.lockedUntil),
  };
}

/** The pending row of a new command scheduled at `now` (epoch milliseconds). */
export function newRow(command: NewScheduledCommand, now: number): Row {
  const scheduledFor = command.scheduledFor
    ? command.scheduledFor.getTime()
    : now + (command.delay ?? 0);
  return {
    id: command.id,
    commandType: command.commandType,
    payload: command.payload,
    status: ScheduledCommandStatus.Pending,
    scheduledFor: new Date(scheduledFor),
    priority: command.priority,
    retryCount: 0,
    maxRetries: command.maxRetries,
    attempts: 0,
    expiresAt: command.expiresAfter !== null ? new Date(scheduledFor + command.expiresAfter) : null,
    correlationId: command.correlationId,
    metadata: command.metadata ? { ...command.metadata } : null,
    idempotencyKey: command.idempotencyKey,
    createdAt: new Date(now),
    startedAt: null,
    completedAt: null,
    errorMessage: null,
    resultPayload: null,
    lockedBy: null,
    lockedUntil: null,
    traceContext: command.traceContext ?? null,
    recurringName: (command as Partial<NewRecurringOccurrence>).recurringName ?? null,
  };
}

/** Whether a claim at `now` may take the row: pending, due and not expired. */
export function isClaimable(row: Row, now: number): boolean {
  return (
    row.status === ScheduledCommandStatus.Pending &&
    row.scheduledFor.getTime() <= now &&
    (row.expiresAt === null || row.expiresAt.getTime() > now)
  );
}

/** Builds the predicate of a filter, validating it first (see `parseFilter`). */
export function matcher(filter: ScheduledCommandFilter): (row: Row) => boolean {
  const f = parseFilter(filter);
  const statuses = f.statuses === null ? null : new Set(f.statuses);
  const { commandType, correlationId, idempotencyKey } = f;
  const { scheduledBefore: before, scheduledAfter: after } = f;
  return (row) =>
    (f.recurringName === null || row.recurringName === f.recurringName) &&
    (statuses === null || statuses.has(row.status)) &&
    (commandType === null || row.commandType === commandType) &&
    (correlationId === null || row.correlationId === correlationId) &&
    (idempotencyKey === null || row.idempotencyKey === idempotencyKey) &&
    (before === null || row.scheduledFor.getTime() < before) &&
    (after === null || row.scheduledFor.getTime() >= after);
}

/** The statistics of `rows` at `now` (epoch milliseconds). */
export function statisticsOf(rows: Iterable<Row>, now: number): ScheduledCommandStatistics {
  const counts = emptyCounts();
  const pending = noPendingFigures();
  let total = 0;
  for (const row of rows) {
    counts[row.status] += 1;
    total += 1;
    if (row.status !== ScheduledCommandStatus.Pending) continue;
    const due = row.scheduledFor.getTime();
    if (pending.oldest === null || due < pending.oldest) pending.oldest = due;
    if (row.retryCount > 0) pending.waitingForRetry += 1;
    if (due <= now) pending.dueNow += 1;
  }
  return toStatistics(counts, total, pending);
}

/** The error of a new command whose id is taken. */
export const duplicateId = (id: string): Error =>
  new Error(`A scheduled command with id ${id} already exists`);
