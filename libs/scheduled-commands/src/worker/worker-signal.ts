import { Injectable } from '@nestjs/common';

/** Called with the due time of a command this instance just scheduled: an absolute time, or a delay from now. */
export type ScheduledListener = (scheduledFor: Date | null, delay: number | null) => void;

/**
 * In-process wake-up line from the scheduler to the worker: when this instance schedules a command,
 * the worker starts it at once (due now) or sets a timer for it, instead of waiting for the next poll.
 */
@Injectable()
export class WorkerSignal {
  private listener: ScheduledListener | undefined;

  /** Installs the worker's listener (one per instance); `undefined` removes it. */
  listen(listener: ScheduledListener | undefined): void {
    this.listener = listener;
  }

  /** Tells the worker a command was stored with this due time. */
  scheduled(scheduledFor: Date | null, delay: number | null): void {
    this.listener?.(scheduledFor, delay);
  }
}
