import { describe, expect, it } from 'vitest';
import { newCommand } from '../new-command.js';
import { type ConformanceContext, expectLeaseCleared, HOUR, ids } from './context.js';

/**
 * Scheduling: `schedule()`, `scheduleMany()` and `get()`.
 *
 * Checks that every field is stored verbatim and read back with the right types, that the due time
 * and the expiry are resolved from the store's clock, and that an idempotency key admits only one
 * live entry, also when schedules race. A store that reformats a payload, loses a Date's type or
 * lets two entries hold one key runs commands twice or not at all.
 */
export function describeScheduling(t: ConformanceContext): void {
  const { store, schedule, mustGet, total, claimDue, at, advance, measure } = t;
  const { expectTimeIn, expectSameTime, createProcessing, createWaitingForRetry } = t;
  const { createCompleted, createCancelled, createFailed, createExpired } = t;

  // Fields round-trip exactly; the due time and expiry come from the store's clock, not the
  // caller's.
  describe('schedule() and get()', () => {
    it('stores every field and get() returns it (Dates as Date objects, metadata as an object)', async () => {
      const scheduledFor = new Date(Math.floor(at(2 * HOUR).getTime()));
      const command = newCommand({
        commandType: 'send-email',
        payload: '{"to":"a@b.c","subject":"Hi \\"there\\" é ✓","n":[1,2.5,null]}',
        scheduledFor,
        priority: 7,
        maxRetries: 5,
        expiresAfter: 90_000,
        correlationId: 'corr-1',
        metadata: { userId: '42', source: 'signup' },
        idempotencyKey: 'welcome:42',
      });
      const [result, window] = await measure(() => store.schedule(command));
      expect(result).toEqual({ id: command.id, created: true });

      const entry = await mustGet(command.id);
      expect(entry.id).toBe(command.id);
      expect(entry.commandType).toBe('send-email');
      expect(entry.payload).toBe(command.payload);
      expect(entry.status).toBe('pending');
      expectSameTime(entry.scheduledFor, scheduledFor);
      expect(entry.priority).toBe(7);
      expect(entry.retryCount).toBe(0);
      expect(entry.maxRetries).toBe(5);
      expect(entry.attempts).toBe(0);
      expectSameTime(entry.expiresAt, new Date(scheduledFor.getTime() + 90_000));
      expect(entry.correlationId).toBe('corr-1');
      expect(entry.metadata).toEqual({ userId: '42', source: 'signup' });
      expect(entry.idempotencyKey).toBe('welcome:42');
      expectTimeIn(entry.createdAt, window);
      expect(entry.startedAt).toBeNull();
      expect(entry.completedAt).toBeNull();
      expect(entry.errorMessage).toBeNull();
      expect(entry.resultPayload).toBeNull();
      expectLeaseCleared(entry);
    });

    it('stores a large payload unchanged', async () => {
      const payload = JSON.stringify({
        items: Array.from({ length: 5_000 }, (_, i) => `item-${i}-é`),
      });
      const entry = await schedule({ payload });
      expect(entry.payload).toBe(payload);
    });

    it('keeps optional fields null when they are not given', async () => {
      const entry = await schedule();
      expect(entry.expiresAt).toBeNull();
      expect(entry.correlationId).toBeNull();
      expect(entry.metadata).toBeNull();
      expect(entry.idempotencyKey).toBeNull();
      expect(entry.priority).toBe(0);
      expect(entry.maxRetries).toBe(3);
    });

    it('stores negative priorities and a maxRetries of 0', async () => {
      const entry = await schedule({ priority: -3, maxRetries: 0 });
      expect(entry.priority).toBe(-3);
      expect(entry.maxRetries).toBe(0);
    });

    it('returns null from get() for an unknown id', async () => {
      await schedule();
      expect(await store.get(newCommand().id)).toBeNull();
    });

    it('uses scheduledFor as the due time when it is given', async () => {
      const past = new Date(Math.floor(at(-3 * HOUR).getTime()));
      const future = new Date(Math.floor(at(3 * HOUR).getTime()));
      expectSameTime((await schedule({ scheduledFor: past })).scheduledFor, past);
      expectSameTime((await schedule({ scheduledFor: future })).scheduledFor, future);
    });

    it('resolves delay from the store clock: due at now + delay, and not before', async () => {
      const command = newCommand({ delay: 60_000 });
      const [, window] = await measure(() => store.schedule(command));
      const entry = await mustGet(command.id);
      expectTimeIn(entry.scheduledFor, window, 60_000);
      expect(await claimDue()).toEqual([]);
    });

    it('is due now when neither scheduledFor nor delay is given', async () => {
      const command = newCommand();
      const [, window] = await measure(() => store.schedule(command));
      expectTimeIn((await mustGet(command.id)).scheduledFor, window);
      expect(ids(await claimDue())).toEqual([command.id]);
    });

    it('becomes due once the delay has passed', async () => {
      const entry = await schedule({ delay: 100 });
      expect(await claimDue()).toEqual([]);
      await advance(100);
      expect(ids(await claimDue())).toEqual([entry.id]);
    });

    it('sets expiresAt to the resolved scheduledFor + expiresAfter (scheduledFor, delay or now)', async () => {
      const scheduledFor = new Date(Math.floor(at(HOUR).getTime()));
      const a = await schedule({ scheduledFor, expiresAfter: 5_000 });
      expectSameTime(a.expiresAt, new Date(scheduledFor.getTime() + 5_000));

      const b = await schedule({ delay: 60_000, expiresAfter: 30_000 });
      expectSameTime(b.expiresAt, new Date(b.scheduledFor.getTime() + 30_000));

      const c = await schedule({ expiresAfter: HOUR });
      expectSameTime(c.expiresAt, new Date(c.scheduledFor.getTime() + HOUR));
    });

    it('copies the metadata it is given (changing the caller object afterwards changes nothing)', async () => {
      const metadata: Record<string, string> = { userId: '1' };
      const command = newCommand({ metadata });
      await store.schedule(command);
      metadata.userId = 'changed';
      metadata.extra = 'x';
      expect((await mustGet(command.id)).metadata).toEqual({ userId: '1' });
    });
  });

  // A key is held by a live (pending or processing) entry only: once it finishes, the key is free.
  describe('idempotency keys', () => {
    it('returns the live entry holding the key with created: false and stores nothing', async () => {
      const first = await schedule({ idempotencyKey: 'k' });
      const second = newCommand({ idempotencyKey: 'k', commandType: 'other' });
      expect(await store.schedule(second)).toEqual({ id: first.id, created: false });
      expect(await store.get(second.id)).toBeNull();
      expect(await total()).toBe(1);
      expect((await mustGet(first.id)).commandType).toBe('test-command');
    });

    it('still refuses a second entry while the holder is processing', async () => {
      const claimed = await createProcessing({ idempotencyKey: 'k' });
      expect(await store.schedule(newCommand({ idempotencyKey: 'k' }))).toEqual({
        id: claimed.id,
        created: false,
      });
      expect(await total()).toBe(1);
    });

    it('still refuses a second entry while the holder waits for a retry', async () => {
      const waiting = await createWaitingForRetry({ idempotencyKey: 'k' });
      expect(await store.schedule(newCommand({ idempotencyKey: 'k' }))).toEqual({
        id: waiting.id,
        created: false,
      });
    });

    it('allows a new entry once the holder completed', async () => {
      const done = await createCompleted({ idempotencyKey: 'k' });
      const next = newCommand({ idempotencyKey: 'k' });
      expect(await store.schedule(next)).toEqual({ id: next.id, created: true });
      expect(next.id).not.toBe(done.id);
      expect(await total()).toBe(2);
    });

    it('allows a new entry once the holder was cancelled, failed or expired', async () => {
      await createCancelled({ idempotencyKey: 'c' });
      await createFailed({ idempotencyKey: 'f' });
      await createExpired({ idempotencyKey: 'e' });
      for (const key of ['c', 'f', 'e']) {
        const next = newCommand({ idempotencyKey: key, scheduledFor: at(HOUR) });
        expect(await store.schedule(next)).toEqual({ id: next.id, created: true });
      }
      expect(await total()).toBe(6);
    });

    it('never conflicts on different keys or on entries without a key', async () => {
      await schedule({ idempotencyKey: 'a' });
      await schedule({ idempotencyKey: 'b' });
      await schedule();
      await schedule();
      expect(await total()).toBe(4);
    });

    it('creates exactly one entry when 20 schedules with one key race', async () => {
      const commands = Array.from({ length: 20 }, () => newCommand({ idempotencyKey: 'race' }));
      const results = await Promise.all(commands.map((c) => store.schedule(c)));
      const created = results.filter((r) => r.created);
      expect(created).toHaveLength(1);
      expect(new Set(results.map((r) => r.id))).toEqual(new Set([created[0].id]));
      expect(commands.map((c) => c.id)).toContain(created[0].id);
      expect(await total()).toBe(1);
    });
  });

  // The batch form follows the same rules as schedule(), inside the batch as well as against the
  // store.
  describe('scheduleMany()', () => {
    it('creates every entry and answers in input order', async () => {
      const commands = [
        newCommand({ priority: 1 }),
        newCommand({ delay: 1_000 }),
        newCommand({ scheduledFor: at(-HOUR), metadata: { a: 'b' } }),
      ];
      const results = await store.scheduleMany(commands);
      expect(results).toEqual(commands.map((c) => ({ id: c.id, created: true })));
      expect((await mustGet(commands[0].id)).priority).toBe(1);
      expect((await mustGet(commands[2].id)).metadata).toEqual({ a: 'b' });
      expect(await total()).toBe(3);
    });

    it('applies idempotency inside one batch and against existing entries', async () => {
      const existing = await schedule({ idempotencyKey: 'old' });
      const commands = [
        newCommand({ idempotencyKey: 'k' }),
        newCommand(),
        newCommand({ idempotencyKey: 'k' }),
        newCommand({ idempotencyKey: 'old' }),
        newCommand({ idempotencyKey: 'other' }),
      ];
      const results = await store.scheduleMany(commands);
      expect(results).toEqual([
        { id: commands[0].id, created: true },
        { id: commands[1].id, created: true },
        { id: commands[0].id, created: false },
        { id: existing.id, created: false },
        { id: commands[4].id, created: true },
      ]);
      expect(await store.get(commands[2].id)).toBeNull();
      expect(await store.get(commands[3].id)).toBeNull();
      expect(await total()).toBe(4);
    });

    it('returns [] for an empty list', async () => {
      expect(await store.scheduleMany([])).toEqual([]);
      expect(await total()).toBe(0);
    });
  });
}
