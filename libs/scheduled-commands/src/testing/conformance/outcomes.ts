import { describe, expect, it } from 'vitest';
import { newCommand } from '../new-command.js';
import type { ScheduledCommandEntry } from '../../store/scheduled-command-entry.js';
import {
  type ConformanceContext,
  expectLeaseCleared,
  HOUR,
  ids,
  leaseOf,
  sorted,
} from './context.js';

/**
 * Outcomes: what a worker writes back under its lease when a run ends: `complete()`, `retry()` and
 * `deadLetter()`.
 *
 * Checks each write's fields, and above all its fence: a write counts only while the entry is still
 * `processing` under that exact lease (worker and attempt). A worker whose lease ran out, or whose
 * entry was released, cancelled or already finished, must change nothing and learn it from the
 * return value; otherwise a slow worker overwrites the result of the one that took over.
 */
export function describeOutcomes(t: ConformanceContext): void {
  const { store, schedule, mustGet, statusOf, expectStored, claimDue, claimOnly, at } = t;
  const { advance, measure, expectFinished, expectPendingAgain } = t;
  const { createProcessing, createProcessingBatch, createLapsed, createCompleted } = t;

  // Success: the result is kept verbatim, and only the current holder of the lease can write it.
  describe('complete()', () => {
    it('marks the run completed under its lease: completedAt, resultPayload, lease cleared', async () => {
      const claimed = await createProcessing();
      const [written, window] = await measure(() =>
        store.complete([{ lease: leaseOf(claimed), resultPayload: '{"sent":true,"n":2}' }]),
      );
      expect(written).toEqual([claimed.id]);
      const entry = await mustGet(claimed.id);
      expectFinished(entry, 'completed', window);
      expect(entry.resultPayload).toBe('{"sent":true,"n":2}');
      expectLeaseCleared(entry);
      expect(entry.attempts).toBe(1);
    });

    it('stores a null result as null', async () => {
      const claimed = await createProcessing();
      await store.complete([{ lease: leaseOf(claimed), resultPayload: null }]);
      const entry = await mustGet(claimed.id);
      expect(entry.status).toBe('completed');
      expect(entry.resultPayload).toBeNull();
    });

    it('completes a batch and returns only the ids written', async () => {
      const [a, b, c] = await createProcessingBatch(3);
      const written = await store.complete([
        { lease: leaseOf(a), resultPayload: '1' },
        { lease: { ...leaseOf(b), workerId: 'someone-else' }, resultPayload: '2' },
        { lease: leaseOf(c), resultPayload: '3' },
      ]);
      expect(sorted(written)).toEqual(sorted([a.id, c.id]));
      expect(await statusOf(a.id)).toBe('completed');
      expect(await statusOf(b.id)).toBe('processing');
      expect((await mustGet(c.id)).resultPayload).toBe('3');
      expect(await store.complete([])).toEqual([]);
    });

    it('writes nothing under a wrong workerId or a wrong attempt', async () => {
      const claimed = await createProcessing();
      const lease = leaseOf(claimed);
      const wrongLeases = [
        { ...lease, workerId: 'worker-b' },
        { ...lease, attempt: lease.attempt + 1 },
        { ...lease, attempt: lease.attempt - 1 },
      ];
      for (const wrong of wrongLeases) {
        expect(await store.complete([{ lease: wrong, resultPayload: null }])).toEqual([]);
      }
      await expectStored(claimed.id, claimed);
    });

    it('writes nothing for an entry that is not processing (pending, completed, unknown)', async () => {
      const pending = await schedule({ scheduledFor: at(HOUR) });
      expect(
        await store.complete([
          { lease: { id: pending.id, workerId: 'w', attempt: 0 }, resultPayload: null },
          { lease: { id: pending.id, workerId: 'w', attempt: 1 }, resultPayload: null },
          { lease: { id: newCommand().id, workerId: 'w', attempt: 1 }, resultPayload: null },
        ]),
      ).toEqual([]);
      expect(await statusOf(pending.id)).toBe('pending');

      const claimed = await claimDue(1);
      expect(claimed).toEqual([]);
      const done = await createCompleted({}, '"first"');
      expect(
        await store.complete([
          { lease: { id: done.id, workerId: 'worker-a', attempt: 1 }, resultPayload: '"again"' },
        ]),
      ).toEqual([]);
      expect((await mustGet(done.id)).resultPayload).toBe('"first"');
    });

    it('writes nothing after the entry was released and cancelled meanwhile', async () => {
      const claimed = await createProcessing();
      expect(await store.release([leaseOf(claimed)])).toEqual([claimed.id]);
      expect((await store.cancel(claimed.id))?.status).toBe('cancelled');
      expect(await store.complete([{ lease: leaseOf(claimed), resultPayload: null }])).toEqual([]);
      const entry = await mustGet(claimed.id);
      expect(entry.status).toBe('cancelled');
      expect(entry.resultPayload).toBeNull();
    });

    it('writes nothing under a lease that ran out and was taken over by another worker', async () => {
      const first = await createLapsed({ maxRetries: 3 });
      const recovery = await store.recoverExpiredLeases(10);
      expect(ids(recovery.requeued)).toEqual([first.id]);
      const second = await claimOnly(first.id, 'worker-b');
      expect(second.attempts).toBe(2);
      expect(await store.complete([{ lease: leaseOf(first), resultPayload: '"a"' }])).toEqual([]);
      expect(await store.complete([{ lease: leaseOf(second), resultPayload: '"b"' }])).toEqual([
        first.id,
      ]);
      expect((await mustGet(first.id)).resultPayload).toBe('"b"');
    });

    it('has exactly one winner when a late completion races the lease recovery', async () => {
      const claimed = await createLapsed({ maxRetries: 3 });
      const [written, recovery] = await Promise.all([
        store.complete([{ lease: leaseOf(claimed), resultPayload: '"late"' }]),
        store.recoverExpiredLeases(10),
      ]);
      const entry = await mustGet(claimed.id);
      if (written.length === 1) {
        expect(recovery.requeued).toEqual([]);
        expect(recovery.deadLettered).toEqual([]);
        expect(entry.status).toBe('completed');
      } else {
        expect(written).toEqual([]);
        expect(ids(recovery.requeued)).toEqual([claimed.id]);
        expect(entry.status).toBe('pending');
      }
    });
  });

  // The four writes a worker can make under one lease are fenced against each other too.
  describe('races on one lease', () => {
    it('lets exactly one of complete, retry, deadLetter and release win', async () => {
      const claimed = await createProcessing();
      const lease = leaseOf(claimed);
      const [completed, retried, failed, released] = await Promise.all([
        store.complete([{ lease, resultPayload: null }]),
        store.retry(lease, 'retry', HOUR),
        store.deadLetter(lease, 'dead'),
        store.release([lease]),
      ]);
      const winners = [
        completed.length > 0,
        retried !== null,
        failed !== null,
        released.length > 0,
      ];
      expect(winners.filter(Boolean)).toHaveLength(1);
      const entry = await mustGet(claimed.id);
      const expected = ['completed', 'pending', 'failed', 'pending'][winners.indexOf(true)];
      expect(entry.status).toBe(expected);
    });
  });

  // A failed attempt with retries left: back to pending, due after the backoff delay.
  describe('retry()', () => {
    it('puts the run back to pending for later: retryCount + 1, scheduledFor = now + delay, error, lease cleared', async () => {
      const claimed = await createProcessing({ scheduledFor: at(-HOUR) });
      const [retried, window] = await measure(() =>
        store.retry(leaseOf(claimed), 'Error: smtp down', 10_000),
      );
      expect(retried).not.toBeNull();
      const r = retried as ScheduledCommandEntry;
      expectPendingAgain(r, window, 10_000);
      expect(r.retryCount).toBe(1);
      expect(r.attempts).toBe(1);
      expect(r.errorMessage).toBe('Error: smtp down');
      await expectStored(claimed.id, r);
      expect((await store.getStatistics()).waitingForRetry).toBe(1);
    });

    it('runs again once the retry delay has passed, as attempt 2', async () => {
      const claimed = await createProcessing();
      await store.retry(leaseOf(claimed), 'first failure', 100);
      expect(await claimDue(1)).toEqual([]);
      await advance(100);
      const again = await claimOnly(claimed.id, 'worker-b');
      expect(again.attempts).toBe(2);
      expect(again.retryCount).toBe(1);
      expect(again.lockedBy).toBe('worker-b');
      const second = await store.retry(leaseOf(again), 'second failure', 0);
      expect(second?.retryCount).toBe(2);
      expect(second?.errorMessage).toBe('second failure');
    });

    it('returns null and changes nothing when the lease is not held', async () => {
      const claimed = await createProcessing();
      const lease = leaseOf(claimed);
      expect(await store.retry({ ...lease, workerId: 'worker-b' }, 'x', 0)).toBeNull();
      expect(await store.retry({ ...lease, attempt: 2 }, 'x', 0)).toBeNull();
      await expectStored(claimed.id, claimed);
      expect(await store.retry(lease, 'once', 0)).not.toBeNull();
      expect(await store.retry(lease, 'twice', 0)).toBeNull();
      const entry = await mustGet(claimed.id);
      expect(entry.retryCount).toBe(1);
      expect(entry.errorMessage).toBe('once');
      expect(
        await store.retry({ id: newCommand().id, workerId: 'w', attempt: 1 }, 'x', 0),
      ).toBeNull();
    });
  });

  // A failed attempt with no retries left (or a failure not worth retrying): failed for good.
  describe('deadLetter()', () => {
    it('marks the run failed: completedAt, errorMessage, lease cleared; it never runs again', async () => {
      const claimed = await createProcessing();
      const [failed, window] = await measure(() =>
        store.deadLetter(leaseOf(claimed), 'No class is registered'),
      );
      expect(failed).not.toBeNull();
      const f = failed as ScheduledCommandEntry;
      expectFinished(f, 'failed', window);
      expect(f.errorMessage).toBe('No class is registered');
      expectLeaseCleared(f);
      expect(f.attempts).toBe(1);
      await expectStored(claimed.id, f);
      expect(await claimDue()).toEqual([]);
      expect(await store.getFailedCount()).toBe(1);
    });

    it('returns null and changes nothing when the lease is not held', async () => {
      const claimed = await createProcessing();
      const lease = leaseOf(claimed);
      expect(await store.deadLetter({ ...lease, workerId: 'worker-b' }, 'x')).toBeNull();
      expect(await store.deadLetter({ ...lease, attempt: 0 }, 'x')).toBeNull();
      await expectStored(claimed.id, claimed);
      const pending = await schedule({ scheduledFor: at(HOUR) });
      expect(await store.deadLetter({ id: pending.id, workerId: 'w', attempt: 0 }, 'x')).toBeNull();
      expect(await statusOf(pending.id)).toBe('pending');
      expect(await store.deadLetter(lease, 'first')).not.toBeNull();
      expect(await store.deadLetter(lease, 'second')).toBeNull();
      expect((await mustGet(claimed.id)).errorMessage).toBe('first');
    });
  });
}
