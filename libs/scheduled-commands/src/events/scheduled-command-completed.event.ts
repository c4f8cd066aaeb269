import type { ScheduledCommandEntry } from '../store/scheduled-command-entry.js';
import { ScheduledCommandEvent } from './scheduled-command-event.js';

/** Published when a command's handler returned and its result was stored. */
export class ScheduledCommandCompletedEvent<TResult = unknown> extends ScheduledCommandEvent {
  constructor(
    entry: ScheduledCommandEntry,
    /** The handler's return value. */
    readonly result: TResult,
  ) {
    super(entry);
  }
}
