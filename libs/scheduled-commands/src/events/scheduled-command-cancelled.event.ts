import type { ScheduledCommandEntry } from '../store/scheduled-command-entry.js';
import { ScheduledCommandEvent } from './scheduled-command-event.js';

/** Published when `CommandScheduler.cancel()` cancelled a pending command. */
export class ScheduledCommandCancelledEvent extends ScheduledCommandEvent {
  constructor(entry: ScheduledCommandEntry) {
    super(entry);
  }
}
