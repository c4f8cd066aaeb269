import type { ScheduledCommandMetadata } from '../store/scheduled-command-entry.js';
import type { MisfirePolicy } from './recurring-options.js';

/** A recurring schedule, as `CommandScheduler.getRecurring()` and `listRecurring()` answer it. */
export interface RecurringSchedule {
  readonly name: string;
  /** Registered name of the command every occurrence runs. */
  readonly commandType: string;
  readonly cron: string | null;
  readonly every: number | null;
  readonly timezone: string;
  readonly misfire: MisfirePolicy;
  readonly maxCatchUp: number;
  readonly overlap: boolean;
  readonly startAt: Date | null;
  readonly endAt: Date | null;
  readonly priority: number;
  readonly maxRetries: number;
  readonly expiresAfter: number | null;
  readonly correlationId: string | null;
  readonly metadata: ScheduledCommandMetadata | null;
  readonly paused: boolean;
  /** Declared in the module options (`recurring`) rather than created through the API. */
  readonly declared: boolean;
  /** When the next occurrence is due: its pending entry's time, or the next fire time; `null` when paused or ended. */
  readonly nextRunAt: Date | null;
  /** When the latest occurrence started, or `null`. */
  readonly lastRunAt: Date | null;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}
