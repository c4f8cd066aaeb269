import { describe, expect, it } from 'vitest';
import { InvalidScheduleOptionsError } from '../../errors/index.js';
import { newCommand } from '../new-command.js';
import {
  type NewScheduledCommand,
  SCHEDULED_COMMAND_STATUSES,
  type ScheduledCommandEntry,
} from '../../store/scheduled-command-entry.js';
import { type ConformanceContext, HOUR, ids, leaseOf, REAL_CLOCK_TOLERANCE_MS } from './context.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * Queries: the read side: `find()` (filters, order, offset and cursor paging), `countByStatus()`
 * and the count helpers, `getStatistics()`, `msUntilNextDue()`, and the rule that every read hands
 * out a copy.
 *
 * The dashboard, the management API and the worker's due timer rely on these answers. A cursor that
 * skips or repeats rows under inserts, a count that misses a status, or a read that returns the
 * store's own object (so a caller's change leaks into the store) breaks them quietly.
 */
export function describeQueries(t: ConformanceContext): void {
  const { store, schedule, mustGet, expectStored, findIds, claimDue, claimOnly, at, now } = t;
  const { advance } = t;
  const { clock, slack, measure, expectSameTime, createProcessing, createWaitingForRetry } = t;
  const { createCompleted, createFailed, createCancelled, createExpired } = t;

  // The listing behind the management API: newest first by default, stable cursors under inserts.
  describe('find()', () => {
    /** Schedules `n` entries one after another (creation order = array order). */
    const scheduleSeries = async (
      n: number,
      overrides: (i: number) => Partial<NewScheduledCommand> = () => ({}),
    ): Promise<ScheduledCommandEntry[]> => {
      const entries: ScheduledCommandEntry[] = [];
      for (let i = 0; i < n; i++)
        entries.push(await schedule({ scheduledFor: at(HOUR), ...overrides(i) }));
      return entries;
    };

    it('lists newest first by default, 50 per page, and returns the same entries as get()', async () => {
      const commands = Array.from({ length: 55 }, () => newCommand({ scheduledFor: at(HOUR) }));
      await store.scheduleMany(commands);
      const page = await store.find({});
      expect(page.items).toHaveLength(50);
      expect(ids(page.items)).toEqual(ids(commands).reverse().slice(0, 50));
      expect(page.nextCursor).not.toBeNull();
      expect(page.items[0]).toEqual(await mustGet(commands[54].id));
    });

    it('lists oldest first with order asc', async () => {
      const entries = await scheduleSeries(4);
      const page = await store.find({}, { order: 'asc' });
      expect(ids(page.items)).toEqual(ids(entries));
      expect(page.nextCursor).toBeNull();
    });

    it('returns an empty page with no cursor when nothing matches', async () => {
      expect(await store.find({})).toEqual({ items: [], nextCursor: null });
      await schedule();
      expect(await store.find({ commandType: 'nope' })).toEqual({ items: [], nextCursor: null });
    });

    it('filters by one status or by a list of statuses', async () => {
      const pending = await schedule({ scheduledFor: at(HOUR) });
      const completed = await createCompleted();
      const failed = await createFailed();
      const cancelled = await createCancelled();
      expect(await findIds({ status: 'pending' })).toEqual([pending.id]);
      expect(await findIds({ status: ['failed', 'completed'] })).toEqual([failed.id, completed.id]);
      expect(await findIds({ status: ['cancelled'] })).toEqual([cancelled.id]);
      expect((await store.find({ status: 'processing' })).items).toEqual([]);
    });

    it('filters by commandType and correlationId', async () => {
      const [a, b, c] = await scheduleSeries(3, (i) => ({
        commandType: i === 1 ? 'other' : 'mine',
        correlationId: i === 2 ? 'corr' : null,
      }));
      expect(await findIds({ commandType: 'mine' })).toEqual([c.id, a.id]);
      expect(await findIds({ commandType: 'other' })).toEqual([b.id]);
      expect(await findIds({ correlationId: 'corr' })).toEqual([c.id]);
      expect(await findIds({ commandType: 'other', correlationId: 'corr' })).toEqual([]);
    });

    it('filters by idempotencyKey: the live entry holding the key and the finished ones that held it', async () => {
      const done = await createCompleted({ idempotencyKey: 'order-42' });
      const failed = await createFailed({ idempotencyKey: 'order-42' });
      const live = await schedule({ scheduledFor: at(HOUR), idempotencyKey: 'order-42' });
      const other = await schedule({ idempotencyKey: 'order-43' });
      await schedule({ scheduledFor: at(HOUR) });
      expect(await findIds({ idempotencyKey: 'order-42' })).toEqual([live.id, failed.id, done.id]);
      expect(
        await findIds({ idempotencyKey: 'order-42', status: ['pending', 'processing'] }),
      ).toEqual([live.id]);
      expect(await findIds({ idempotencyKey: 'order-42', status: 'completed' })).toEqual([done.id]);
      expect(await findIds({ idempotencyKey: 'order-44' })).toEqual([]);
      await claimOnly(other.id);
      expect(await findIds({ idempotencyKey: 'order-43', status: 'processing' })).toEqual([
        other.id,
      ]);
      expect(await findIds({ idempotencyKey: 'order-43', status: 'pending' })).toEqual([]);
    });

    it('filters by commandType across every status, processing ones included, in id order and by pages', async () => {
      // The type's rows in every status, newest first: stores may read processing rows apart.
      const completed = await createCompleted({ commandType: 'mine' });
      const processing = await createProcessing({ commandType: 'mine' });
      const failed = await createFailed({ commandType: 'mine' });
      const pending = await schedule({ scheduledFor: at(HOUR), commandType: 'mine' });
      await schedule({ scheduledFor: at(HOUR), commandType: 'other' });
      const newestFirst = [pending.id, failed.id, processing.id, completed.id];
      expect(await findIds({ commandType: 'mine' })).toEqual(newestFirst);
      const walk: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.find({ commandType: 'mine' }, { limit: 1, cursor });
        walk.push(...ids(page.items));
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
      expect(walk).toEqual(newestFirst);
      const oldestFirst = await store.find({ commandType: 'mine' }, { order: 'asc', offset: 1 });
      expect(ids(oldestFirst.items)).toEqual([...newestFirst].reverse().slice(1));
      expect(await findIds({ commandType: 'mine', status: ['processing', 'pending'] })).toEqual([
        pending.id,
        processing.id,
      ]);
      expect(await findIds({ commandType: 'mine', status: 'processing' })).toEqual([processing.id]);
      expect(await findIds({ commandType: 'mine', status: ['completed', 'failed'] })).toEqual([
        failed.id,
        completed.id,
      ]);
    });

    it('filters by scheduledBefore (exclusive) and scheduledAfter (inclusive)', async () => {
      const base = Math.floor(at(-10 * HOUR).getTime());
      const [e1, e2, e3] = await scheduleSeries(3, (i) => ({
        scheduledFor: new Date(base + i * HOUR),
      }));
      const t2 = e2.scheduledFor;
      expect(await findIds({ scheduledAfter: t2 })).toEqual([e3.id, e2.id]);
      expect(await findIds({ scheduledBefore: t2 })).toEqual([e1.id]);
      expect(await findIds({ scheduledAfter: t2, scheduledBefore: e3.scheduledFor })).toEqual([
        e2.id,
      ]);
      expect(
        await findIds({
          scheduledAfter: e1.scheduledFor,
          status: 'pending',
          commandType: 'test-command',
        }),
      ).toEqual([e3.id, e2.id, e1.id]);
    });

    it('pages with limit and offset', async () => {
      const entries = await scheduleSeries(5);
      const newestFirst = ids(entries).reverse();
      expect(await findIds({}, { limit: 2 })).toEqual(newestFirst.slice(0, 2));
      expect(await findIds({}, { limit: 2, offset: 2 })).toEqual(newestFirst.slice(2, 4));
      expect(await findIds({}, { limit: 2, offset: 4 })).toEqual(newestFirst.slice(4));
      expect((await store.find({}, { limit: 2, offset: 5 })).items).toEqual([]);
      expect(await findIds({}, { limit: 3, offset: 1, order: 'asc' })).toEqual(
        ids(entries).slice(1, 4),
      );
    });

    it('walks every row exactly once with the cursor, in both orders', async () => {
      const entries = await scheduleSeries(7);
      for (const order of ['desc', 'asc'] as const) {
        const seen: string[] = [];
        let cursor: string | undefined;
        let pages = 0;
        do {
          const page = await store.find({}, { limit: 3, order, cursor });
          seen.push(...ids(page.items));
          cursor = page.nextCursor ?? undefined;
          expect(++pages).toBeLessThanOrEqual(3);
        } while (cursor);
        expect(pages).toBe(3);
        expect(seen).toEqual(order === 'asc' ? ids(entries) : ids(entries).reverse());
      }
    });

    it('returns no cursor on a last page that is exactly full', async () => {
      await scheduleSeries(4);
      const first = await store.find({}, { limit: 2 });
      expect(first.nextCursor).not.toBeNull();
      const last = await store.find({}, { limit: 2, cursor: first.nextCursor as string });
      expect(last.items).toHaveLength(2);
      expect(last.nextCursor).toBeNull();
      expect((await store.find({}, { limit: 4 })).nextCursor).toBeNull();
    });

    it('keeps cursor paging stable while rows are inserted', async () => {
      const entries = await scheduleSeries(6);
      const first = await store.find({}, { limit: 2 });
      const added = await scheduleSeries(3);
      const seen = ids(first.items);
      let cursor = first.nextCursor;
      while (cursor) {
        const page = await store.find({}, { limit: 2, cursor });
        seen.push(...ids(page.items));
        cursor = page.nextCursor;
      }
      expect(seen).toEqual(ids(entries).reverse());

      const ascFirst = await store.find({}, { limit: 4, order: 'asc' });
      const more = await scheduleSeries(1);
      const ascRest = await store.find(
        {},
        { limit: 100, order: 'asc', cursor: ascFirst.nextCursor as string },
      );
      expect([...ids(ascFirst.items), ...ids(ascRest.items)]).toEqual(
        ids([...entries, ...added, ...more]),
      );
    });

    it('combines the cursor with a filter', async () => {
      const entries = await scheduleSeries(6, (i) => ({
        commandType: i % 2 === 0 ? 'even' : 'odd',
      }));
      const even = entries.filter((_, i) => i % 2 === 0);
      const first = await store.find({ commandType: 'even' }, { limit: 2 });
      expect(ids(first.items)).toEqual(ids(even).reverse().slice(0, 2));
      const second = await store.find(
        { commandType: 'even' },
        { limit: 2, cursor: first.nextCursor as string },
      );
      expect(ids(second.items)).toEqual([even[0].id]);
      expect(second.nextCursor).toBeNull();
    });
  });

  // Every status is present in the answer, with 0 when there is none.
  describe('countByStatus() and the count helpers', () => {
    it('answers 0 for every status of an empty store', async () => {
      const counts = await store.countByStatus();
      expect(Object.keys(counts).sort()).toEqual([...SCHEDULED_COMMAND_STATUSES].sort());
      for (const status of SCHEDULED_COMMAND_STATUSES) expect(counts[status]).toBe(0);
      expect(await store.getPendingCount()).toBe(0);
    });

    it('counts every status', async () => {
      await createProcessing();
      await createCompleted();
      await createCompleted();
      await createFailed();
      await createCancelled();
      await createExpired();
      await createExpired();
      await createExpired();
      await schedule({ scheduledFor: at(HOUR) });
      await schedule({ scheduledFor: at(HOUR) });
      await createWaitingForRetry();
      const counts = await store.countByStatus();
      expect(counts).toEqual({
        pending: 3,
        processing: 1,
        completed: 2,
        failed: 1,
        cancelled: 1,
        expired: 3,
      });
      expect(await store.getPendingCount()).toBe(3);
      expect(await store.getProcessingCount()).toBe(1);
      expect(await store.getCompletedCount()).toBe(2);
      expect(await store.getFailedCount()).toBe(1);
      expect(await store.getCancelledCount()).toBe(1);
      expect(await store.getExpiredCount()).toBe(3);
    });
  });

  // The health summary: totals, the oldest pending due time, retries waiting and the due backlog.
  describe('getStatistics()', () => {
    it('answers zeros and null for an empty store', async () => {
      const stats = await store.getStatistics();
      expect(stats.total).toBe(0);
      expect(stats.oldestPendingScheduledFor).toBeNull();
      expect(stats.waitingForRetry).toBe(0);
      expect(stats.dueNow).toBe(0);
      for (const status of SCHEDULED_COMMAND_STATUSES) expect(stats.counts[status]).toBe(0);
    });

    it('answers counts, total, oldest pending due time, retries waiting and the due backlog', async () => {
      await createWaitingForRetry({}, HOUR);
      await createCompleted();
      await createProcessing();
      const dueA = await schedule({ scheduledFor: at(-2 * HOUR) });
      await schedule({ scheduledFor: now() });
      await schedule({ scheduledFor: at(3 * HOUR) });
      const stats = await store.getStatistics();
      expect(stats.counts).toEqual({
        pending: 4,
        processing: 1,
        completed: 1,
        failed: 0,
        cancelled: 0,
        expired: 0,
      });
      expect(stats.total).toBe(6);
      expectSameTime(stats.oldestPendingScheduledFor, dueA.scheduledFor);
      expect(stats.waitingForRetry).toBe(1);
      expect(stats.dueNow).toBe(2);
    });
  });

  // The dashboard's overview: exact below the bound; what lies beyond it is flagged, never hidden.
  describe('estimateStatistics()', () => {
    it('answers the exact figures of getStatistics() while every status is under the bound', async () => {
      await createWaitingForRetry({}, HOUR);
      await createCompleted();
      await createFailed();
      await createProcessing();
      await schedule({ scheduledFor: at(-HOUR) });
      const exact = await store.getStatistics();
      const estimated = await store.estimateStatistics();
      expect(estimated.approximate).toEqual([]);
      expect(estimated.counts).toEqual(exact.counts);
      expect(estimated.total).toBe(exact.total);
      expect(estimated.oldestPendingScheduledFor).toEqual(exact.oldestPendingScheduledFor);
      expect(estimated.waitingForRetry ?? exact.waitingForRetry).toBe(exact.waitingForRetry);
      expect(estimated.dueNow ?? exact.dueNow).toBe(exact.dueNow);
    });

    it('counts exactly up to the bound, and flags an estimate of what lies beyond it', async () => {
      for (let i = 0; i < 3; i++) await createCompleted();
      await schedule({ scheduledFor: at(HOUR) });
      const estimated = await store.estimateStatistics(1);
      // A store may estimate the completed entries (more than 1); one that counts says exactly 3.
      expect(estimated.counts.pending).toBe(1);
      expect(estimated.approximate).not.toContain('pending');
      if (!estimated.approximate.includes('completed')) expect(estimated.counts.completed).toBe(3);
      expect(estimated.counts.completed).toBeGreaterThanOrEqual(2);
    });

    it('refuses a bound that is not an integer >= 0, with a typed error', async () => {
      for (const bad of [-1, 1.5, Number.NaN]) {
        await expect(store.estimateStatistics(bad)).rejects.toBeInstanceOf(
          InvalidScheduleOptionsError,
        );
      }
    });
  });

  // What the worker's due timer waits for: the next pending due time, read on the store's clock.
  describe('msUntilNextDue()', () => {
    it('answers null when nothing is pending', async () => {
      expect(await store.msUntilNextDue()).toBeNull();
      await createProcessing();
      await createCompleted();
      await createCancelled();
      expect(await store.msUntilNextDue()).toBeNull();
    });

    it('answers 0 or less when an entry is already due', async () => {
      await schedule({ scheduledFor: at(HOUR) });
      await schedule({ scheduledFor: at(-HOUR) });
      const ms = await store.msUntilNextDue();
      expect(ms).not.toBeNull();
      expect(ms as number).toBeLessThanOrEqual(0);
      expect(ms as number).toBeGreaterThanOrEqual(-HOUR - REAL_CLOCK_TOLERANCE_MS);
    });

    it('answers the time until the earliest pending entry is due', async () => {
      await schedule({ delay: 2 * HOUR });
      const [, window] = await measure(() => store.scheduleMany([newCommand({ delay: 60_000 })]));
      const [ms, asked] = await measure(() => store.msUntilNextDue());
      expect(ms).not.toBeNull();
      expect(ms as number).toBeLessThanOrEqual(60_000 + window.after - asked.before + slack());
      expect(ms as number).toBeGreaterThanOrEqual(60_000 + window.before - asked.after - slack());
      if (clock()) {
        await advance(59_000);
        expect(await store.msUntilNextDue()).toBe(1_000);
      }
    });

    it('counts entries waiting for a retry', async () => {
      await createWaitingForRetry({}, 30_000);
      const ms = await store.msUntilNextDue();
      expect(ms as number).toBeGreaterThan(30_000 - 2 * REAL_CLOCK_TOLERANCE_MS);
      expect(ms as number).toBeLessThanOrEqual(30_000 + REAL_CLOCK_TOLERANCE_MS);
    });
  });

  // Every read returns a fresh copy: nothing a caller does to it reaches the store.
  describe('snapshots', () => {
    it('returns copies: changing a returned entry changes nothing in the store', async () => {
      const entry = await schedule({ metadata: { a: '1' }, scheduledFor: at(-HOUR) });
      const expected = structuredClone(entry);
      const fromGet = (await store.get(entry.id)) as Mutable<ScheduledCommandEntry>;
      fromGet.status = 'failed';
      fromGet.priority = 99;
      (fromGet.metadata as Record<string, string>).a = 'changed';
      fromGet.scheduledFor.setTime(0);
      const fromFind = (await store.find({})).items[0] as Mutable<ScheduledCommandEntry>;
      fromFind.commandType = 'changed';
      (fromFind.metadata as Record<string, string>).b = 'added';

      await expectStored(entry.id, expected);

      const [claimed] = await claimDue(1);
      (claimed as Mutable<ScheduledCommandEntry>).lockedBy = 'thief';
      (claimed.lockedUntil as Date).setTime(0);
      const stored = await mustGet(entry.id);
      expect(stored.lockedBy).toBe('w');
      expect(stored.lockedUntil?.getTime()).not.toBe(0);
      expect(await store.complete([{ lease: leaseOf(stored), resultPayload: null }])).toEqual([
        entry.id,
      ]);
    });

    it('returns distinct objects on every read', async () => {
      const entry = await schedule({ metadata: { a: '1' } });
      const a = await mustGet(entry.id);
      const b = await mustGet(entry.id);
      expect(a).toEqual(b);
      expect(a).not.toBe(b);
      expect(a.metadata).not.toBe(b.metadata);
      expect(a.scheduledFor).not.toBe(b.scheduledFor);
    });
  });
}
