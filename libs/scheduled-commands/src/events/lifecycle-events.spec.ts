import type { EventBus } from '@nestjs/cqrs';
import { describe, expect, it } from 'vitest';
import { LifecycleEvents } from './lifecycle-events.js';

class Happened {
  constructor(readonly n: number) {}
}

function setUp(publishResult?: unknown) {
  const order: string[] = [];
  const bus = {
    publish: (event: Happened) => {
      order.push(`bus ${event.n}`);
      return publishResult;
    },
  } as unknown as EventBus;
  return { order, events: new LifecycleEvents(bus) };
}

describe('LifecycleEvents', () => {
  it("hands every event to the library's listeners, then to the EventBus, and returns its result", () => {
    const { order, events } = setUp('published');
    events.listen((e) => order.push(`a ${(e as Happened).n}`));
    events.listen((e) => order.push(`b ${(e as Happened).n}`));
    expect(events.publish(new Happened(1))).toBe('published');
    expect(order).toEqual(['a 1', 'b 1', 'bus 1']);
  });

  it('stops calling a listener once it is removed', () => {
    const { order, events } = setUp();
    const stop = events.listen((e) => order.push(`a ${(e as Happened).n}`));
    events.publish(new Happened(1));
    stop();
    events.publish(new Happened(2));
    expect(order).toEqual(['a 1', 'bus 1', 'bus 2']);
  });

  it('a listener that throws keeps neither the others nor the EventBus from the event; its error comes after', () => {
    const { order, events } = setUp();
    events.listen(() => {
      throw new Error('listener failed');
    });
    events.listen((e) => order.push(`b ${(e as Happened).n}`));
    expect(() => events.publish(new Happened(1))).toThrow('listener failed');
    expect(order).toEqual(['b 1', 'bus 1']);
  });
});
