import { ScheduledCommandsError } from './scheduled-commands.error.js';

/** Thrown when an id passed to `CommandScheduler` is not a well-formed id. (An unknown but well-formed id is not an error.) */
export class InvalidCommandIdError extends ScheduledCommandsError {
  constructor(
    readonly id: unknown,
    message: string,
  ) {
    super(message);
  }
}
