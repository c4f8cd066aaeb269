import { describe, expect, it } from 'vitest';
import { newCommand } from '../new-command.js';
import {
  type ConformanceContext,
  expectLeaseCleared,
  HOUR,
  ids,
  leaseOf,
  LONG_LEASE,
  SHORT_LEASE,
  sorted,
} from './context.js';

/**
 * Leases: how a worker gives an entry back (`release()`), keeps it (`extendLeases()`), and how a
 * run whose worker died is taken over (`recoverExpiredLeases()`).
 *
 * Checks that only the holder of a lease can release or extend it, that an extended lease is not
 * recovered, and that a lapsed run is requeued (or dead-lettered on its last attempt) with the lost
 * run counted as an attempt. Without this, a crashed worker's commands stay `processing` forever,
 * or a live worker's commands are handed out a second time.
 */
export function describeLeases(t: ConformanceContext): void {
  const { store, schedule, mustGet, statusOf, expectStored, claimOnly, at, advance, measure } = t;
  const { expectTimeIn, expectSameTime, expectFinished, expectPendingAgain } = t;
  const { expectNothingToRecover, createProcessing, createProcessingBatch, createLapsed } = t;

  // A worker that shuts down gives unstarted work back: the run did not happen, so it is not an
  // attempt.
  describe('release()', () => {
    it('gives the entry back: pending, attempts - 1, lease and startedAt cleared, scheduledFor unchanged', async () => {
      const entry = await schedule({ scheduledFor: at(-HOUR) });
      const claimed = await claimOnly(entry.id);
      expect(await store.release([leaseOf(claimed)])).toEqual([entry.id]);
      const released = await mustGet(entry.id);
      expect(released.status).toBe('pending');
      expect(released.attempts).toBe(0);
      expect(released.retryCount).toBe(0);
      expectLeaseCleared(released);
      expect(released.startedAt).toBeNull();
      expectSameTime(released.scheduledFor, entry.scheduledFor);
      const again = await claimOnly(entry.id, 'worker-b');
      expect(again.attempts).toBe(1);
    });

    it('releases only entries still held under the given lease', async () => {
      const [a, b] = await createProcessingBatch(2);
      const released = await store.release([
        leaseOf(a),
        { ...leaseOf(b), workerId: 'other' },
        { id: newCommand().id, workerId: 'w', attempt: 1 },
      ]);
      expect(released).toEqual([a.id]);
      expect(await statusOf(b.id)).toBe('processing');
      expect(await store.release([leaseOf(a)])).toEqual([]);
      expect((await mustGet(a.id)).attempts).toBe(0);
      expect(await store.release([])).toEqual([]);
    });
  });

  // The heartbeat of a long run: only leases still held move, so a worker learns which it has lost.
  describe('extendLeases()', () => {
    it('moves lockedUntil to now + leaseMs for the leases still held and returns their ids', async () => {
      const [a, b] = await createProcessingBatch(2, 1_000);
      const [held, window] = await measure(() =>
        store.extendLeases([leaseOf(a), { ...leaseOf(b), attempt: 5 }], 120_000),
      );
      expect(held).toEqual([a.id]);
      const extended = await mustGet(a.id);
      expectTimeIn(extended.lockedUntil, window, 120_000);
      expect(extended.status).toBe('processing');
      expect(extended.lockedBy).toBe('w');
      expect(extended.attempts).toBe(1);
      await expectStored(b.id, b);
      expect(await store.extendLeases([], 1_000)).toEqual([]);
    });

    it('keeps an extended lease from being recovered', async () => {
      const claimed = await createProcessing({}, 'worker-a', 200);
      expect(await store.extendLeases([leaseOf(claimed)], LONG_LEASE)).toEqual([claimed.id]);
      await advance(250);
      await expectNothingToRecover();
      expect(await statusOf(claimed.id)).toBe('processing');
    });

    it('returns no id once the lease was lost', async () => {
      const claimed = await createLapsed();
      await store.recoverExpiredLeases(10);
      expect(await store.extendLeases([leaseOf(claimed)], LONG_LEASE)).toEqual([]);
      expect(await statusOf(claimed.id)).toBe('pending');
    });
  });

  // A lapsed lease means the worker died mid-run: the run counts as an attempt, retried or dead-
  // lettered.
  describe('recoverExpiredLeases()', () => {
    it('requeues a run whose lease ran out: retryCount + 1, due now, worker named in errorMessage', async () => {
      const claimed = await createLapsed({ maxRetries: 2, scheduledFor: at(-HOUR) }, 'worker-x');
      const [recovery, window] = await measure(() => store.recoverExpiredLeases(10));
      expect(recovery.deadLettered).toEqual([]);
      expect(ids(recovery.requeued)).toEqual([claimed.id]);
      const r = recovery.requeued[0];
      expectPendingAgain(r, window);
      expect(r.retryCount).toBe(1);
      expect(r.attempts).toBe(1);
      expect(r.errorMessage).toContain('worker-x');
      await expectStored(claimed.id, r);
      const again = await claimOnly(claimed.id, 'worker-y');
      expect(again.attempts).toBe(2);
    });

    it('dead-letters a run whose lease ran out on its last allowed attempt (attempts > maxRetries)', async () => {
      const claimed = await createLapsed({ maxRetries: 0 }, 'worker-x');
      const [recovery, window] = await measure(() => store.recoverExpiredLeases(10));
      expect(recovery.requeued).toEqual([]);
      expect(ids(recovery.deadLettered)).toEqual([claimed.id]);
      const f = recovery.deadLettered[0];
      expectFinished(f, 'failed', window);
      expect(f.errorMessage).toContain('worker-x');
      expectLeaseCleared(f);
      await expectStored(claimed.id, f);
    });

    it('counts each lost run as an attempt: maxRetries 1 is requeued once, then dead-lettered', async () => {
      const first = await createLapsed({ maxRetries: 1 });
      expect(ids((await store.recoverExpiredLeases(10)).requeued)).toEqual([first.id]);
      const second = await claimOnly(first.id, 'worker-b', SHORT_LEASE);
      expect(second.attempts).toBe(2);
      await advance(SHORT_LEASE);
      const recovery = await store.recoverExpiredLeases(10);
      expect(recovery.requeued).toEqual([]);
      expect(ids(recovery.deadLettered)).toEqual([first.id]);
      expect(recovery.deadLettered[0].errorMessage).toContain('worker-b');
    });

    it('takes over only leases that ran out, at most limit of them', async () => {
      const held = await createProcessing({}, 'long', LONG_LEASE);
      const short = await createProcessingBatch(3, 150, 'short');
      await expectNothingToRecover();
      await advance(150);
      const first = await store.recoverExpiredLeases(2);
      expect(first.requeued.length + first.deadLettered.length).toBe(2);
      const second = await store.recoverExpiredLeases(2);
      expect(second.requeued.length + second.deadLettered.length).toBe(1);
      const recovered = [...first.requeued, ...second.requeued];
      expect(sorted(ids(recovered))).toEqual(sorted(ids(short)));
      expect(await statusOf(held.id)).toBe('processing');
      await expectNothingToRecover();
    });
  });
}
