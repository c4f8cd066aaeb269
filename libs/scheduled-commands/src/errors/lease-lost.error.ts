import { ScheduledCommandsError } from './scheduled-commands.error.js';

/**
 * Thrown by `getScheduledCommandContext(command).transaction(work)` when the run no longer holds its
 * command (its lease ran out and another worker took the command over, or the command was requeued):
 * the transaction, with everything `work` wrote in it, has been rolled back, and the command's
 * outcome is left to the run that holds it now.
 */
export class LeaseLostError extends ScheduledCommandsError {
  constructor(
    /** The command's id. */
    readonly commandId: string,
    /** The attempt whose lease was lost. */
    readonly attempt: number,
    message: string,
  ) {
    super(message);
  }
}
