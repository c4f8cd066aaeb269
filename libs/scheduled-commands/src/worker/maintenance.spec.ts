import { Logger } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import {
  ScheduledCommandExpiredEvent,
  ScheduledCommandFailedEvent,
  ScheduledCommandRetryingEvent,
} from '../events/index.js';
import { InMemoryScheduledCommandStore } from '../store/in-memory/in-memory-scheduled-command-store.js';
import { ManualClock } from '../testing/manual-clock.js';
import { newCommand } from '../testing/new-command.js';
import { EventPublisher } from './event-publisher.js';
import { Maintenance } from './maintenance.js';

const logger = new Logger('test');
logger.localInstance.setLogLevels?.([]);
const DAY = 86_400_000;

function setUp() {
  const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
  const store = new InMemoryScheduledCommandStore(clock);
  const events: object[] = [];
  const maintenance = new Maintenance(
    store,
    {
      maintenanceInterval: 60_000,
      retention: { completed: DAY, failed: false, cancelled: DAY, expired: DAY },
    },
    clock,
    new EventPublisher({ publish: (e: object) => events.push(e) }, logger),
    logger,
  );
  return { clock, store, events, maintenance, notStopping: () => false };
}

describe('Maintenance', () => {
  it('takes over commands whose lease ran out, and dead-letters those on their last attempt', async () => {
    const { clock, store, events, maintenance, notStopping } = setUp();
    const again = newCommand({ maxRetries: 1 });
    const last = newCommand({ maxRetries: 0 });
    await store.scheduleMany([again, last]);
    await store.claim({ workerId: 'gone', limit: 2, leaseMs: 1_000 });
    clock.advance(1_000);
    await maintenance.run(notStopping);
    expect(events.map((e) => e.constructor)).toEqual([
      ScheduledCommandRetryingEvent,
      ScheduledCommandFailedEvent,
    ]);
    expect((await store.get(again.id))?.status).toBe('pending');
    expect((await store.get(last.id))?.status).toBe('failed');
  });

  it('expires overdue commands', async () => {
    const { clock, store, events, maintenance, notStopping } = setUp();
    const command = newCommand({ delay: 1_000, expiresAfter: 1_000 });
    await store.schedule(command);
    clock.advance(2_000);
    await maintenance.run(notStopping);
    expect(events).toEqual([expect.any(ScheduledCommandExpiredEvent)]);
    expect((await store.get(command.id))?.status).toBe('expired');
  });

  it('purges by retention, at most every maintenanceInterval of the injected clock', async () => {
    const { clock, store, maintenance, notStopping } = setUp();
    const [done, kept] = [newCommand(), newCommand()];
    await store.scheduleMany([done, kept]);
    await store.cancel(done.id);
    await maintenance.run(notStopping);
    clock.advance(DAY + 1);
    await store.cancel(kept.id);
    await maintenance.run(notStopping); // purges what finished more than a day ago
    expect(await store.get(done.id)).toBeNull();
    expect(await store.get(kept.id)).not.toBeNull();
    clock.advance(DAY - 30_000);
    await maintenance.run(notStopping); // a purge pass, too early for `kept`
    clock.advance(30_001);
    await maintenance.run(notStopping); // `kept` is old enough, but the last purge was 30 s ago
    expect(await store.get(kept.id)).not.toBeNull();
    clock.advance(30_000);
    await maintenance.run(notStopping);
    expect(await store.get(kept.id)).toBeNull();
  });

  it('purges nothing while the worker stops', async () => {
    const { clock, store, maintenance } = setUp();
    const command = newCommand();
    await store.schedule(command);
    await store.cancel(command.id);
    clock.advance(2 * DAY);
    await maintenance.run(() => true);
    expect(await store.get(command.id)).not.toBeNull();
  });
});
