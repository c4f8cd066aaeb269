import type { ScheduledCommandEntry } from '../store/scheduled-command-entry.js';
import { ScheduledCommandEvent } from './scheduled-command-event.js';

/** Published when a command was not started before its `expiresAt` and will never run. */
export class ScheduledCommandExpiredEvent extends ScheduledCommandEvent {
  /** The expiry time that passed. */
  readonly expiresAt: Date | null;
  constructor(entry: ScheduledCommandEntry) {
    super(entry);
    this.expiresAt = entry.expiresAt;
  }
}
