import { ScheduledCommandsError } from './scheduled-commands.error.js';

/**
 * Thrown by `CommandScheduler` methods when an option (or filter, or argument) is invalid.
 * Nothing is stored or changed. `field` names the offending option.
 */
export class InvalidScheduleOptionsError extends ScheduledCommandsError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
