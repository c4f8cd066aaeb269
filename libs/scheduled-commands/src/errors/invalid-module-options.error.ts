import { ScheduledCommandsError } from './scheduled-commands.error.js';

/** Thrown at start-up when a `ScheduledCommandsModule` option is invalid. `field` names it. */
export class InvalidModuleOptionsError extends ScheduledCommandsError {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(message);
  }
}
