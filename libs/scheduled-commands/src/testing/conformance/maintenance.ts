import { describe, expect, it } from 'vitest';
import { newCommand } from '../new-command.js';
import {
  FINISHED_STATUSES,
  SCHEDULED_COMMAND_STATUSES,
} from '../../store/scheduled-command-entry.js';
import { type ConformanceContext, HOUR, ids, leaseOf } from './context.js';

/**
 * Maintenance: the sweeps the worker runs on a timer, `expireDue()` and `purge()`.
 *
 * Checks that expiry takes only pending entries past `expiresAt` (a running one is left alone until
 * it waits for a retry), that purge deletes only finished entries of the statuses asked for that
 * finished before the cut-off, and that both honour their `limit` (small batches keep locks short).
 * A purge that deleted a live entry would lose a command.
 */
export function describeMaintenance(t: ConformanceContext): void {
  const { store, schedule, statusOf, expectStored, total, claimDue, at, now, advance } = t;
  const { measure, expectFinished, createProcessing, createWaitingForRetry } = t;
  const { createCompleted, createFailed, createCancelled, createExpired } = t;

  // Expiry ends entries that waited past expiresAt without running; a running entry is never
  // expired.
  describe('expireDue()', () => {
    it('moves pending entries past expiresAt to expired (completedAt = now) and returns them', async () => {
      const gone = await schedule({ scheduledFor: at(-2 * HOUR), expiresAfter: HOUR });
      const future = await schedule({ scheduledFor: at(-HOUR), expiresAfter: 2 * HOUR });
      const never = await schedule({ scheduledFor: at(-HOUR) });
      const [expired, window] = await measure(() => store.expireDue(10));
      expect(ids(expired)).toEqual([gone.id]);
      const e = expired[0];
      expectFinished(e, 'expired', window);
      await expectStored(gone.id, e);
      expect(await statusOf(future.id)).toBe('pending');
      expect(await statusOf(never.id)).toBe('pending');
      expect(await store.expireDue(10)).toEqual([]);
      expect(await store.getExpiredCount()).toBe(1);
    });

    it('expires an entry whose expiresAt is exactly now', async () => {
      const entry = await schedule({ scheduledFor: now(), expiresAfter: 0 });
      expect(ids(await store.expireDue(10))).toEqual([entry.id]);
    });

    it('expires at most limit entries', async () => {
      await store.scheduleMany(
        Array.from({ length: 3 }, () =>
          newCommand({ scheduledFor: at(-2 * HOUR), expiresAfter: HOUR }),
        ),
      );
      expect(await store.expireDue(2)).toHaveLength(2);
      expect(await store.expireDue(2)).toHaveLength(1);
      expect(await store.getExpiredCount()).toBe(3);
    });

    it('leaves a running entry alone, and expires it once it waits for a retry past expiresAt', async () => {
      const claimed = await createProcessing({ scheduledFor: now(), expiresAfter: 150 });
      await advance(150);
      expect(await store.expireDue(10)).toEqual([]);
      expect(await statusOf(claimed.id)).toBe('processing');
      expect(await store.retry(leaseOf(claimed), 'failed', 0)).not.toBeNull();
      expect(await claimDue(1)).toEqual([]);
      const expired = await store.expireDue(10);
      expect(ids(expired)).toEqual([claimed.id]);
      expect(expired[0].errorMessage).toBe('failed');
    });
  });

  // Purge is retention: it deletes finished history and never a live entry, whatever statuses it is
  // given.
  describe('purge()', () => {
    it('deletes finished entries of the given statuses that finished before olderThan', async () => {
      const completed = await createCompleted();
      const failed = await createFailed();
      const cancelled = await createCancelled();
      const expired = await createExpired();
      const pending = await schedule({ scheduledFor: at(HOUR) });
      const deleted = await store.purge({
        olderThan: at(HOUR),
        statuses: ['completed', 'cancelled'],
      });
      expect(deleted).toBe(2);
      expect(await store.get(completed.id)).toBeNull();
      expect(await store.get(cancelled.id)).toBeNull();
      expect(await statusOf(failed.id)).toBe('failed');
      expect(await statusOf(expired.id)).toBe('expired');
      expect(await statusOf(pending.id)).toBe('pending');
      expect(await store.purge({ olderThan: at(HOUR), statuses: ['completed'] })).toBe(0);
    });

    it('keeps entries that finished at or after olderThan', async () => {
      const completed = await createCompleted();
      const finishedAt = completed.completedAt as Date;
      expect(await store.purge({ olderThan: at(-HOUR), statuses: FINISHED_STATUSES })).toBe(0);
      expect(await store.purge({ olderThan: finishedAt, statuses: FINISHED_STATUSES })).toBe(0);
      expect(await statusOf(completed.id)).toBe('completed');
      expect(
        await store.purge({
          olderThan: new Date(finishedAt.getTime() + 1),
          statuses: FINISHED_STATUSES,
        }),
      ).toBe(1);
      expect(await store.get(completed.id)).toBeNull();
    });

    it('deletes at most limit entries per call', async () => {
      for (let i = 0; i < 3; i++) await createCompleted();
      const purgeTwo = () =>
        store.purge({ olderThan: at(HOUR), statuses: ['completed'], limit: 2 });
      expect(await purgeTwo()).toBe(2);
      expect(await store.getCompletedCount()).toBe(1);
      expect(await purgeTwo()).toBe(1);
      expect(await store.getCompletedCount()).toBe(0);
    });

    it('never deletes pending or processing entries, even when asked to', async () => {
      const processing = await createProcessing();
      const waiting = await createWaitingForRetry();
      await createFailed();
      await createExpired();
      const pending = await schedule({ scheduledFor: at(-HOUR) });
      const deleted = await store.purge({
        olderThan: at(HOUR),
        statuses: SCHEDULED_COMMAND_STATUSES,
      });
      expect(deleted).toBe(2);
      expect(await statusOf(processing.id)).toBe('processing');
      expect(await statusOf(pending.id)).toBe('pending');
      expect(await statusOf(waiting.id)).toBe('pending');
      expect(await total()).toBe(3);
    });
  });
}
