import { describe, expect, it } from 'vitest';
import { InvalidScheduleOptionsError } from '../errors/index.js';
import { ManualClock, newCommand } from '../testing/conformance.js';
import { InMemoryScheduledCommandStore } from './in-memory/in-memory-scheduled-command-store.js';
import {
  SCHEDULED_COMMAND_STATUSES,
  ScheduledCommandStatus,
  type StatusCounts,
} from './scheduled-command-entry.js';

/** A store with one command in each of pending, processing, completed and cancelled. */
async function storeWithMixedStatuses(): Promise<InMemoryScheduledCommandStore> {
  const store = new InMemoryScheduledCommandStore(new ManualClock());
  const [a, b, c] = [newCommand(), newCommand(), newCommand({ delay: 60_000 })];
  await store.scheduleMany([a, b, c, newCommand({ delay: 60_000 })]);
  const claimed = await store.claim({ workerId: 'w', limit: 2, leaseMs: 1_000 });
  await store.complete([
    { lease: { id: claimed[0].id, workerId: 'w', attempt: 1 }, resultPayload: null },
  ]);
  await store.cancel(c.id);
  return store;
}

describe('ScheduledCommandStore.count() and the getXCount() methods', () => {
  it('count(status) is the status count of countByStatus(), for every status', async () => {
    const store = await storeWithMixedStatuses();
    const counts = await store.countByStatus();
    expect(counts).toMatchObject({ pending: 1, processing: 1, completed: 1, cancelled: 1 });
    for (const status of SCHEDULED_COMMAND_STATUSES) {
      expect(await store.count(status)).toBe(counts[status]);
    }
    expect({
      pending: await store.getPendingCount(),
      processing: await store.getProcessingCount(),
      completed: await store.getCompletedCount(),
      failed: await store.getFailedCount(),
      cancelled: await store.getCancelledCount(),
      expired: await store.getExpiredCount(),
    }).toEqual(counts);
  });

  it('rejects an unknown status with InvalidScheduleOptionsError', async () => {
    const store = new InMemoryScheduledCommandStore(new ManualClock());
    await expect(store.count('nope' as ScheduledCommandStatus)).rejects.toBeInstanceOf(
      InvalidScheduleOptionsError,
    );
  });

  it('the getXCount() methods go through a store’s own count()', async () => {
    const asked: ScheduledCommandStatus[] = [];
    class CountingStore extends InMemoryScheduledCommandStore {
      override async count(status: ScheduledCommandStatus): Promise<number> {
        asked.push(status);
        return 42;
      }
      override async countByStatus(): Promise<StatusCounts> {
        throw new Error('not used');
      }
    }
    const store = new CountingStore(new ManualClock());
    expect(await store.getPendingCount()).toBe(42);
    expect(await store.getExpiredCount()).toBe(42);
    expect(asked).toEqual([ScheduledCommandStatus.Pending, ScheduledCommandStatus.Expired]);
  });
});
