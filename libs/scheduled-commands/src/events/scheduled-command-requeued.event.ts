import type {
  ScheduledCommandEntry,
  ScheduledCommandStatus,
} from '../store/scheduled-command-entry.js';
import { ScheduledCommandEvent } from './scheduled-command-event.js';

/** Published when a finished (usually dead-lettered) command was put back to `pending` by `retry()`/`retryFailed()`. */
export class ScheduledCommandRequeuedEvent extends ScheduledCommandEvent {
  constructor(
    entry: ScheduledCommandEntry,
    /** The status it had before (`failed`, `expired` or `cancelled`). */
    readonly previousStatus: ScheduledCommandStatus,
  ) {
    super(entry);
  }
}
