import { ScheduledCommandsError } from './scheduled-commands.error.js';

/** Thrown when two different classes are registered under the same `@ScheduledCommand` name. */
export class DuplicateCommandNameError extends ScheduledCommandsError {
  constructor(
    readonly commandName: string,
    message: string,
  ) {
    super(message);
  }
}
