import type { Logger } from '@nestjs/common';
import type { EventBus } from '@nestjs/cqrs';
import { publishSafely } from '../events/publish-safely.js';

/** Where lifecycle events go: `EventBus` in the app, a list in unit tests. */
export type EventSink = Pick<EventBus, 'publish'>;

/**
 * Publishes the worker's lifecycle events through {@link publishSafely}: a publisher that throws is
 * logged and never undoes or fails what already happened (the store has changed by then).
 */
export class EventPublisher {
  constructor(
    private readonly sink: EventSink,
    private readonly logger: Logger,
  ) {}

  publish(event: object): void {
    publishSafely(this.sink, event, this.logger);
  }
}
