import { Logger } from '@nestjs/common';
import { EventBus, EventsHandler, type IEventHandler, type IEventPublisher } from '@nestjs/cqrs';
import {
  ScheduledCommandCancelledEvent,
  ScheduledCommandRequeuedEvent,
  ScheduledCommandRescheduledEvent,
} from 'nestjs-scheduled-commands';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createTestApp, type TestApp } from './support/app.js';
import { allHandlers, FlakyCommand, Journal, SendEmailCommand } from './support/commands.js';

const HOUR = 3_600_000;

/** A subscriber of the scheduler's events that always throws. */
@EventsHandler(
  ScheduledCommandCancelledEvent,
  ScheduledCommandRescheduledEvent,
  ScheduledCommandRequeuedEvent,
)
class ThrowingSubscriber implements IEventHandler<object> {
  handle(): void {
    throw new Error('subscriber failed');
  }
}

/**
 * Cancels, reschedules, retries and retries-failed one command each, checking that every call reports
 * the change it made and that the row did change.
 */
async function actOnEveryKind(t: TestApp): Promise<void> {
  const journal = t.app.get(Journal);
  const waiting = await t.scheduler.schedule(new SendEmailCommand('a@b.c', 'hi'), { delay: HOUR });
  const moved = await t.scheduler.schedule(new SendEmailCommand('d@e.f', 'hi'), { delay: HOUR });
  const deadA = await t.scheduler.schedule(new FlakyCommand('a'), { maxRetries: 0 });
  const deadB = await t.scheduler.schedule(new FlakyCommand('b'), { maxRetries: 0 });
  await t.runDue();
  expect((await t.entry(deadA)).status).toBe('failed');
  expect((await t.entry(deadB)).status).toBe('failed');
  journal.failuresLeft.set('a', 0).set('b', 0);

  await expect(t.scheduler.cancel(waiting)).resolves.toBe(true);
  expect((await t.entry(waiting)).status).toBe('cancelled');

  const at = new Date(t.clock.now().getTime() + 2 * HOUR);
  await expect(t.scheduler.reschedule(moved, { scheduledFor: at })).resolves.toBe(true);
  expect((await t.entry(moved)).scheduledFor).toEqual(at);

  await expect(t.scheduler.retry(deadA)).resolves.toBe(true);
  await expect(t.scheduler.retryFailed()).resolves.toEqual([deadB]);
  await t.runDue();
  expect((await t.entry(deadA)).status).toBe('completed');
  expect((await t.entry(deadB)).status).toBe('completed');
}

describe('events published by CommandScheduler', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    vi.restoreAllMocks();
    await t?.close();
    t = undefined;
  });

  it('a throwing @EventsHandler never fails the call (the bus reports it itself)', async () => {
    t = await createTestApp({ providers: [...allHandlers, ThrowingSubscriber] });
    await actOnEveryKind(t);
  });

  const publishers: [string, () => unknown][] = [
    [
      'throws',
      () => {
        throw new Error('broker down');
      },
    ],
    ['rejects', () => Promise.reject(new Error('broker down'))],
  ];
  for (const [how, publish] of publishers) {
    it(`a publisher that ${how} is logged and never fails the call after the change`, async () => {
      t = await createTestApp({ providers: allHandlers });
      const logged = vi.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
      const bus = t.app.get(EventBus);
      const original = bus.publisher;
      bus.publisher = {
        publish: (event: object) =>
          event instanceof ScheduledCommandCancelledEvent ||
          event instanceof ScheduledCommandRescheduledEvent ||
          event instanceof ScheduledCommandRequeuedEvent
            ? publish()
            : original.publish(event),
      } as IEventPublisher;
      await actOnEveryKind(t);
      await new Promise((resolve) => setImmediate(resolve));
      const messages = logged.mock.calls.map((call) => String(call[0]));
      for (const name of ['Cancelled', 'Rescheduled', 'Requeued']) {
        expect(messages).toContain(`Publishing ScheduledCommand${name}Event failed: broker down`);
      }
      expect(messages.filter((m) => m.includes('Requeued'))).toHaveLength(2);
    });
  }
});
