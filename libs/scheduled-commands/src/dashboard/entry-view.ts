import type { ScheduledCommandEntry } from '../store/scheduled-command-entry.js';

/** One row of the entries list, as the dashboard API sends it. */
export interface EntrySummaryView {
  readonly id: string;
  readonly commandType: string;
  readonly status: string;
  readonly scheduledFor: string;
  readonly createdAt: string;
  readonly completedAt: string | null;
  readonly attempts: number;
  readonly retryCount: number;
  readonly maxRetries: number;
  readonly priority: number;
  readonly correlationId: string | null;
  /** The recurring schedule the entry is an occurrence of, or null. */
  readonly recurringName: string | null;
  /** The latest error's first line, cut to 200 characters. */
  readonly error: string | null;
}

/** Everything about one entry, as the entry page shows it. */
export interface EntryDetailView extends EntrySummaryView {
  /** The command's fields (parsed JSON; the raw text when it does not parse). */
  readonly payload: unknown;
  /** The handler's return value, once completed. */
  readonly result: unknown;
  readonly errorMessage: string | null;
  readonly expiresAt: string | null;
  readonly startedAt: string | null;
  readonly idempotencyKey: string | null;
  readonly metadata: Record<string, string> | null;
  readonly lockedBy: string | null;
  readonly lockedUntil: string | null;
}

const iso = (date: Date | null): string | null => (date ? date.toISOString() : null);

function parseJson(text: string | null): unknown {
  if (text === null) return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/** The list row of `entry`. */
export function entrySummary(entry: ScheduledCommandEntry): EntrySummaryView {
  return {
    id: entry.id,
    commandType: entry.commandType,
    status: entry.status,
    scheduledFor: entry.scheduledFor.toISOString(),
    createdAt: entry.createdAt.toISOString(),
    completedAt: iso(entry.completedAt),
    attempts: entry.attempts,
    retryCount: entry.retryCount,
    maxRetries: entry.maxRetries,
    priority: entry.priority,
    correlationId: entry.correlationId,
    recurringName: entry.recurringName,
    error: entry.errorMessage === null ? null : entry.errorMessage.split('\n')[0].slice(0, 200),
  };
}

/** The detail of `entry`. */
export function entryDetail(entry: ScheduledCommandEntry): EntryDetailView {
  return {
    ...entrySummary(entry),
    payload: parseJson(entry.payload),
    result: parseJson(entry.resultPayload),
    errorMessage: entry.errorMessage,
    expiresAt: iso(entry.expiresAt),
    startedAt: iso(entry.startedAt),
    idempotencyKey: entry.idempotencyKey,
    metadata: entry.metadata,
    lockedBy: entry.lockedBy,
    lockedUntil: iso(entry.lockedUntil),
  };
}
