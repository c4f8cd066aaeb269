import { Inject, Injectable, Logger, Optional } from '@nestjs/common';
import type { Command } from '@nestjs/cqrs';
import {
  ScheduledCommandCancelledEvent,
  ScheduledCommandRequeuedEvent,
  ScheduledCommandRescheduledEvent,
} from '../events/index.js';
import { LifecycleEvents } from '../events/lifecycle-events.js';
import { publishSafely } from '../events/publish-safely.js';
import { InvalidScheduleOptionsError } from '../errors/index.js';
import { CommandRegistry } from '../registry/command-registry.js';
import { deserializeValue, serializeCommand } from '../registry/command-serializer.js';
import { SCHEDULED_COMMANDS_RESOLVED_OPTIONS } from '../scheduled-commands.constants.js';
import { messages } from '../scheduled-commands.messages.js';
import type { ResolvedScheduledCommandsOptions } from '../scheduled-commands.options.js';
import {
  FINISHED_STATUSES,
  ScheduledCommandStatus,
  type FindOptions,
  type FindResult,
  type NewScheduledCommand,
  type ScheduledCommandEntry,
  type ScheduledCommandFilter,
  type EstimatedStatistics,
  type ScheduledCommandStatistics,
  type ScheduleTime,
} from '../store/scheduled-command-entry.js';
import { ScheduledCommandStore } from '../store/scheduled-command-store.js';
import { ScheduledCommandsTelemetry } from '../telemetry/scheduled-commands-telemetry.js';
import { uuidv7 } from '../util/uuid.js';
import { WorkerSignal } from '../worker/worker-signal.js';
import type { RecurringOptions } from '../recurring/recurring-options.js';
import type { RecurringSchedule } from '../recurring/recurring-schedule.js';
import { RecurringScheduler } from './recurring-scheduler.js';
import {
  assertCommandId,
  normalizeFilter,
  normalizeScheduleOptions,
  normalizeScheduleTime,
  normalizeStatuses,
  validDate,
  type ScheduleOptions,
} from './schedule-options.js';
import {
  transactionOptions,
  transactionScope,
  type TransactionOptions,
} from './transaction-scope.js';

/** One item of {@link CommandScheduler.scheduleMany}. */
export interface ScheduleRequest {
  command: object;
  options?: ScheduleOptions;
}

/** Statuses `retry()` may requeue from. */
export type RequeueableStatus = 'failed' | 'expired' | 'cancelled';

/** Options of {@link CommandScheduler.retry} and {@link CommandScheduler.retryFailed}. */
export interface RetryOptions {
  /** Statuses that may be requeued. @default ['failed'] */
  statuses?: RequeueableStatus[];
}

/** Options of {@link CommandScheduler.retryFailed}. */
export interface RetryManyOptions extends RetryOptions {
  /** Most entries requeued by this call. @default 1000 */
  limit?: number;
}

const REQUEUEABLE: readonly ScheduledCommandStatus[] = ['failed', 'expired', 'cancelled'];

/**
 * The public API: schedule CQRS commands for later, cancel them, read their status and results, and
 * manage them (reschedule, retry dead letters, find, statistics, purge).
 *
 * Every method that takes an id throws `InvalidCommandIdError` for a malformed id and answers
 * `false`/`null`/`undefined` for a well-formed id that is unknown. Invalid options throw
 * `InvalidScheduleOptionsError` and change nothing.
 */
@Injectable()
export class CommandScheduler {
  private readonly logger = new Logger(CommandScheduler.name);

  constructor(
    private readonly store: ScheduledCommandStore,
    private readonly registry: CommandRegistry,
    private readonly events: LifecycleEvents,
    private readonly signal: WorkerSignal,
    @Inject(SCHEDULED_COMMANDS_RESOLVED_OPTIONS)
    private readonly options: ResolvedScheduledCommandsOptions,
    private readonly recurring: RecurringScheduler,
    @Optional() private readonly telemetry?: ScheduledCommandsTelemetry,
  ) {}

  /**
   * Stores `command` to run at `options.scheduledFor`, after `options.delay`, or as soon as possible.
   * @returns the entry's id (an existing live entry's id when its idempotency key matches).
   * @throws UnregisteredCommandError when the command's class is not decorated with `@ScheduledCommand`.
   * @throws InvalidScheduleOptionsError for an invalid option.
   * @throws CommandSerializationError when a field cannot be stored as JSON.
   */
  async schedule(command: Command<unknown> | object, options?: ScheduleOptions): Promise<string> {
    const entry = this.prepare(command, options);
    const scope = this.scope(options?.manager);
    const result = this.telemetry?.active
      ? await this.telemetry.produce([entry], (traced) => scope.store.schedule(traced[0]))
      : await scope.store.schedule(entry);
    if (result.created) scope.after(() => this.signal.scheduled(entry.scheduledFor, entry.delay));
    return result.id;
  }

  /**
   * Schedules many commands in one store round-trip (where the store can), with the same validation and
   * idempotency as {@link schedule}. Every item is validated before anything is stored: one invalid
   * item stores nothing.
   * @returns the ids, in input order.
   */
  async scheduleMany(
    requests: readonly ScheduleRequest[],
    options?: TransactionOptions,
  ): Promise<string[]> {
    const { manager } = transactionOptions(options);
    if (!Array.isArray(requests)) {
      throw new InvalidScheduleOptionsError(
        'requests',
        messages.invalidOption('requests', requests, 'an array'),
      );
    }
    const entries = requests.map((r, i) => {
      if (r === null || typeof r !== 'object' || !('command' in r)) {
        throw new InvalidScheduleOptionsError(
          `requests[${i}]`,
          messages.invalidOption(`requests[${i}]`, r, 'an object { command, options? }'),
        );
      }
      if (r.options?.manager !== undefined) {
        throw new InvalidScheduleOptionsError(
          `requests[${i}].options.manager`,
          messages.invalidOption(
            `requests[${i}].options.manager`,
            'an EntityManager',
            'no manager in an item: pass it as the second argument of scheduleMany',
          ),
        );
      }
      return this.prepare(r.command, r.options);
    });
    if (entries.length === 0) return [];
    const scope = this.scope(manager);
    const results = this.telemetry?.active
      ? await this.telemetry.produce(entries, (traced) => scope.store.scheduleMany(traced))
      : await scope.store.scheduleMany(entries);
    scope.after(() => {
      // The worker keeps only the earliest timer, so telling it about every new entry is cheap.
      for (let i = 0; i < entries.length; i++) {
        if (results[i].created) this.signal.scheduled(entries[i].scheduledFor, entries[i].delay);
      }
    });
    return results.map((r) => r.id);
  }

  /**
   * Cancels a command that is still pending (also one waiting for a retry) and publishes
   * `ScheduledCommandCancelledEvent`.
   * @returns `true` when it was cancelled; `false` when it is unknown or no longer pending.
   */
  async cancel(id: string, options?: TransactionOptions): Promise<boolean> {
    assertCommandId(id);
    const scope = this.scope(transactionOptions(options).manager);
    const entry = await scope.store.cancel(id);
    if (!entry) return false;
    scope.after(() => this.publish(new ScheduledCommandCancelledEvent(entry)));
    return true;
  }

  /** The entry, or `null` when the id is unknown. */
  async getStatus(id: string): Promise<ScheduledCommandEntry | null> {
    assertCommandId(id);
    return this.store.get(id);
  }

  /**
   * The handler's return value (dates rebuilt) once the command is `completed`; `undefined` when the id is
   * unknown, the command has not completed, or the handler returned nothing. Use {@link getStatus} to
   * tell these apart.
   */
  async getResult<T = unknown>(id: string): Promise<T | undefined> {
    assertCommandId(id);
    const entry = await this.store.get(id);
    if (!entry || entry.status !== ScheduledCommandStatus.Completed || entry.resultPayload === null)
      return undefined;
    return deserializeValue(entry.resultPayload) as T;
  }

  /**
   * Moves a pending command (also one waiting for a retry) to a new time, given as `{ scheduledFor }` or
   * `{ delay }`; publishes `ScheduledCommandRescheduledEvent`. Its expiry time is unchanged.
   * @returns `false` when it is unknown or no longer pending.
   */
  async reschedule(id: string, time: ScheduleTime, options?: TransactionOptions): Promise<boolean> {
    assertCommandId(id);
    const normalized = normalizeScheduleTime(time);
    const scope = this.scope(transactionOptions(options).manager);
    const entry = await scope.store.reschedule(id, normalized);
    if (!entry) return false;
    scope.after(() => {
      this.signal.scheduled(time.scheduledFor ?? null, time.delay ?? null);
      this.publish(new ScheduledCommandRescheduledEvent(entry));
    });
    return true;
  }

  /**
   * Puts a dead-lettered command back to `pending`, due now, with a fresh retry budget; its previous
   * error and attempt count are kept. With `statuses` it can also re-run expired or cancelled commands.
   * Publishes `ScheduledCommandRequeuedEvent`.
   * @returns `false` when it is unknown, not in one of those statuses, or another live entry holds its
   *   idempotency key.
   */
  async retry(id: string, options: RetryOptions = {}): Promise<boolean> {
    assertCommandId(id);
    const statuses = this.requeueStatuses(options.statuses);
    const before = await this.store.get(id);
    if (!before || !statuses.includes(before.status)) return false;
    const entry = await this.store.requeue(id, [before.status]);
    if (!entry) return false;
    this.signal.scheduled(null, 0);
    this.publish(new ScheduledCommandRequeuedEvent(entry, before.status));
    return true;
  }

  /**
   * {@link retry} for every dead-lettered command matching `filter` (at most `limit`).
   * @returns the ids requeued.
   */
  async retryFailed(
    filter?: Omit<ScheduledCommandFilter, 'status'>,
    options: RetryManyOptions = {},
  ): Promise<string[]> {
    const f = normalizeFilter(filter);
    if (f.status !== undefined) {
      throw new InvalidScheduleOptionsError(
        'status',
        messages.invalidFilter('status', f.status, 'options.statuses instead'),
      );
    }
    const statuses = this.requeueStatuses(options.statuses);
    const limit = options.limit ?? 1000;
    if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) {
      throw new InvalidScheduleOptionsError(
        'limit',
        messages.invalidOption('limit', limit, 'an integer from 1 to 100000'),
      );
    }
    const ids: string[] = [];
    for (const status of statuses) {
      if (ids.length >= limit) break;
      const entries = await this.store.requeueMany(f, [status], limit - ids.length);
      for (const entry of entries) {
        ids.push(entry.id);
        this.publish(new ScheduledCommandRequeuedEvent(entry, status));
      }
    }
    if (ids.length > 0) this.signal.scheduled(null, 0);
    return ids;
  }

  /** A page of entries matching `filter`, newest first by default (see `FindOptions`). */
  async find(filter?: ScheduledCommandFilter, options?: FindOptions): Promise<FindResult> {
    return this.store.find(normalizeFilter(filter), options);
  }

  /** Counts per status, total, oldest pending due time, entries waiting for a retry and the due backlog. */
  async getStatistics(): Promise<ScheduledCommandStatistics> {
    return this.store.getStatistics();
  }

  /**
   * Counts for a live view of a big table: exact up to `exactUpTo` entries per status, estimated
   * beyond (PostgreSQL; listed in `approximate`), without walking the table. See
   * `ScheduledCommandStore.estimateStatistics`.
   * @throws InvalidScheduleOptionsError when `exactUpTo` is not an integer >= 0
   */
  async estimateStatistics(exactUpTo?: number): Promise<EstimatedStatistics> {
    return this.store.estimateStatistics(exactUpTo);
  }

  /**
   * Deletes finished entries that finished before `olderThan` (in batches, until none is left).
   * @param statuses finished statuses to purge. @default every finished status
   * @returns how many entries were deleted.
   */
  async purge(
    olderThan: Date,
    statuses: ScheduledCommandStatus[] = [...FINISHED_STATUSES],
  ): Promise<number> {
    validDate('olderThan', olderThan);
    const list = normalizeStatuses('statuses', statuses, FINISHED_STATUSES);
    let total = 0;
    for (;;) {
      const deleted = await this.store.purge({ olderThan, statuses: list, limit: 1000 });
      total += deleted;
      if (deleted < 1000) return total;
    }
  }

  /** Publishes an event of a change that has happened: a failing publisher never fails the call. */
  private publish(event: object): void {
    publishSafely(this.events, event, this.logger);
  }

  /** Where a call writes: in the caller's (or the ambient) transaction, or straight to the store. */
  private scope(manager: unknown) {
    return transactionScope(this.store, manager, this.options.ambientTransaction);
  }

  // Recurring schedules (implemented by RecurringScheduler; see the README, "Recurring schedules").

  /**
   * Creates or updates the recurring schedule `name` (idempotent: calling it at every boot is the
   * normal case). Each occurrence is an ordinary entry of `command` carrying `recurringName`.
   * @throws InvalidRecurringScheduleError for an invalid name or option (nothing is changed).
   * @throws UnregisteredCommandError when the command's class is not a `@ScheduledCommand`.
   */
  scheduleRecurring(
    name: string,
    command: object,
    options: RecurringOptions,
  ): Promise<RecurringSchedule> {
    return this.recurring.schedule(name, command, options);
  }

  /** Deletes a schedule and its occurrences created ahead of time; `false` when unknown. */
  removeRecurring(name: string): Promise<boolean> {
    return this.recurring.remove(name);
  }

  /** Stops creating occurrences (and drops those created ahead of time); `false` when unknown. */
  pauseRecurring(name: string): Promise<boolean> {
    return this.recurring.setPaused(name, true);
  }

  /** Creates occurrences again, from the next fire time after now; `false` when unknown. */
  resumeRecurring(name: string): Promise<boolean> {
    return this.recurring.setPaused(name, false);
  }

  /** One occurrence now, outside the fire times; its entry id, or `null` when the schedule is unknown. */
  triggerRecurring(name: string): Promise<string | null> {
    return this.recurring.trigger(name);
  }

  /** The schedule with `nextRunAt`, `lastRunAt` and `paused`, or `null`. */
  getRecurring(name: string): Promise<RecurringSchedule | null> {
    return this.recurring.get(name);
  }

  /** Every schedule, by name. */
  listRecurring(): Promise<RecurringSchedule[]> {
    return this.recurring.list();
  }

  private requeueStatuses(statuses: unknown = ['failed']): ScheduledCommandStatus[] {
    return normalizeStatuses('statuses', statuses, REQUEUEABLE);
  }

  private prepare(command: object, options: ScheduleOptions | undefined): NewScheduledCommand {
    const commandType = this.registry.nameOf(command);
    const o = normalizeScheduleOptions(
      options,
      this.options.maxRetries,
      (command as { idempotencyKey?: unknown }).idempotencyKey,
    );
    return {
      id: uuidv7(),
      commandType,
      payload: serializeCommand(commandType, command),
      ...o,
    };
  }
}
