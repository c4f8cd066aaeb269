import type { Logger } from '@nestjs/common';

/** What an event is published through: `EventBus`, or the module's `LifecycleEvents`. */
export interface EventSink {
  publish(event: object): unknown;
}

/**
 * Publishes a lifecycle event and never fails the caller: the operation the event reports has already
 * happened (the row changed), so a publisher that throws (a custom `EventBus.publisher`, a message
 * broker that is down) or returns a rejected promise is logged with its stack and otherwise ignored.
 * With the default publisher of `@nestjs/cqrs`, errors of `@EventsHandler`s never reach this point:
 * the bus reports them itself (`UnhandledExceptionBus`).
 */
export function publishSafely(eventBus: EventSink, event: object, logger: Logger): void {
  const failed = (error: unknown): void => {
    const e = error instanceof Error ? error : new Error(String(error));
    logger.error(`Publishing ${event.constructor.name} failed: ${e.message}`, e.stack);
  };
  try {
    const result: unknown = eventBus.publish(event);
    if (typeof (result as PromiseLike<unknown> | undefined)?.then === 'function') {
      (result as PromiseLike<unknown>).then(undefined, failed);
    }
  } catch (error) {
    failed(error);
  }
}
