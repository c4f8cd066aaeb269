import { ScheduledCommandsError } from './scheduled-commands.error.js';

/** The error recorded for an attempt that ran longer than `commandTimeout`; the attempt counts as failed. */
export class CommandTimeoutError extends ScheduledCommandsError {
  constructor(
    readonly timeoutMs: number,
    message: string,
  ) {
    super(message);
  }
}
