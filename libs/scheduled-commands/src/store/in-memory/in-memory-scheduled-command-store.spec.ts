import { describe, expect, it } from 'vitest';
import { SystemClock } from '../../clock.js';
import { InvalidScheduleOptionsError } from '../../errors/index.js';
import { describeStoreConformance, ManualClock, newCommand } from '../../testing/conformance.js';
import { InMemoryScheduledCommandStore } from './in-memory-scheduled-command-store.js';

describeStoreConformance('InMemoryScheduledCommandStore', async () => {
  const clock = new ManualClock(new Date('2030-01-01T00:00:00.000Z'));
  return { store: new InMemoryScheduledCommandStore(clock), clock, close: async () => {} };
});

// The same suite without a harness clock, as it runs for stores on a database clock: this keeps the
// suite's real-time mode (short sleeps, tolerant time checks) working.
describeStoreConformance('InMemoryScheduledCommandStore on the system clock', async () => ({
  store: new InMemoryScheduledCommandStore(new SystemClock()),
  close: async () => {},
}));

describe('InMemoryScheduledCommandStore', () => {
  it('uses the system clock by default', async () => {
    const store = new InMemoryScheduledCommandStore();
    const before = Date.now();
    const { id } = await store.schedule(newCommand());
    const entry = await store.get(id);
    expect(entry?.createdAt.getTime()).toBeGreaterThanOrEqual(before);
    expect(entry?.createdAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(new InMemoryScheduledCommandStore(new SystemClock())).toBeInstanceOf(
      InMemoryScheduledCommandStore,
    );
  });

  it('keeps stores independent of each other', async () => {
    const a = new InMemoryScheduledCommandStore(new ManualClock());
    const b = new InMemoryScheduledCommandStore(new ManualClock());
    await a.schedule(newCommand({ idempotencyKey: 'k' }));
    expect((await b.schedule(newCommand({ idempotencyKey: 'k' }))).created).toBe(true);
    expect(await b.getPendingCount()).toBe(1);
  });

  it('does not offer watch (no cross-instance notification)', () => {
    expect(new InMemoryScheduledCommandStore().watch).toBeUndefined();
  });

  it('rejects a second entry with an id it already holds', async () => {
    const store = new InMemoryScheduledCommandStore(new ManualClock());
    const command = newCommand();
    await store.schedule(command);
    await expect(store.schedule({ ...command })).rejects.toThrow(command.id);
  });

  it('stores nothing from a batch that repeats an id', async () => {
    const store = new InMemoryScheduledCommandStore(new ManualClock());
    const first = newCommand();
    await expect(store.scheduleMany([first, newCommand(), { ...first }])).rejects.toThrow(first.id);
    expect(await store.getPendingCount()).toBe(0);
  });

  describe('find() validation', () => {
    const store = new InMemoryScheduledCommandStore(new ManualClock());
    const rejects = async (promise: Promise<unknown>, field: string, text: string) => {
      const error = await promise.then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(InvalidScheduleOptionsError);
      expect((error as InvalidScheduleOptionsError).field).toBe(field);
      expect((error as Error).message).toContain(`Invalid filter "${field}"`);
      expect((error as Error).message).toContain(text);
    };

    it('accepts limits from 1 to 1000', async () => {
      await expect(store.find({}, { limit: 1 })).resolves.toEqual({ items: [], nextCursor: null });
      await expect(store.find({}, { limit: 1000 })).resolves.toEqual({
        items: [],
        nextCursor: null,
      });
    });

    it('rejects limits outside 1..1000 and non-integers', async () => {
      for (const limit of [0, -1, 1001, 2.5, Number.NaN]) {
        await rejects(store.find({}, { limit }), 'limit', 'an integer from 1 to 1000');
      }
    });

    it('rejects a negative offset, an unknown order and an offset with a cursor', async () => {
      await rejects(store.find({}, { offset: -1 }), 'offset', '-1');
      await rejects(store.find({}, { order: 'up' as 'asc' }), 'order', '"up"');
      await store.scheduleMany([newCommand(), newCommand()]);
      const { nextCursor } = await store.find({}, { limit: 1 });
      expect(nextCursor).toEqual(expect.any(String));
      await rejects(
        store.find({}, { cursor: nextCursor as string, offset: 1 }),
        'offset',
        'cursor',
      );
    });

    it('rejects a cursor it did not make', async () => {
      for (const cursor of ['not-a-cursor', '', Buffer.from('null').toString('base64url')]) {
        await rejects(store.find({}, { cursor }), 'cursor', 'nextCursor');
      }
    });

    it('rejects unknown statuses and invalid dates in the filter', async () => {
      await rejects(store.find({ status: 'done' as 'completed' }), 'status', '"done"');
      await rejects(
        store.find({ scheduledBefore: new Date(Number.NaN) }),
        'scheduledBefore',
        'Invalid Date',
      );
      await rejects(
        store.requeueMany({ scheduledAfter: new Date(Number.NaN) }, ['failed'], 10),
        'scheduledAfter',
        'a valid Date',
      );
    });
  });
});
