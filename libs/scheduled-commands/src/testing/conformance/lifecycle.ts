import { describe, expect, it } from 'vitest';
import { newCommand } from '../new-command.js';
import {
  FINISHED_STATUSES,
  SCHEDULED_COMMAND_STATUSES,
  type ScheduledCommandEntry,
} from '../../store/scheduled-command-entry.js';
import { type ConformanceContext, HOUR, ids, leaseOf, sorted } from './context.js';

/**
 * Lifecycle: the changes an operator makes to an entry's life: `cancel()` and `reschedule()` while
 * it waits, `requeue()` and `requeueMany()` once it has finished.
 *
 * Checks which states each accepts (a running entry is never cancelled, rescheduled or requeued),
 * what it keeps and what it resets (retry budget, expiry, result), that requeue respects the
 * idempotency key, and that each races a claim or itself with exactly one winner. A store that
 * cancels a running entry or requeues a live one runs a command twice.
 */
export function describeLifecycle(t: ConformanceContext): void {
  const { store, schedule, statusOf, expectStored, expectRefused, claimDue, claimOnly, at } = t;
  const { measure, expectTimeIn, expectSameTime, expectFinished, expectPendingAgain } = t;
  const { createProcessing, createWaitingForRetry, createCompleted, createFailed } = t;
  const { createCancelled, createExpired } = t;

  // Cancel stops an entry that has not started: pending, including one waiting for a retry.
  describe('cancel()', () => {
    it('cancels a pending entry (completedAt = now) and returns it', async () => {
      const entry = await schedule({ scheduledFor: at(HOUR) });
      const [cancelled, window] = await measure(() => store.cancel(entry.id));
      expect(cancelled).not.toBeNull();
      const c = cancelled as ScheduledCommandEntry;
      expect(c.id).toBe(entry.id);
      expectFinished(c, 'cancelled', window);
      await expectStored(entry.id, c);
      expect(await store.getCancelledCount()).toBe(1);
    });

    it('cancels an entry waiting for a retry', async () => {
      const waiting = await createWaitingForRetry();
      const cancelled = await store.cancel(waiting.id);
      expect(cancelled?.status).toBe('cancelled');
      expect(cancelled?.retryCount).toBe(1);
    });

    it('a cancelled entry is never claimed', async () => {
      const entry = await schedule({ scheduledFor: at(-HOUR) });
      await store.cancel(entry.id);
      expect(await claimDue()).toEqual([]);
    });

    it('returns null and changes nothing for processing, finished and unknown entries', async () => {
      const processing = await createProcessing();
      const completed = await createCompleted();
      const failed = await createFailed();
      const expired = await createExpired();
      const cancelled = await createCancelled();
      for (const entry of [processing, completed, failed, expired, cancelled]) {
        await expectRefused(entry, (id) => store.cancel(id));
      }
      expect(await store.cancel(newCommand().id)).toBeNull();
    });

    it('has exactly one winner when cancels race claims', async () => {
      const commands = Array.from({ length: 10 }, (_, i) =>
        newCommand({ scheduledFor: at(-HOUR + i) }),
      );
      await store.scheduleMany(commands);
      const [cancels, claimsA, claimsB] = await Promise.all([
        Promise.all(commands.map((c) => store.cancel(c.id))),
        claimDue(10, 'a'),
        claimDue(10, 'b'),
      ]);
      for (const [i, command] of commands.entries()) {
        const cancelled = cancels[i] !== null;
        const claimedBy = [claimsA, claimsB].filter((c) => ids(c).includes(command.id));
        expect(Number(cancelled) + claimedBy.length).toBe(1);
        expect(await statusOf(command.id)).toBe(cancelled ? 'cancelled' : 'processing');
      }
    });
  });

  // Reschedule moves the due time of a waiting entry; its expiry and retry state stay as they were.
  describe('reschedule()', () => {
    it('moves a pending entry to a new time and keeps expiresAt', async () => {
      const entry = await schedule({ scheduledFor: at(HOUR), expiresAfter: 10 * HOUR });
      const newTime = new Date(Math.floor(at(2 * HOUR).getTime()));
      const updated = await store.reschedule(entry.id, { scheduledFor: newTime });
      expect(updated).not.toBeNull();
      expectSameTime(updated?.scheduledFor, newTime);
      expectSameTime(updated?.expiresAt, entry.expiresAt as Date);
      expect(updated?.status).toBe('pending');
      await expectStored(entry.id, updated);
    });

    it('resolves a delay from the store clock', async () => {
      const entry = await schedule({ scheduledFor: at(-HOUR) });
      const [updated, window] = await measure(() => store.reschedule(entry.id, { delay: 60_000 }));
      expectTimeIn(updated?.scheduledFor, window, 60_000);
      expect(await claimDue(1)).toEqual([]);
    });

    it('can make a future entry due now', async () => {
      const entry = await schedule({ scheduledFor: at(HOUR) });
      expect(await store.reschedule(entry.id, { delay: 0 })).not.toBeNull();
      await claimOnly(entry.id);
    });

    it('moves an entry waiting for a retry and keeps its retry count', async () => {
      const waiting = await createWaitingForRetry({}, HOUR);
      const updated = await store.reschedule(waiting.id, { scheduledFor: at(-1_000) });
      expect(updated?.retryCount).toBe(1);
      expect(updated?.errorMessage).toBe('try again');
      const again = await claimOnly(waiting.id);
      expect(again.attempts).toBe(2);
    });

    it('returns null and changes nothing for processing, finished and unknown entries', async () => {
      const processing = await createProcessing();
      const completed = await createCompleted();
      const cancelled = await createCancelled();
      for (const entry of [processing, completed, cancelled]) {
        await expectRefused(entry, (id) => store.reschedule(id, { delay: 1_000 }));
      }
      expect(await store.reschedule(newCommand().id, { delay: 1_000 })).toBeNull();
    });
  });

  // Requeue gives a finished entry a fresh retry budget and no expiry; its attempts and last error
  // stay.
  describe('requeue()', () => {
    it('puts a failed entry back to pending, due now, with a fresh retry budget; keeps attempts and errorMessage', async () => {
      const claimed = await createProcessing({ maxRetries: 2, expiresAfter: 10 * HOUR });
      const retried = await store.retry(leaseOf(claimed), 'first', 0);
      const again = await claimOnly(claimed.id);
      await store.deadLetter(leaseOf(again), 'last error');
      expect(retried?.retryCount).toBe(1);

      const [requeued, window] = await measure(() => store.requeue(claimed.id, ['failed']));
      expect(requeued).not.toBeNull();
      const r = requeued as ScheduledCommandEntry;
      expectPendingAgain(r, window);
      expect(r.retryCount).toBe(0);
      expect(r.expiresAt).toBeNull();
      expect(r.resultPayload).toBeNull();
      expect(r.attempts).toBe(2);
      expect(r.errorMessage).toBe('last error');
      expect(r.maxRetries).toBe(2);
      await expectStored(claimed.id, r);
      const third = await claimOnly(claimed.id);
      expect(third.attempts).toBe(3);
    });

    it('clears the result of a requeued completed entry', async () => {
      const done = await createCompleted({}, '"result"');
      const requeued = await store.requeue(done.id, ['completed', 'failed']);
      expect(requeued?.status).toBe('pending');
      expect(requeued?.resultPayload).toBeNull();
      expect(requeued?.completedAt).toBeNull();
    });

    it('hands out, when claimed again, the entry exactly as stored (after a retry, after a requeue)', async () => {
      const claimed = await createProcessing({ maxRetries: 3, correlationId: 'c-1' });
      await store.retry(leaseOf(claimed), 'first failure', 0);
      const retried = await claimOnly(claimed.id, 'worker-b', 12_345);
      expect(retried.errorMessage).toBe('first failure');
      expect(retried.lockedBy).toBe('worker-b');
      await expectStored(claimed.id, retried);

      await store.complete([{ lease: leaseOf(retried), resultPayload: '"done"' }]);
      await store.requeue(claimed.id, ['completed']);
      const requeued = await claimOnly(claimed.id, 'worker-c');
      expect(requeued.resultPayload).toBeNull();
      expect(requeued.completedAt).toBeNull();
      expect(requeued.status).toBe('processing');
      await expectStored(claimed.id, requeued);
    });

    it('makes an expired or cancelled entry runnable again (no expiry)', async () => {
      const expired = await createExpired();
      const requeued = await store.requeue(expired.id, ['expired']);
      expect(requeued?.expiresAt).toBeNull();
      await claimOnly(expired.id);
      const cancelled = await createCancelled();
      expect((await store.requeue(cancelled.id, ['cancelled']))?.status).toBe('pending');
      await claimOnly(cancelled.id);
    });

    it('returns null and changes nothing when the status is not one of fromStatuses', async () => {
      const failed = await createFailed();
      expect(await store.requeue(failed.id, ['completed', 'expired'])).toBeNull();
      await expectRefused(failed, (id) => store.requeue(id, []));
      const processing = await createProcessing();
      await expectRefused(processing, (id) => store.requeue(id, FINISHED_STATUSES));
      const pending = await schedule({ scheduledFor: at(HOUR) });
      await expectRefused(pending, (id) => store.requeue(id, FINISHED_STATUSES));
      expect(await store.requeue(newCommand().id, FINISHED_STATUSES)).toBeNull();
    });

    it('never requeues a live entry, even when its status is listed', async () => {
      const processing = await createProcessing();
      const pending = await schedule({ scheduledFor: at(HOUR) });
      for (const entry of [processing, pending]) {
        await expectRefused(entry, (id) => store.requeue(id, SCHEDULED_COMMAND_STATUSES));
      }
      expect(await store.requeueMany({}, SCHEDULED_COMMAND_STATUSES, 10)).toEqual([]);
      await expectStored(processing.id, processing);
    });

    it('has exactly one winner when the same entry is requeued concurrently', async () => {
      const failed = await createFailed();
      const results = await Promise.all(
        Array.from({ length: 5 }, () => store.requeue(failed.id, ['failed'])),
      );
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      expect(await statusOf(failed.id)).toBe('pending');
    });

    it('refuses while another live entry holds the idempotency key, and takes the key back otherwise', async () => {
      const failed = await createFailed({ idempotencyKey: 'k' });
      const holder = await schedule({ idempotencyKey: 'k', scheduledFor: at(HOUR) });
      expect(await store.requeue(failed.id, ['failed'])).toBeNull();
      expect(await statusOf(failed.id)).toBe('failed');

      await store.cancel(holder.id);
      const requeued = await store.requeue(failed.id, ['failed']);
      expect(requeued?.status).toBe('pending');
      const next = newCommand({ idempotencyKey: 'k' });
      expect(await store.schedule(next)).toEqual({ id: failed.id, created: false });
    });
  });

  // The bulk form behind "retry every failed X": a filter, the statuses to take, and a batch limit.
  describe('requeueMany()', () => {
    it('requeues up to limit entries matching the filter whose status is in fromStatuses', async () => {
      const a1 = await createFailed({ commandType: 'a' });
      const a2 = await createFailed({ commandType: 'a' });
      const a3 = await createFailed({ commandType: 'a' });
      const b = await createFailed({ commandType: 'b' });
      const aDone = await createCompleted({ commandType: 'a' });
      const aPending = await schedule({ commandType: 'a', scheduledFor: at(HOUR) });

      const first = await store.requeueMany({ commandType: 'a' }, ['failed'], 2);
      expect(first).toHaveLength(2);
      for (const entry of first) {
        expect(entry.status).toBe('pending');
        expect(entry.retryCount).toBe(0);
        expect(entry.errorMessage).toBe('boom');
        await expectStored(entry.id, entry);
      }
      const second = await store.requeueMany({ commandType: 'a' }, ['failed'], 10);
      expect(sorted([...ids(first), ...ids(second)])).toEqual(sorted([a1.id, a2.id, a3.id]));
      expect(await statusOf(b.id)).toBe('failed');
      expect(await statusOf(aDone.id)).toBe('completed');
      await expectStored(aPending.id, aPending);
      expect(await store.requeueMany({ commandType: 'a' }, ['failed'], 10)).toEqual([]);
    });

    it('accepts status in the filter and fromStatuses together (both must match)', async () => {
      const failed = await createFailed();
      const expired = await createExpired();
      await createCompleted();
      const requeued = await store.requeueMany(
        { status: ['failed', 'completed'] },
        ['failed', 'expired'],
        10,
      );
      expect(ids(requeued)).toEqual([failed.id]);
      expect(await statusOf(expired.id)).toBe('expired');
    });

    it('skips entries whose idempotency key is held by a live entry, even inside the batch', async () => {
      const k1 = await createFailed({ idempotencyKey: 'k' });
      const k2 = await createFailed({ idempotencyKey: 'k' });
      const held = await createFailed({ idempotencyKey: 'held' });
      await schedule({ idempotencyKey: 'held', scheduledFor: at(HOUR) });
      const free = await createFailed();
      const requeued = await store.requeueMany({}, ['failed'], 10);
      const requeuedIds = ids(requeued);
      expect(requeuedIds).toContain(free.id);
      expect(requeuedIds).not.toContain(held.id);
      expect(requeuedIds.filter((id) => id === k1.id || id === k2.id)).toHaveLength(1);
      expect(requeued).toHaveLength(2);
      expect(await statusOf(held.id)).toBe('failed');
      expect((await store.find({ status: 'failed' })).items).toHaveLength(2);
    });
  });
}
