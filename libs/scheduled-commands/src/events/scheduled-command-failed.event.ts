import type { ScheduledCommandEntry } from '../store/scheduled-command-entry.js';
import { ScheduledCommandEvent } from './scheduled-command-event.js';

/** Published when a command is dead-lettered (`failed`): retries exhausted, or it can never run. */
export class ScheduledCommandFailedEvent extends ScheduledCommandEvent {
  constructor(
    entry: ScheduledCommandEntry,
    /** The last error message. */
    readonly error: string,
    /** Retries made before giving up. */
    readonly retryCount: number,
  ) {
    super(entry);
  }
}
