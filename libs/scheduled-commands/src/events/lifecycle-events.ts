import { Injectable } from '@nestjs/common';
import { EventBus, type IEvent } from '@nestjs/cqrs';

/** A listener of the lifecycle events this module publishes (see {@link LifecycleEvents.listen}). */
export type LifecycleListener = (event: object) => void;

/**
 * Where this module's lifecycle events go: first to the library's own listeners (the telemetry
 * counters, the recurring schedules' planner, the dashboard's throughput), called directly, then
 * to the application's `EventBus`.
 *
 * The library's listeners are not subscribers of the `EventBus`: each subscriber is an rxjs
 * subscription that every event of the application passes through (a completion publishes one per
 * command), and a custom `EventBus` publisher (a message broker) need not hand events back to
 * subscribers of this process at all.
 */
@Injectable()
export class LifecycleEvents {
  private listeners: readonly LifecycleListener[] = [];

  constructor(private readonly eventBus: EventBus) {}

  /**
   * Calls `listener` with every lifecycle event of this module, before the `EventBus` gets it.
   * @returns a function that removes the listener
   */
  listen(listener: LifecycleListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  /**
   * Hands `event` to the listeners, then publishes it through the `EventBus`, whose result it
   * returns (see `publishSafely`). A listener that throws keeps neither the other listeners nor the
   * `EventBus` from getting the event; the first such error is thrown after them.
   */
  publish(event: object): unknown {
    let failure: { error: unknown } | undefined;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        failure ??= { error };
      }
    }
    const result: unknown = this.eventBus.publish(event as IEvent);
    if (failure) throw failure.error;
    return result;
  }
}
