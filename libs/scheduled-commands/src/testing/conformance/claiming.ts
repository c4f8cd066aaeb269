import { describe, expect, it } from 'vitest';
import { newCommand } from '../new-command.js';
import type { ScheduledCommandEntry } from '../../store/scheduled-command-entry.js';
import { type ConformanceContext, HOUR, ids, LONG_LEASE } from './context.js';

/**
 * Claiming: `claim()`, the one call through which work reaches a worker.
 *
 * Checks what a claim takes (due, not expired, pending), in which order (priority, due time, then
 * creation order), how much (`limit`), what it writes (status, lease, `startedAt`, `attempts`), and
 * that concurrent claims never hand one entry to two workers. A store that gets this wrong runs a
 * command twice, starves high priorities, or runs an expired command.
 */
export function describeClaiming(t: ConformanceContext): void {
  const { store, schedule, mustGet, claimDue, at, now, measure, expectTimeIn, expectSameTime } = t;
  const { expectStored, createProcessing, createCompleted, createCancelled } = t;

  // Claim order is part of the contract: priority descending, then due time, then id (creation
  // order).
  describe('claim()', () => {
    it('makes a due entry processing under the worker lease and returns it', async () => {
      const entry = await schedule({ scheduledFor: at(-HOUR) });
      const [claimed, window] = await measure(() =>
        store.claim({ workerId: 'worker-1', limit: 5, leaseMs: 30_000 }),
      );
      expect(ids(claimed)).toEqual([entry.id]);
      const c = claimed[0];
      expect(c.status).toBe('processing');
      expect(c.lockedBy).toBe('worker-1');
      expect(c.attempts).toBe(1);
      expectTimeIn(c.startedAt, window);
      expectTimeIn(c.lockedUntil, window, 30_000);
      expect(c.lockedUntil!.getTime() - c.startedAt!.getTime()).toBe(30_000);
      expect(c.retryCount).toBe(0);
      expectSameTime(c.scheduledFor, entry.scheduledFor);
      await expectStored(entry.id, c);
    });

    it('claims only entries that are due (scheduledFor <= now)', async () => {
      const due = await schedule({ scheduledFor: at(-HOUR) });
      await schedule({ scheduledFor: at(HOUR) });
      await schedule({ delay: 60_000 });
      const claimed = await claimDue();
      expect(ids(claimed)).toEqual([due.id]);
    });

    it('claims an entry due exactly now', async () => {
      const entry = await schedule({ scheduledFor: now() });
      expect(ids(await claimDue(1))).toEqual([entry.id]);
    });

    it('never claims an expired entry (expiresAt <= now) but claims one not yet expired', async () => {
      await schedule({ scheduledFor: at(-2 * HOUR), expiresAfter: HOUR });
      await schedule({ scheduledFor: now(), expiresAfter: 0 });
      const alive = await schedule({ scheduledFor: at(-HOUR), expiresAfter: 2 * HOUR });
      const claimed = await claimDue();
      expect(ids(claimed)).toEqual([alive.id]);
    });

    it('claims in order: priority descending, then scheduledFor ascending, then id ascending', async () => {
      const t1 = at(-3 * HOUR);
      const t2 = at(-2 * HOUR);
      const low1 = await schedule({ priority: 0, scheduledFor: t1 });
      const high2 = await schedule({ priority: 5, scheduledFor: t2 });
      const high1a = await schedule({ priority: 5, scheduledFor: t1 });
      const low2 = await schedule({ priority: 0, scheduledFor: t2 });
      const high1b = await schedule({ priority: 5, scheduledFor: t1 });
      const negative = await schedule({ priority: -1, scheduledFor: at(-4 * HOUR) });
      const top = await schedule({ priority: 10, scheduledFor: now() });
      const claimed = await claimDue();
      expect(ids(claimed)).toEqual(
        [top, high1a, high1b, high2, low1, low2, negative].map((e) => e.id),
      );
    });

    it('breaks ties by id (creation order), not by the order rows were written', async () => {
      const scheduledFor = at(-HOUR);
      const older = newCommand({ scheduledFor });
      const newer = newCommand({ scheduledFor });
      expect(older.id < newer.id).toBe(true);
      await store.schedule(newer);
      await store.schedule(older);
      const claimed = await claimDue(2);
      expect(ids(claimed)).toEqual([older.id, newer.id]);
    });

    it('claims at most limit entries, the first ones in claim order', async () => {
      const entries: ScheduledCommandEntry[] = [];
      for (let i = 0; i < 5; i++)
        entries.push(await schedule({ scheduledFor: at(-(10 - i) * 60_000) }));
      const first = await claimDue(2);
      expect(ids(first)).toEqual(ids(entries.slice(0, 2)));
      const next = await claimDue(2);
      expect(ids(next)).toEqual(ids(entries.slice(2, 4)));
      expect(await store.getProcessingCount()).toBe(4);
      expect(await store.getPendingCount()).toBe(1);
    });

    it('returns [] when nothing is due, and never claims an entry twice', async () => {
      expect(await claimDue()).toEqual([]);
      const claimed = await createProcessing();
      await createCompleted();
      await createCancelled();
      expect(await claimDue(10, 'other')).toEqual([]);
      const still = await mustGet(claimed.id);
      expect(still.lockedBy).toBe('worker-a');
      expect(still.attempts).toBe(1);
    });

    it('never returns one entry to two concurrent claims', async () => {
      const commands = Array.from({ length: 20 }, (_, i) =>
        newCommand({ scheduledFor: at(-HOUR + i), priority: i % 3 }),
      );
      await store.scheduleMany(commands);
      const workers = ['w1', 'w2', 'w3', 'w4', 'w5'];
      const results = await Promise.all(
        workers.map((workerId) => store.claim({ workerId, limit: 6, leaseMs: LONG_LEASE })),
      );
      const all = results.flat();
      expect(new Set(ids(all)).size).toBe(all.length);
      expect(all.length).toBeGreaterThan(0);
      results.forEach((claimed, i) => {
        for (const entry of claimed) expect(entry.lockedBy).toBe(workers[i]);
      });
      for (const [i, claimed] of results.entries()) {
        for (const entry of claimed) expect((await mustGet(entry.id)).lockedBy).toBe(workers[i]);
      }
      expect(await store.getProcessingCount()).toBe(all.length);
      // Whatever a claim skipped under contention is still claimable afterwards.
      const rest = await claimDue(20, 'w6');
      expect(all.length + rest.length).toBe(20);
    });
  });
}
