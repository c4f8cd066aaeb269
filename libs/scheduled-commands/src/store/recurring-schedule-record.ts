import type { NormalizedRecurringOptions } from '../recurring/recurring-options.js';
import type { NewScheduledCommand } from './scheduled-command-entry.js';

/**
 * A recurring schedule as the store keeps it (see `ScheduledCommandStore.writeRecurring`): its
 * validated options, the command, and its state.
 */
export interface RecurringScheduleRecord extends NormalizedRecurringOptions {
  /** The schedule's unique name. */
  readonly name: string;
  /** Registered name of the command each occurrence runs. */
  readonly commandType: string;
  /** The command's fields as JSON, copied into every occurrence. */
  readonly payload: string;
  /** Declared in the module options (removed at start-up once no longer declared), not created through the API. */
  readonly declared: boolean;
  readonly paused: boolean;
  /**
   * The first fire time that has no occurrence yet; `null` when the next pass computes it from the
   * store's now (a new, changed or resumed schedule) or the schedule has ended.
   */
  readonly nextFireAt: Date | null;
  /** The latest fire time an occurrence was created for. */
  readonly lastFireAt: Date | null;
  /**
   * The trace context (W3C `traceparent`, as stored with an entry) of the span in which the schedule
   * was created or its definition last changed; every occurrence carries it, and its run links to it.
   * `null` or absent without telemetry.
   */
  readonly traceContext?: string | null;
  /** Bumped by every write: the condition of every later write (optimistic concurrency). */
  readonly version: number;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}

/** The fields of a schedule a caller writes (the store sets `version`, `createdAt` and `updatedAt`). */
export type RecurringScheduleFields = Omit<
  RecurringScheduleRecord,
  'version' | 'createdAt' | 'updatedAt'
>;

/** Arguments of `ScheduledCommandStore.writeRecurring`. */
export interface RecurringWrite {
  readonly schedule: RecurringScheduleFields;
  /** The version the caller read; `null` creates the schedule (and fails when the name exists). */
  readonly expectedVersion: number | null;
  /**
   * Delete the schedule's occurrences that are pending, never started and due after the store's now
   * (materialised ahead of time), in the same atomic write: the timing changed or the schedule paused.
   */
  readonly dropFutureOccurrences: boolean;
}

/** An occurrence to create: an ordinary new entry that carries its schedule's name and fire time. */
export interface NewRecurringOccurrence extends NewScheduledCommand {
  readonly recurringName: string;
  /**
   * The fire time (also `scheduledFor`), unique per schedule: the database refuses a second
   * occurrence of one fire time. `null` for an occurrence triggered by hand.
   */
  readonly fireTime: Date | null;
}

/** Arguments of `ScheduledCommandStore.materializeRecurring`. */
export interface RecurringMaterialization {
  readonly name: string;
  /**
   * The schedule version the plan was made from: the schedule is advanced only while it still has
   * it. `null`: a manual trigger, which leaves the schedule as it is (it must exist).
   */
  readonly expectedVersion: number | null;
  readonly nextFireAt: Date | null;
  readonly lastFireAt: Date | null;
  readonly occurrences: readonly NewRecurringOccurrence[];
}

/** What `ScheduledCommandStore.dueRecurring` answers. */
export interface DueRecurring {
  /** The store's now (the database clock on PostgreSQL). */
  readonly now: Date;
  /** Schedules not paused whose next fire time is unknown or within the horizon. */
  readonly schedules: RecurringScheduleRecord[];
}
