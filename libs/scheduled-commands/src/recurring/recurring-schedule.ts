import type { RecurringScheduleRecord } from '../store/recurring-schedule-record.js';

/**
 * A recurring schedule, as `CommandScheduler.getRecurring()` and `listRecurring()` answer it: its
 * name, command type, options (`cron`, `every`, `timezone`, `misfire`, …), `paused`, `declared`
 * (declared in the module options rather than created through the API), and when it runs.
 */
export interface RecurringSchedule extends Omit<
  RecurringScheduleRecord,
  'payload' | 'version' | 'nextFireAt' | 'lastFireAt' | 'traceContext'
> {
  /** When the next occurrence is due: its pending entry's time, or the next fire time; `null` when paused or ended. */
  readonly nextRunAt: Date | null;
  /** When the latest occurrence started, or `null`. */
  readonly lastRunAt: Date | null;
}
