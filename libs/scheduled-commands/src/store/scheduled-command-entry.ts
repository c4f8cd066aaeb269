/**
 * Lifecycle states of a scheduled command.
 *
 * - `pending`: waiting to run (first run, or a retry: then `retryCount > 0` and `scheduledFor` is the retry time).
 * - `processing`: claimed by a worker that holds its lease.
 * - `completed`: the handler returned; its result is in `resultPayload`.
 * - `failed`: dead-lettered: retries exhausted, or the command can never run (unknown name, unreadable payload).
 * - `cancelled`: cancelled while still pending.
 * - `expired`: not started before `expiresAt`.
 */
export const ScheduledCommandStatus = {
  Pending: 'pending',
  Processing: 'processing',
  Completed: 'completed',
  Failed: 'failed',
  Cancelled: 'cancelled',
  Expired: 'expired',
} as const;

/** One of the values of {@link ScheduledCommandStatus}. */
export type ScheduledCommandStatus =
  (typeof ScheduledCommandStatus)[keyof typeof ScheduledCommandStatus];

/** Every status, in lifecycle order. */
export const SCHEDULED_COMMAND_STATUSES: readonly ScheduledCommandStatus[] = Object.freeze(
  Object.values(ScheduledCommandStatus),
);

/** Statuses that end an entry's life (it never runs again unless requeued). */
export const FINISHED_STATUSES: readonly ScheduledCommandStatus[] = Object.freeze([
  ScheduledCommandStatus.Completed,
  ScheduledCommandStatus.Failed,
  ScheduledCommandStatus.Cancelled,
  ScheduledCommandStatus.Expired,
]);

/** String metadata attached to an entry (tracking data such as a user id or a source). */
export type ScheduledCommandMetadata = Record<string, string>;

/**
 * A stored scheduled command, as returned by `CommandScheduler.getStatus()` and the store.
 * Entries are plain, read-only snapshots: changing one changes nothing in the database.
 */
export interface ScheduledCommandEntry {
  /** Unique id (a time-ordered UUID, v7). */
  readonly id: string;
  /** The stable name the command class was registered under with `@ScheduledCommand(name)`. */
  readonly commandType: string;
  /** The command's fields as JSON (see `CommandSerializer`). */
  readonly payload: string;
  readonly status: ScheduledCommandStatus;
  /** When the command is due (for a command waiting for a retry: when the retry is due). */
  readonly scheduledFor: Date;
  /** Higher runs first. */
  readonly priority: number;
  /** Failed attempts that were followed by a retry. */
  readonly retryCount: number;
  /** Retries allowed after the first attempt. */
  readonly maxRetries: number;
  /** Runs started so far (claims), including one taken over after a lost lease. */
  readonly attempts: number;
  /** After this time the command is not started any more and becomes `expired`. */
  readonly expiresAt: Date | null;
  readonly correlationId: string | null;
  readonly metadata: ScheduledCommandMetadata | null;
  /** Key that prevents a second live (pending or processing) entry with the same key. */
  readonly idempotencyKey: string | null;
  readonly createdAt: Date;
  /** When the latest attempt started. */
  readonly startedAt: Date | null;
  /** When the entry reached a finished status. */
  readonly completedAt: Date | null;
  /** The latest error (kept when the entry is requeued). */
  readonly errorMessage: string | null;
  /** The handler's return value as JSON, once completed (`null` for `undefined`). */
  readonly resultPayload: string | null;
  /** Id of the worker instance holding the lease while `processing`. */
  readonly lockedBy: string | null;
  /** When the current lease runs out; another instance may take the command over after it. */
  readonly lockedUntil: Date | null;
  /**
   * The trace context of the span that scheduled the command (a W3C `traceparent`, then a space and
   * the `tracestate` if any), stored apart from the payload when an OpenTelemetry SDK is registered;
   * `null` (or absent, in stores that do not keep it) otherwise.
   */
  readonly traceContext?: string | null;
  /** The recurring schedule this entry is an occurrence of, or `null`. */
  readonly recurringName: string | null;
}

/**
 * What the scheduler hands to `ScheduledCommandStore.schedule()`: an entry to create.
 * Times are resolved by the store with its own clock (the database clock on PostgreSQL):
 * `scheduledFor` if given, otherwise now + `delay` (0 when absent);
 * `expiresAt` = resolved scheduledFor + `expiresAfter` when `expiresAfter` is set.
 */
export interface NewScheduledCommand {
  readonly id: string;
  readonly commandType: string;
  readonly payload: string;
  /** An absolute due time; exclusive with `delay`. */
  readonly scheduledFor: Date | null;
  /** Milliseconds from the store's now; exclusive with `scheduledFor`. */
  readonly delay: number | null;
  readonly priority: number;
  readonly maxRetries: number;
  /** Milliseconds after the resolved `scheduledFor`. */
  readonly expiresAfter: number | null;
  readonly correlationId: string | null;
  readonly metadata: ScheduledCommandMetadata | null;
  readonly idempotencyKey: string | null;
  /** The scheduling span's context (see {@link ScheduledCommandEntry.traceContext}); absent without telemetry. */
  readonly traceContext?: string | null;
}

/** Result of scheduling one command. */
export interface ScheduleResult {
  /** The new entry's id, or the id of the live entry that already holds the idempotency key. */
  readonly id: string;
  /** `false` when an existing live entry with the same idempotency key was returned instead. */
  readonly created: boolean;
}

/**
 * Identifies one claim of a command by one worker. Every write the worker makes after
 * running the command is conditional on the lease still being this one: if the lease ran out and
 * another worker took the command over, the write does nothing and returns `false`/`null`.
 */
export interface Lease {
  readonly id: string;
  /** The claiming worker instance's id (`lockedBy`). */
  readonly workerId: string;
  /** The entry's `attempts` value set by this claim (a fencing token). */
  readonly attempt: number;
}

/** Arguments of `ScheduledCommandStore.claim()`. */
export interface ClaimRequest {
  readonly workerId: string;
  /** At most this many entries are claimed. */
  readonly limit: number;
  /** Lease length in milliseconds from the store's now. */
  readonly leaseMs: number;
  /**
   * A hint, which a store may ignore: due entries scheduled before this time may be left out of this
   * claim. The worker passes it while it works through a backlog (the previous claim came back full):
   * the earliest `scheduledFor` of that claim, so that the next one starts where it ended instead of
   * walking again over what was claimed since (on PostgreSQL, the claim index keeps an entry for every
   * claimed row until the table is vacuumed). It claims without it on every polling pass, which picks
   * up any entry that became due with an earlier time meanwhile.
   */
  readonly scheduledFrom?: Date | null;
}

/** A finished run to write back with `ScheduledCommandStore.complete()`. */
export interface Completion {
  readonly lease: Lease;
  /** JSON of the handler's return value, or `null`. */
  readonly resultPayload: string | null;
}

/** A new due time: exactly one of the two. */
export type ScheduleTime =
  | { readonly scheduledFor: Date; readonly delay?: undefined }
  | { readonly delay: number; readonly scheduledFor?: undefined };

/** Filter for `find()`, `requeueMany()` and `purge()`-like queries. All fields are ANDed. */
export interface ScheduledCommandFilter {
  readonly status?: ScheduledCommandStatus | readonly ScheduledCommandStatus[];
  readonly commandType?: string;
  readonly correlationId?: string;
  /** Occurrences of this recurring schedule. */
  readonly recurringName?: string;
  /**
   * Entries scheduled with this idempotency key, in any status (a key is free again once its entry
   * finishes, so finished entries may share it with one live entry). On PostgreSQL and SQLite, a
   * filter that also restricts `status` to `pending` and/or `processing` is served by the unique
   * index of live keys; a lookup over finished entries walks them.
   */
  readonly idempotencyKey?: string;
  /** `scheduledFor < scheduledBefore` */
  readonly scheduledBefore?: Date;
  /** `scheduledFor >= scheduledAfter` */
  readonly scheduledAfter?: Date;
}

/** Paging of `find()`. */
export interface FindOptions {
  /** Page size, 1..1000. @default 50 */
  readonly limit?: number;
  /** Rows to skip (offset paging). @default 0 */
  readonly offset?: number;
  /**
   * Opaque cursor from a previous page's `nextCursor` (keyset paging; stable while rows are inserted).
   * Exclusive with `offset`.
   */
  readonly cursor?: string;
  /** `desc` lists newest first (by creation). @default 'desc' */
  readonly order?: 'asc' | 'desc';
}

/** One page of `find()`. */
export interface FindResult {
  readonly items: ScheduledCommandEntry[];
  /** Pass as `cursor` to get the next page; `null` on the last page. */
  readonly nextCursor: string | null;
}

/** Counts for every status. */
export type StatusCounts = Record<ScheduledCommandStatus, number>;

/** What `getStatistics()` answers. */
export interface ScheduledCommandStatistics {
  readonly counts: StatusCounts;
  readonly total: number;
  /** The earliest `scheduledFor` among pending entries, or `null`. */
  readonly oldestPendingScheduledFor: Date | null;
  /** Pending entries waiting for a retry (`retryCount > 0`). */
  readonly waitingForRetry: number;
  /** Pending entries already due (the backlog). */
  readonly dueNow: number;
}

/**
 * Figures for a live view of a big table (`estimateStatistics()`): counts that are exact up to a
 * bound and the database's estimate beyond it, so that reading them never walks the whole table.
 */
export interface EstimatedStatistics {
  /** Entries per status: exact, except for the statuses listed in {@link approximate}. */
  readonly counts: StatusCounts;
  /** The sum of {@link counts}: an estimate when any of them is. */
  readonly total: number;
  /** Statuses whose count is an estimate (more entries than the bound), not a count. */
  readonly approximate: readonly ScheduledCommandStatus[];
  /** The earliest `scheduledFor` among pending entries, or `null` (exact). */
  readonly oldestPendingScheduledFor: Date | null;
  /** Pending entries waiting for a retry, or `null` when the store did not count them (too many pending). */
  readonly waitingForRetry: number | null;
  /** Pending entries already due, or `null` when the store did not count them (too many pending). */
  readonly dueNow: number | null;
}

/**
 * Entries `estimateStatistics()` counts exactly, per status, by default. Small on purpose: each
 * counted entry costs PostgreSQL a visit of its row's page (for its visibility), about 4 µs warm.
 */
export const DEFAULT_EXACT_COUNT_LIMIT = 1_000;

/** Outcome of `recoverExpiredLeases()`. */
export interface LeaseRecovery {
  /** Entries whose lease ran out and that went back to `pending` (counted as a failed attempt). */
  readonly requeued: ScheduledCommandEntry[];
  /** Entries whose lease ran out on their last allowed attempt: now `failed`. */
  readonly deadLettered: ScheduledCommandEntry[];
}
