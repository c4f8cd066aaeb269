import type { ScheduledCommandEntry } from '../store/scheduled-command-entry.js';
import { ScheduledCommandEvent } from './scheduled-command-event.js';

/** Published when an attempt failed and the command will run again at `nextAttemptAt`. */
export class ScheduledCommandRetryingEvent extends ScheduledCommandEvent {
  constructor(
    entry: ScheduledCommandEntry,
    /** The error of the failed attempt. */
    readonly error: string,
    /** Retries scheduled so far, this one included (1 for the first retry). */
    readonly retryCount: number,
    /** When the retry is due. */
    readonly nextAttemptAt: Date,
  ) {
    super(entry);
  }
}
