import type { ScheduledCommandEntry } from '../store/scheduled-command-entry.js';
import { ScheduledCommandEvent } from './scheduled-command-event.js';

/** Published when `CommandScheduler.reschedule()` moved a pending command to a new time. */
export class ScheduledCommandRescheduledEvent extends ScheduledCommandEvent {
  /** The new due time. */
  readonly scheduledFor: Date;
  constructor(entry: ScheduledCommandEntry) {
    super(entry);
    this.scheduledFor = entry.scheduledFor;
  }
}
