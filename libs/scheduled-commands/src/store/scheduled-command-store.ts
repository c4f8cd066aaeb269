import { invalidFilter } from './find-options.js';
import { exactCountLimit } from './status-counts.js';
import {
  SCHEDULED_COMMAND_STATUSES,
  ScheduledCommandStatus,
  type EstimatedStatistics,
  type ClaimRequest,
  type Completion,
  type FindOptions,
  type FindResult,
  type Lease,
  type LeaseRecovery,
  type NewScheduledCommand,
  type ScheduledCommandEntry,
  type ScheduledCommandFilter,
  type ScheduledCommandStatistics,
  type ScheduleResult,
  type ScheduleTime,
  type StatusCounts,
} from './scheduled-command-entry.js';
import type { JoinTransactionOptions, StoreTransaction } from './store-transaction.js';
import { RecurringNotSupportedError } from '../errors/index.js';
import { messages } from '../scheduled-commands.messages.js';
import type {
  DueRecurring,
  RecurringMaterialization,
  RecurringScheduleRecord,
  RecurringWrite,
} from './recurring-schedule-record.js';

/** Arguments of {@link ScheduledCommandStore.purge}. */
export interface PurgeRequest {
  /** Entries that finished (`completedAt`) strictly before this time are deleted. */
  readonly olderThan: Date;
  /** Finished statuses to purge (pending and processing entries are never purged). */
  readonly statuses: readonly ScheduledCommandStatus[];
  /** Delete at most this many rows in this call (small batches keep locks short). @default 1000 */
  readonly limit?: number;
}

/** A subscription to cross-instance wake-ups, see {@link ScheduledCommandStore.watch}. */
export interface StoreWatch {
  close(): Promise<void>;
}

/**
 * The storage seam: where scheduled commands live.
 *
 * It is both the injection token and the contract. Every method that changes state is **one atomic,
 * conditional operation**: it checks that the entry is still in the state (and lease) the caller
 * believes, and when it is not, it changes nothing and says so through its return value (`null`,
 * `false`, or an id missing from the returned list). Races (cancel vs. claim, two workers, a lease
 * that ran out) therefore have exactly one winner.
 *
 * Time: every comparison with "now" (what is due, what has expired, whose lease ran out) and every
 * time written (`startedAt`, `completedAt`, retry times) uses the store's own clock — the database
 * clock on PostgreSQL, the injected `Clock` for SQLite and the in-memory store.
 *
 * Ids passed in are well-formed (the scheduler validates them); an unknown id is never an error.
 * `payload`, `resultPayload` and `metadata` are kept verbatim (a `jsonb` column that reformats JSON
 * would not do for `payload`).
 *
 * Implement it to keep commands somewhere else, and check your implementation with the conformance
 * suite exported from `nestjs-scheduled-commands/testing/conformance`.
 */
export abstract class ScheduledCommandStore {
  /**
   * Creates a `pending` entry. When `idempotencyKey` is set and another live (`pending` or
   * `processing`) entry holds it, nothing is stored and that entry's id is returned with
   * `created: false`. The check is enforced atomically (a unique index in SQL stores).
   */
  abstract schedule(command: NewScheduledCommand): Promise<ScheduleResult>;

  /**
   * Like {@link schedule} for many commands at once (one round-trip where the store can); results in
   * input order. All or nothing: when it rejects, none of the commands was stored.
   */
  abstract scheduleMany(commands: readonly NewScheduledCommand[]): Promise<ScheduleResult[]>;

  /**
   * Atomically claims up to `limit` due entries: `pending`, `scheduledFor <= now`, not expired
   * (`expiresAt` null or `> now`), in claim order (priority descending, `scheduledFor` ascending,
   * then creation order, i.e. `id` ascending). Each claimed entry becomes `processing` with
   * `lockedBy = workerId`, `lockedUntil = now + leaseMs`, `startedAt = now`, `attempts + 1`.
   * Two concurrent claims never return the same entry. Returns the claimed entries (claim order).
   */
  abstract claim(request: ClaimRequest): Promise<ScheduledCommandEntry[]>;

  /**
   * Marks runs as `completed` (`completedAt = now`, `resultPayload`, lease cleared), each only if its
   * entry is still `processing` under that exact lease. Returns the ids that were written. All or
   * nothing: when it rejects, none was written (so a retry of the same batch reports every id).
   */
  abstract complete(completions: readonly Completion[]): Promise<string[]>;

  /**
   * A failed attempt that will be retried: `processing` (under `lease`) → `pending`, `retryCount + 1`,
   * `scheduledFor = now + delayMs`, `errorMessage`, lease cleared. Returns the updated entry, or
   * `null` when the lease is no longer held.
   */
  abstract retry(
    lease: Lease,
    errorMessage: string,
    delayMs: number,
  ): Promise<ScheduledCommandEntry | null>;

  /**
   * Dead-letters a run: `processing` (under `lease`) → `failed`, `completedAt = now`, `errorMessage`,
   * lease cleared. Returns the updated entry, or `null` when the lease is no longer held.
   */
  abstract deadLetter(lease: Lease, errorMessage: string): Promise<ScheduledCommandEntry | null>;

  /**
   * Gives claimed entries back without counting the attempt (graceful shutdown, claimed but not started):
   * `processing` (under each lease) → `pending`, `attempts - 1`, lease and `startedAt` cleared,
   * `scheduledFor` unchanged. Returns the ids released.
   */
  abstract release(leases: readonly Lease[]): Promise<string[]>;

  /** Heartbeat: `lockedUntil = now + leaseMs` for each entry still held under its lease. Returns the ids still held. */
  abstract extendLeases(leases: readonly Lease[], leaseMs: number): Promise<string[]>;

  /**
   * Takes over up to `limit` `processing` entries whose lease ran out (`lockedUntil <= now`): the lost
   * run counts as a failed attempt. When `attempts > maxRetries` the entry becomes `failed`
   * (`completedAt = now`); otherwise it goes back to `pending` with `retryCount + 1` and
   * `scheduledFor = now`. Both get `errorMessage` naming the worker whose lease ran out, and the lease cleared.
   */
  abstract recoverExpiredLeases(limit: number): Promise<LeaseRecovery>;

  /** Moves up to `limit` `pending` entries whose `expiresAt <= now` to `expired` (`completedAt = now`); returns them. */
  abstract expireDue(limit: number): Promise<ScheduledCommandEntry[]>;

  /** `pending` → `cancelled` (`completedAt = now`). Returns the cancelled entry, or `null` if it was not pending. */
  abstract cancel(id: string): Promise<ScheduledCommandEntry | null>;

  /**
   * Moves a `pending` entry (also one waiting for a retry) to a new due time; `expiresAt` is unchanged.
   * Returns the updated entry, or `null` if it was not pending.
   */
  abstract reschedule(id: string, time: ScheduleTime): Promise<ScheduledCommandEntry | null>;

  /**
   * Puts a finished entry (never a pending or processing one) whose status is in `fromStatuses` back to `pending`, due now, with a fresh
   * retry budget (`retryCount = 0`), no expiry (`expiresAt = null`), `completedAt`/`resultPayload`
   * cleared; `attempts` and `errorMessage` are kept as history. Returns the entry, or `null` when it is
   * not in one of those statuses (or when its idempotency key is held by another live entry).
   */
  abstract requeue(
    id: string,
    fromStatuses: readonly ScheduledCommandStatus[],
  ): Promise<ScheduledCommandEntry | null>;

  /**
   * {@link requeue} for up to `limit` entries matching `filter` whose status is in `fromStatuses`
   * (entries whose idempotency key is held by a live entry are skipped). Returns the requeued entries.
   */
  abstract requeueMany(
    filter: ScheduledCommandFilter,
    fromStatuses: readonly ScheduledCommandStatus[],
    limit: number,
  ): Promise<ScheduledCommandEntry[]>;

  /** The entry with this id, or `null`. */
  abstract get(id: string): Promise<ScheduledCommandEntry | null>;

  /** A page of entries matching `filter`, newest first by default. */
  abstract find(filter: ScheduledCommandFilter, options?: FindOptions): Promise<FindResult>;

  /** Number of entries in every status (0 for statuses with none). */
  abstract countByStatus(): Promise<StatusCounts>;

  /** Counts, total, oldest pending due time, entries waiting for a retry and entries due now. */
  abstract getStatistics(): Promise<ScheduledCommandStatistics>;

  /**
   * Counts per status for a live view of a big table: exact up to `exactUpTo` entries per status,
   * the database's estimate beyond (listed in `approximate`), with the oldest pending due time and,
   * while at most `exactUpTo` entries are pending, the due backlog and the retries waiting. A store
   * whose counts are cheap answers {@link getStatistics}, every figure exact: the default here, and
   * what the in-memory store, SQLite and MySQL/MariaDB do (PostgreSQL estimates).
   *
   * @param exactUpTo the bound of exact counts; @default DEFAULT_EXACT_COUNT_LIMIT (1,000)
   * @throws InvalidScheduleOptionsError when `exactUpTo` is not an integer >= 0
   */
  async estimateStatistics(exactUpTo?: number): Promise<EstimatedStatistics> {
    exactCountLimit(exactUpTo);
    return { ...(await this.getStatistics()), approximate: [] };
  }

  /** Deletes finished entries (see {@link PurgeRequest}); returns how many were deleted. */
  abstract purge(request: PurgeRequest): Promise<number>;

  /**
   * Milliseconds from the store's now until the earliest pending entry is due (0 or negative when one
   * is already due), or `null` when nothing is pending. Lets the worker set a timer instead of waiting
   * for the next poll.
   */
  abstract msUntilNextDue(): Promise<number | null>;

  /**
   * Optional: calls `onScheduled` when any instance sharing this store schedules (or reschedules, or
   * requeues) a command (PostgreSQL `LISTEN/NOTIFY`). Stores without cross-instance notification omit
   * it, or return a handle that never calls back (the TypeORM store on SQLite).
   */
  watch?(onScheduled: () => void): Promise<StoreWatch>;

  // Recurring schedules. A store that predates them keeps compiling: these throw
  // RecurringNotSupportedError until it overrides them. Each is atomic.

  /**
   * Creates (`expectedVersion: null`; returns `null` when the name exists) or updates (only while the
   * schedule has `expectedVersion`; returns `null` otherwise) a schedule, with `version + 1`. With
   * `dropFutureOccurrences`, deletes in the same atomic write the schedule's occurrences that are
   * pending, never started and due after now.
   */
  writeRecurring(write: RecurringWrite): Promise<RecurringScheduleRecord | null> {
    return this.recurringNotSupported(write);
  }

  /** Deletes a schedule and its pending, never started future occurrences; `false` when unknown. */
  removeRecurring(name: string): Promise<boolean> {
    return this.recurringNotSupported(name);
  }

  /** The schedule with this name, or `null`. */
  getRecurring(name: string): Promise<RecurringScheduleRecord | null> {
    return this.recurringNotSupported(name);
  }

  /** Every schedule, by name. */
  listRecurring(): Promise<RecurringScheduleRecord[]> {
    return this.recurringNotSupported();
  }

  /** The store's now and the schedules, not paused, whose `nextFireAt` is `null` or `<= now + horizonMs`. */
  dueRecurring(horizonMs: number): Promise<DueRecurring> {
    return this.recurringNotSupported(horizonMs);
  }

  /**
   * Atomically: advances the schedule (`nextFireAt`, `lastFireAt`, `version + 1`) only while it has
   * `expectedVersion` (with `null`, only checks that it exists), then inserts the occurrences as
   * `pending` entries, skipping any whose (schedule, fire time) already has one (a unique key).
   * Returns the ids inserted, or `null` (nothing written) when the schedule changed or is gone.
   */
  materializeRecurring(materialization: RecurringMaterialization): Promise<string[] | null> {
    return this.recurringNotSupported(materialization);
  }

  private recurringNotSupported(..._args: unknown[]): Promise<never> {
    return Promise.reject(
      new RecurringNotSupportedError(messages.recurringNotSupported(this.constructor.name)),
    );
  }

  /**
   * Optional: the store's writes inside the caller's own transaction, given as `transaction` (for the
   * TypeORM store, the `EntityManager` of a running transaction). Stores that cannot join a
   * transaction omit it; the scheduler then refuses the `manager` option with
   * `TransactionsNotSupportedError`.
   * @returns `null` only with `options.ambient` when `transaction` is not inside a running transaction.
   * @throws ForeignTransactionError when `transaction` does not belong to this store's database.
   * @throws TransactionNotActiveError when its transaction has finished (or never started).
   */
  joinTransaction?(transaction: unknown, options?: JoinTransactionOptions): StoreTransaction | null;

  /**
   * Optional: runs `work` in a new transaction on the store's database, handing it the transaction's
   * handle (for the TypeORM store, its `EntityManager`), which {@link joinTransaction} accepts. Commits
   * when `work` resolves, rolls back when it rejects. Used by `context.transaction()` in handlers.
   */
  withTransaction?<T>(work: (transaction: unknown) => Promise<T>): Promise<T>;

  /**
   * Number of entries in `status`. Defaults to reading {@link countByStatus}; a store may answer
   * it more cheaply.
   *
   * @throws InvalidScheduleOptionsError when `status` is not a `ScheduledCommandStatus`
   */
  async count(status: ScheduledCommandStatus): Promise<number> {
    if (!SCHEDULED_COMMAND_STATUSES.includes(status)) {
      throw invalidFilter('status', status, `one of ${SCHEDULED_COMMAND_STATUSES.join(', ')}`);
    }
    return (await this.countByStatus())[status];
  }

  /** Number of `pending` entries (including those waiting for a retry). */
  getPendingCount(): Promise<number> {
    return this.count(ScheduledCommandStatus.Pending);
  }

  /** Number of `processing` entries. */
  getProcessingCount(): Promise<number> {
    return this.count(ScheduledCommandStatus.Processing);
  }

  /** Number of `failed` (dead-lettered) entries. */
  getFailedCount(): Promise<number> {
    return this.count(ScheduledCommandStatus.Failed);
  }

  /** Number of `completed` entries. */
  getCompletedCount(): Promise<number> {
    return this.count(ScheduledCommandStatus.Completed);
  }

  /** Number of `cancelled` entries. */
  getCancelledCount(): Promise<number> {
    return this.count(ScheduledCommandStatus.Cancelled);
  }

  /** Number of `expired` entries. */
  getExpiredCount(): Promise<number> {
    return this.count(ScheduledCommandStatus.Expired);
  }
}
