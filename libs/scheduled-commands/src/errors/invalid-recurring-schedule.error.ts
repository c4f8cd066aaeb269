import { InvalidScheduleOptionsError } from './invalid-schedule-options.error.js';

/**
 * Thrown by `CommandScheduler.scheduleRecurring()` (and at start-up for a schedule declared in the
 * module options) when the name or an option is invalid: an empty name, a bad cron expression, an
 * unknown time zone, both or neither of `cron` and `every`, an `every` under one second, and so on.
 * Nothing is stored or changed. `field` names the offending option (`'cron'`, `'timezone'`, …).
 */
export class InvalidRecurringScheduleError extends InvalidScheduleOptionsError {}
