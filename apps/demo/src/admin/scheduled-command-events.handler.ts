import { Logger } from '@nestjs/common';
import { EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import {
  ScheduledCommandCancelledEvent,
  ScheduledCommandCompletedEvent,
  ScheduledCommandExpiredEvent,
  ScheduledCommandFailedEvent,
  ScheduledCommandRequeuedEvent,
  ScheduledCommandRescheduledEvent,
  ScheduledCommandRetryingEvent,
  type ScheduledCommandEvent,
} from 'nestjs-scheduled-commands';

type LifecycleEvent =
  | ScheduledCommandCompletedEvent
  | ScheduledCommandFailedEvent
  | ScheduledCommandRetryingEvent
  | ScheduledCommandExpiredEvent
  | ScheduledCommandCancelledEvent
  | ScheduledCommandRescheduledEvent
  | ScheduledCommandRequeuedEvent;

/** Logs every lifecycle event the library publishes on `EventBus`. */
@EventsHandler(
  ScheduledCommandCompletedEvent,
  ScheduledCommandFailedEvent,
  ScheduledCommandRetryingEvent,
  ScheduledCommandExpiredEvent,
  ScheduledCommandCancelledEvent,
  ScheduledCommandRescheduledEvent,
  ScheduledCommandRequeuedEvent,
)
export class ScheduledCommandEventsHandler implements IEventHandler<LifecycleEvent> {
  private readonly logger = new Logger('ScheduledCommandEvents');

  handle(event: LifecycleEvent): void {
    const subject = `${event.commandType} ${event.commandId}`;
    const tracking = describeTracking(event);
    if (event instanceof ScheduledCommandCompletedEvent) {
      this.logger.log(`[Completed] ${subject} completed successfully${tracking}`);
    } else if (event instanceof ScheduledCommandFailedEvent) {
      this.logger.error(
        `[Failed] ${subject} dead-lettered after ${event.retryCount} retries: ${event.error}${tracking}`,
      );
    } else if (event instanceof ScheduledCommandRetryingEvent) {
      const inMs = event.nextAttemptAt.getTime() - Date.now();
      this.logger.warn(
        `[Retrying] ${subject} failed (${event.error}); retry ${event.retryCount} in ~${Math.max(0, Math.round(inMs / 100) / 10)} s${tracking}`,
      );
    } else if (event instanceof ScheduledCommandExpiredEvent) {
      this.logger.warn(
        `[Expired] ${subject} expired at ${event.expiresAt?.toISOString()} before it could run${tracking}`,
      );
    } else if (event instanceof ScheduledCommandCancelledEvent) {
      this.logger.log(`[Cancelled] ${subject} was cancelled${tracking}`);
    } else if (event instanceof ScheduledCommandRescheduledEvent) {
      this.logger.log(
        `[Rescheduled] ${subject} now due at ${event.scheduledFor.toISOString()}${tracking}`,
      );
    } else if (event instanceof ScheduledCommandRequeuedEvent) {
      this.logger.log(
        `[Requeued] ${subject} put back to pending (was ${event.previousStatus})${tracking}`,
      );
    }
  }
}

function describeTracking(event: ScheduledCommandEvent): string {
  const parts: string[] = [];
  if (event.correlationId) parts.push(`correlationId=${event.correlationId}`);
  if (event.metadata) parts.push(`metadata=${JSON.stringify(event.metadata)}`);
  return parts.length > 0 ? ` (${parts.join(', ')})` : '';
}
