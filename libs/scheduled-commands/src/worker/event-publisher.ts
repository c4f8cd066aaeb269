import type { Logger } from '@nestjs/common';
import { publishSafely, type EventSink } from '../events/publish-safely.js';

/**
 * Publishes the worker's lifecycle events through {@link publishSafely}: a publisher that throws is
 * logged and never undoes or fails what already happened (the store has changed by then).
 */
export class EventPublisher {
  constructor(
    /** Where lifecycle events go: the module's `LifecycleEvents` in the app, a list in unit tests. */
    private readonly sink: EventSink,
    private readonly logger: Logger,
  ) {}

  publish(event: object): void {
    publishSafely(this.sink, event, this.logger);
  }
}
