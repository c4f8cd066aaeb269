import { ScheduledCommandsError } from './scheduled-commands.error.js';

/**
 * Thrown by a `ScheduledCommandStore` that does not implement recurring schedules (a custom store
 * written before they existed) when a recurring-schedule method is called. The library's own stores
 * (in-memory and TypeORM) support them.
 */
export class RecurringNotSupportedError extends ScheduledCommandsError {}
