import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  FINISHED_STATUSES,
  SCHEDULED_COMMAND_STATUSES,
  type Lease,
  type NewScheduledCommand,
  type ScheduledCommandEntry,
  type ScheduledCommandStatus,
} from '../store/scheduled-command-entry.js';
import type { ScheduledCommandStore } from '../store/scheduled-command-store.js';
import type { ManualClock } from './manual-clock.js';
import { newCommand } from './new-command.js';

/** What {@link describeStoreConformance} needs for one test: a store, its clock, and a way to close it. */
export interface StoreHarness {
  /** The store under test. It must be empty (a fresh database, or truncated tables). */
  readonly store: ScheduledCommandStore;
  /**
   * The clock the store was constructed with, when it takes an injected `Clock` (in-memory, SQLite).
   * Leave it out for stores that read the database clock (PostgreSQL): the suite then lets real time
   * pass with short sleeps and checks times within a tolerance of one second.
   */
  readonly clock?: ManualClock;
  /** Releases what `setup` opened (connections, files). Called after every test. */
  close(): Promise<void>;
}

/** How far a database clock may be from this process's clock (and how late a query may run). */
const REAL_CLOCK_TOLERANCE_MS = 1_000;
const HOUR = 3_600_000;
/** A lease long enough never to run out during a test. */
const LONG_LEASE = 60 * 60_000;

interface TimeWindow {
  readonly before: number;
  readonly after: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/** Waits at least `ms` milliseconds of wall-clock time (timers may fire a little early). */
async function sleep(ms: number): Promise<void> {
  const end = Date.now() + ms + 2;
  for (let left = end - Date.now(); left > 0; left = end - Date.now()) {
    await new Promise((resolve) => setTimeout(resolve, left));
  }
}

const ids = (entries: readonly { id: string }[]): string[] => entries.map((e) => e.id);
const sorted = (values: readonly string[]): string[] => [...values].sort();

/**
 * Registers the `ScheduledCommandStore` conformance suite with Vitest: every rule of the store
 * contract (scheduling, idempotency, claims and leases, completion, retries, dead-lettering,
 * lease recovery, expiry, cancel, reschedule, requeue, queries, counts, statistics, purge and races
 * between concurrent calls) as one test each. Run it from a spec file of your own store:
 *
 * ```ts
 * import { describeStoreConformance, ManualClock } from 'nestjs-scheduled-commands/testing/conformance';
 *
 * describeStoreConformance('MyStore', async () => {
 *   const clock = new ManualClock();
 *   const store = await MyStore.open({ clock });
 *   return { store, clock, close: () => store.close() };
 * });
 * ```
 *
 * `setup` runs before every test and must return an empty store; `close` runs after it. Pass the
 * {@link ManualClock} the store uses when it takes an injected clock: time then moves only when the
 * suite advances it and times are checked exactly. Omit it for a store on a database clock: the suite
 * then uses short real delays (well under a second per test) and tolerates one second of difference
 * between the database clock and this process's clock.
 *
 * Needs `vitest` (an optional peer dependency, needed by the `nestjs-scheduled-commands/testing/conformance` entry point).
 *
 * @param name shown in the test report (e.g. the store class name)
 * @param setup creates an empty store for one test
 */
export function describeStoreConformance(name: string, setup: () => Promise<StoreHarness>): void {
  describe(`${name} conforms to ScheduledCommandStore`, () => {
    let harness: StoreHarness | undefined;
    let store: ScheduledCommandStore;

    beforeEach(async () => {
      harness = await setup();
      store = harness.store;
    });

    afterEach(async () => {
      const current = harness;
      harness = undefined;
      await current?.close();
    });

    // --- time helpers: exact with a ManualClock, within a tolerance on a real clock -------------

    const clock = (): ManualClock | undefined => harness?.clock;
    const now = (): Date => clock()?.now() ?? new Date();
    const at = (offsetMs: number): Date => new Date(now().getTime() + offsetMs);
    /** Lets `ms` of store time pass: advances the manual clock, or sleeps. */
    const advance = async (ms: number): Promise<void> => {
      const manual = clock();
      if (manual) manual.advance(ms);
      else await sleep(ms);
    };
    /** Runs `op` and returns its result with the window of store time it ran in. */
    const measure = async <T>(op: () => Promise<T>): Promise<[T, TimeWindow]> => {
      const before = now().getTime();
      const result = await op();
      return [result, { before, after: now().getTime() }];
    };
    /** Checks `actual` is a Date equal to "now + offsetMs" for some now inside `window`. */
    const expectTimeIn = (actual: Date | null | undefined, window: TimeWindow, offsetMs = 0) => {
      expect(actual).toBeInstanceOf(Date);
      const t = (actual as Date).getTime();
      const slack = clock() ? 0 : REAL_CLOCK_TOLERANCE_MS;
      expect(t).toBeGreaterThanOrEqual(window.before + offsetMs - slack);
      expect(t).toBeLessThanOrEqual(window.after + offsetMs + slack);
    };
    const expectSameTime = (actual: Date | null | undefined, expected: Date) => {
      expect(actual).toBeInstanceOf(Date);
      expect((actual as Date).getTime()).toBe(expected.getTime());
    };

    // --- entry helpers ------------------------------------------------------------------------

    const mustGet = async (id: string): Promise<ScheduledCommandEntry> => {
      const entry = await store.get(id);
      expect(entry, `entry ${id}`).not.toBeNull();
      return entry as ScheduledCommandEntry;
    };
    const statusOf = async (id: string): Promise<ScheduledCommandStatus | undefined> =>
      (await store.get(id))?.status;
    const schedule = async (
      overrides: Partial<NewScheduledCommand> = {},
    ): Promise<ScheduledCommandEntry> => {
      const command = newCommand(overrides);
      expect(await store.schedule(command)).toEqual({ id: command.id, created: true });
      return mustGet(command.id);
    };
    const total = async (): Promise<number> =>
      Object.values(await store.countByStatus()).reduce((sum, n) => sum + n, 0);
    const leaseOf = (entry: ScheduledCommandEntry): Lease => ({
      id: entry.id,
      workerId: entry.lockedBy as string,
      attempt: entry.attempts,
    });
    /** Claims one entry and checks it is `id` (callers make sure it is the only one due). */
    const claimOnly = async (
      id: string,
      workerId = 'worker-a',
      leaseMs = LONG_LEASE,
    ): Promise<ScheduledCommandEntry> => {
      const claimed = await store.claim({ workerId, limit: 1, leaseMs });
      expect(ids(claimed)).toEqual([id]);
      return claimed[0];
    };
    const createProcessing = async (
      overrides: Partial<NewScheduledCommand> = {},
      workerId = 'worker-a',
      leaseMs = LONG_LEASE,
    ): Promise<ScheduledCommandEntry> => {
      const entry = await schedule(overrides);
      return claimOnly(entry.id, workerId, leaseMs);
    };
    const createCompleted = async (
      overrides: Partial<NewScheduledCommand> = {},
      resultPayload: string | null = '{"ok":true}',
    ): Promise<ScheduledCommandEntry> => {
      const claimed = await createProcessing(overrides);
      expect(await store.complete([{ lease: leaseOf(claimed), resultPayload }])).toEqual([
        claimed.id,
      ]);
      return mustGet(claimed.id);
    };
    const createFailed = async (
      overrides: Partial<NewScheduledCommand> = {},
      errorMessage = 'boom',
    ): Promise<ScheduledCommandEntry> => {
      const claimed = await createProcessing(overrides);
      const failed = await store.deadLetter(leaseOf(claimed), errorMessage);
      expect(failed?.status).toBe('failed');
      return mustGet(claimed.id);
    };
    const createCancelled = async (
      overrides: Partial<NewScheduledCommand> = {},
    ): Promise<ScheduledCommandEntry> => {
      const entry = await schedule({ scheduledFor: at(HOUR), ...overrides });
      expect((await store.cancel(entry.id))?.status).toBe('cancelled');
      return mustGet(entry.id);
    };
    const createExpired = async (
      overrides: Partial<NewScheduledCommand> = {},
    ): Promise<ScheduledCommandEntry> => {
      const entry = await schedule({
        scheduledFor: at(-2 * HOUR),
        expiresAfter: HOUR,
        ...overrides,
      });
      expect(ids(await store.expireDue(100))).toContain(entry.id);
      return mustGet(entry.id);
    };
    /** A pending entry waiting for its first retry, due in `delayMs`. */
    const createWaitingForRetry = async (
      overrides: Partial<NewScheduledCommand> = {},
      delayMs = HOUR,
    ): Promise<ScheduledCommandEntry> => {
      const claimed = await createProcessing(overrides);
      const retried = await store.retry(leaseOf(claimed), 'try again', delayMs);
      expect(retried?.status).toBe('pending');
      return mustGet(claimed.id);
    };

    // ---------------------------------------------------------------------------------------------

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
        expect(entry.lockedBy).toBeNull();
        expect(entry.lockedUntil).toBeNull();
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
        expect(await store.claim({ workerId: 'w', limit: 10, leaseMs: LONG_LEASE })).toEqual([]);
      });

      it('is due now when neither scheduledFor nor delay is given', async () => {
        const command = newCommand();
        const [, window] = await measure(() => store.schedule(command));
        expectTimeIn((await mustGet(command.id)).scheduledFor, window);
        expect(ids(await store.claim({ workerId: 'w', limit: 10, leaseMs: LONG_LEASE }))).toEqual([
          command.id,
        ]);
      });

      it('becomes due once the delay has passed', async () => {
        const entry = await schedule({ delay: 100 });
        expect(await store.claim({ workerId: 'w', limit: 10, leaseMs: LONG_LEASE })).toEqual([]);
        await advance(100);
        expect(ids(await store.claim({ workerId: 'w', limit: 10, leaseMs: LONG_LEASE }))).toEqual([
          entry.id,
        ]);
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
        expect(await mustGet(entry.id)).toEqual(c);
      });

      it('claims only entries that are due (scheduledFor <= now)', async () => {
        const due = await schedule({ scheduledFor: at(-HOUR) });
        await schedule({ scheduledFor: at(HOUR) });
        await schedule({ delay: 60_000 });
        const claimed = await store.claim({ workerId: 'w', limit: 10, leaseMs: LONG_LEASE });
        expect(ids(claimed)).toEqual([due.id]);
      });

      it('claims an entry due exactly now', async () => {
        const entry = await schedule({ scheduledFor: now() });
        expect(ids(await store.claim({ workerId: 'w', limit: 1, leaseMs: LONG_LEASE }))).toEqual([
          entry.id,
        ]);
      });

      it('never claims an expired entry (expiresAt <= now) but claims one not yet expired', async () => {
        await schedule({ scheduledFor: at(-2 * HOUR), expiresAfter: HOUR });
        await schedule({ scheduledFor: now(), expiresAfter: 0 });
        const alive = await schedule({ scheduledFor: at(-HOUR), expiresAfter: 2 * HOUR });
        const claimed = await store.claim({ workerId: 'w', limit: 10, leaseMs: LONG_LEASE });
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
        const claimed = await store.claim({ workerId: 'w', limit: 10, leaseMs: LONG_LEASE });
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
        const claimed = await store.claim({ workerId: 'w', limit: 2, leaseMs: LONG_LEASE });
        expect(ids(claimed)).toEqual([older.id, newer.id]);
      });

      it('claims at most limit entries, the first ones in claim order', async () => {
        const entries: ScheduledCommandEntry[] = [];
        for (let i = 0; i < 5; i++)
          entries.push(await schedule({ scheduledFor: at(-(10 - i) * 60_000) }));
        const first = await store.claim({ workerId: 'w', limit: 2, leaseMs: LONG_LEASE });
        expect(ids(first)).toEqual(ids(entries.slice(0, 2)));
        const next = await store.claim({ workerId: 'w', limit: 2, leaseMs: LONG_LEASE });
        expect(ids(next)).toEqual(ids(entries.slice(2, 4)));
        expect(await store.getProcessingCount()).toBe(4);
        expect(await store.getPendingCount()).toBe(1);
      });

      it('returns [] when nothing is due, and never claims an entry twice', async () => {
        expect(await store.claim({ workerId: 'w', limit: 10, leaseMs: LONG_LEASE })).toEqual([]);
        const claimed = await createProcessing();
        await createCompleted();
        await createCancelled();
        expect(await store.claim({ workerId: 'other', limit: 10, leaseMs: LONG_LEASE })).toEqual(
          [],
        );
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
        const rest = await store.claim({ workerId: 'w6', limit: 20, leaseMs: LONG_LEASE });
        expect(all.length + rest.length).toBe(20);
      });
    });

    describe('complete()', () => {
      it('marks the run completed under its lease: completedAt, resultPayload, lease cleared', async () => {
        const claimed = await createProcessing();
        const [written, window] = await measure(() =>
          store.complete([{ lease: leaseOf(claimed), resultPayload: '{"sent":true,"n":2}' }]),
        );
        expect(written).toEqual([claimed.id]);
        const entry = await mustGet(claimed.id);
        expect(entry.status).toBe('completed');
        expectTimeIn(entry.completedAt, window);
        expect(entry.resultPayload).toBe('{"sent":true,"n":2}');
        expect(entry.lockedBy).toBeNull();
        expect(entry.lockedUntil).toBeNull();
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
        await store.scheduleMany([newCommand(), newCommand(), newCommand()]);
        const claimed = await store.claim({ workerId: 'w', limit: 3, leaseMs: LONG_LEASE });
        expect(claimed).toHaveLength(3);
        const [a, b, c] = claimed;
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
        expect(
          await store.complete([
            { lease: { ...lease, workerId: 'worker-b' }, resultPayload: null },
          ]),
        ).toEqual([]);
        expect(
          await store.complete([
            { lease: { ...lease, attempt: lease.attempt + 1 }, resultPayload: null },
          ]),
        ).toEqual([]);
        expect(
          await store.complete([
            { lease: { ...lease, attempt: lease.attempt - 1 }, resultPayload: null },
          ]),
        ).toEqual([]);
        expect(await mustGet(claimed.id)).toEqual(claimed);
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

        const claimed = await store.claim({ workerId: 'w', limit: 1, leaseMs: LONG_LEASE });
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
        expect(await store.complete([{ lease: leaseOf(claimed), resultPayload: null }])).toEqual(
          [],
        );
        const entry = await mustGet(claimed.id);
        expect(entry.status).toBe('cancelled');
        expect(entry.resultPayload).toBeNull();
      });

      it('writes nothing under a lease that ran out and was taken over by another worker', async () => {
        const first = await createProcessing({ maxRetries: 3 }, 'worker-a', 50);
        await advance(50);
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
        const claimed = await createProcessing({ maxRetries: 3 }, 'worker-a', 50);
        await advance(50);
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

    describe('retry()', () => {
      it('puts the run back to pending for later: retryCount + 1, scheduledFor = now + delay, error, lease cleared', async () => {
        const claimed = await createProcessing({ scheduledFor: at(-HOUR) });
        const [retried, window] = await measure(() =>
          store.retry(leaseOf(claimed), 'Error: smtp down', 10_000),
        );
        expect(retried).not.toBeNull();
        const r = retried as ScheduledCommandEntry;
        expect(r.status).toBe('pending');
        expect(r.retryCount).toBe(1);
        expect(r.attempts).toBe(1);
        expectTimeIn(r.scheduledFor, window, 10_000);
        expect(r.errorMessage).toBe('Error: smtp down');
        expect(r.lockedBy).toBeNull();
        expect(r.lockedUntil).toBeNull();
        expect(r.completedAt).toBeNull();
        expect(await mustGet(claimed.id)).toEqual(r);
        expect((await store.getStatistics()).waitingForRetry).toBe(1);
      });

      it('runs again once the retry delay has passed, as attempt 2', async () => {
        const claimed = await createProcessing();
        await store.retry(leaseOf(claimed), 'first failure', 100);
        expect(await store.claim({ workerId: 'w', limit: 1, leaseMs: LONG_LEASE })).toEqual([]);
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
        expect(await mustGet(claimed.id)).toEqual(claimed);
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

    describe('deadLetter()', () => {
      it('marks the run failed: completedAt, errorMessage, lease cleared; it never runs again', async () => {
        const claimed = await createProcessing();
        const [failed, window] = await measure(() =>
          store.deadLetter(leaseOf(claimed), 'No class is registered'),
        );
        expect(failed).not.toBeNull();
        const f = failed as ScheduledCommandEntry;
        expect(f.status).toBe('failed');
        expectTimeIn(f.completedAt, window);
        expect(f.errorMessage).toBe('No class is registered');
        expect(f.lockedBy).toBeNull();
        expect(f.lockedUntil).toBeNull();
        expect(f.attempts).toBe(1);
        expect(await mustGet(claimed.id)).toEqual(f);
        expect(await store.claim({ workerId: 'w', limit: 10, leaseMs: LONG_LEASE })).toEqual([]);
        expect(await store.getFailedCount()).toBe(1);
      });

      it('returns null and changes nothing when the lease is not held', async () => {
        const claimed = await createProcessing();
        const lease = leaseOf(claimed);
        expect(await store.deadLetter({ ...lease, workerId: 'worker-b' }, 'x')).toBeNull();
        expect(await store.deadLetter({ ...lease, attempt: 0 }, 'x')).toBeNull();
        expect(await mustGet(claimed.id)).toEqual(claimed);
        const pending = await schedule({ scheduledFor: at(HOUR) });
        expect(
          await store.deadLetter({ id: pending.id, workerId: 'w', attempt: 0 }, 'x'),
        ).toBeNull();
        expect(await statusOf(pending.id)).toBe('pending');
        expect(await store.deadLetter(lease, 'first')).not.toBeNull();
        expect(await store.deadLetter(lease, 'second')).toBeNull();
        expect((await mustGet(claimed.id)).errorMessage).toBe('first');
      });
    });

    describe('release()', () => {
      it('gives the entry back: pending, attempts - 1, lease and startedAt cleared, scheduledFor unchanged', async () => {
        const entry = await schedule({ scheduledFor: at(-HOUR) });
        const claimed = await claimOnly(entry.id);
        expect(await store.release([leaseOf(claimed)])).toEqual([entry.id]);
        const released = await mustGet(entry.id);
        expect(released.status).toBe('pending');
        expect(released.attempts).toBe(0);
        expect(released.retryCount).toBe(0);
        expect(released.lockedBy).toBeNull();
        expect(released.lockedUntil).toBeNull();
        expect(released.startedAt).toBeNull();
        expectSameTime(released.scheduledFor, entry.scheduledFor);
        const again = await claimOnly(entry.id, 'worker-b');
        expect(again.attempts).toBe(1);
      });

      it('releases only entries still held under the given lease', async () => {
        await store.scheduleMany([newCommand(), newCommand()]);
        const [a, b] = await store.claim({ workerId: 'w', limit: 2, leaseMs: LONG_LEASE });
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

    describe('extendLeases()', () => {
      it('moves lockedUntil to now + leaseMs for the leases still held and returns their ids', async () => {
        await store.scheduleMany([newCommand(), newCommand()]);
        const [a, b] = await store.claim({ workerId: 'w', limit: 2, leaseMs: 1_000 });
        const [held, window] = await measure(() =>
          store.extendLeases([leaseOf(a), { ...leaseOf(b), attempt: 5 }], 120_000),
        );
        expect(held).toEqual([a.id]);
        const extended = await mustGet(a.id);
        expectTimeIn(extended.lockedUntil, window, 120_000);
        expect(extended.status).toBe('processing');
        expect(extended.lockedBy).toBe('w');
        expect(extended.attempts).toBe(1);
        expect(await mustGet(b.id)).toEqual(b);
        expect(await store.extendLeases([], 1_000)).toEqual([]);
      });

      it('keeps an extended lease from being recovered', async () => {
        const claimed = await createProcessing({}, 'worker-a', 200);
        expect(await store.extendLeases([leaseOf(claimed)], LONG_LEASE)).toEqual([claimed.id]);
        await advance(250);
        expect(await store.recoverExpiredLeases(10)).toEqual({ requeued: [], deadLettered: [] });
        expect(await statusOf(claimed.id)).toBe('processing');
      });

      it('returns no id once the lease was lost', async () => {
        const claimed = await createProcessing({}, 'worker-a', 50);
        await advance(50);
        await store.recoverExpiredLeases(10);
        expect(await store.extendLeases([leaseOf(claimed)], LONG_LEASE)).toEqual([]);
        expect(await statusOf(claimed.id)).toBe('pending');
      });
    });

    describe('recoverExpiredLeases()', () => {
      it('requeues a run whose lease ran out: retryCount + 1, due now, worker named in errorMessage', async () => {
        const claimed = await createProcessing(
          { maxRetries: 2, scheduledFor: at(-HOUR) },
          'worker-x',
          50,
        );
        await advance(50);
        const [recovery, window] = await measure(() => store.recoverExpiredLeases(10));
        expect(recovery.deadLettered).toEqual([]);
        expect(ids(recovery.requeued)).toEqual([claimed.id]);
        const r = recovery.requeued[0];
        expect(r.status).toBe('pending');
        expect(r.retryCount).toBe(1);
        expect(r.attempts).toBe(1);
        expectTimeIn(r.scheduledFor, window);
        expect(r.errorMessage).toContain('worker-x');
        expect(r.lockedBy).toBeNull();
        expect(r.lockedUntil).toBeNull();
        expect(r.completedAt).toBeNull();
        expect(await mustGet(claimed.id)).toEqual(r);
        const again = await claimOnly(claimed.id, 'worker-y');
        expect(again.attempts).toBe(2);
      });

      it('dead-letters a run whose lease ran out on its last allowed attempt (attempts > maxRetries)', async () => {
        const claimed = await createProcessing({ maxRetries: 0 }, 'worker-x', 50);
        await advance(50);
        const [recovery, window] = await measure(() => store.recoverExpiredLeases(10));
        expect(recovery.requeued).toEqual([]);
        expect(ids(recovery.deadLettered)).toEqual([claimed.id]);
        const f = recovery.deadLettered[0];
        expect(f.status).toBe('failed');
        expectTimeIn(f.completedAt, window);
        expect(f.errorMessage).toContain('worker-x');
        expect(f.lockedBy).toBeNull();
        expect(f.lockedUntil).toBeNull();
        expect(await mustGet(claimed.id)).toEqual(f);
      });

      it('counts each lost run as an attempt: maxRetries 1 is requeued once, then dead-lettered', async () => {
        const first = await createProcessing({ maxRetries: 1 }, 'worker-a', 50);
        await advance(50);
        expect(ids((await store.recoverExpiredLeases(10)).requeued)).toEqual([first.id]);
        const second = await claimOnly(first.id, 'worker-b', 50);
        expect(second.attempts).toBe(2);
        await advance(50);
        const recovery = await store.recoverExpiredLeases(10);
        expect(recovery.requeued).toEqual([]);
        expect(ids(recovery.deadLettered)).toEqual([first.id]);
        expect(recovery.deadLettered[0].errorMessage).toContain('worker-b');
      });

      it('takes over only leases that ran out, at most limit of them', async () => {
        const held = await createProcessing({}, 'long', LONG_LEASE);
        await store.scheduleMany([newCommand(), newCommand(), newCommand()]);
        const short = await store.claim({ workerId: 'short', limit: 3, leaseMs: 150 });
        expect(short).toHaveLength(3);
        expect(await store.recoverExpiredLeases(10)).toEqual({ requeued: [], deadLettered: [] });
        await advance(150);
        const first = await store.recoverExpiredLeases(2);
        expect(first.requeued.length + first.deadLettered.length).toBe(2);
        const second = await store.recoverExpiredLeases(2);
        expect(second.requeued.length + second.deadLettered.length).toBe(1);
        const recovered = [...first.requeued, ...second.requeued];
        expect(sorted(ids(recovered))).toEqual(sorted(ids(short)));
        expect(await statusOf(held.id)).toBe('processing');
        expect(await store.recoverExpiredLeases(10)).toEqual({ requeued: [], deadLettered: [] });
      });
    });

    describe('expireDue()', () => {
      it('moves pending entries past expiresAt to expired (completedAt = now) and returns them', async () => {
        const gone = await schedule({ scheduledFor: at(-2 * HOUR), expiresAfter: HOUR });
        const future = await schedule({ scheduledFor: at(-HOUR), expiresAfter: 2 * HOUR });
        const never = await schedule({ scheduledFor: at(-HOUR) });
        const [expired, window] = await measure(() => store.expireDue(10));
        expect(ids(expired)).toEqual([gone.id]);
        const e = expired[0];
        expect(e.status).toBe('expired');
        expectTimeIn(e.completedAt, window);
        expect(await mustGet(gone.id)).toEqual(e);
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
        expect(await store.claim({ workerId: 'w', limit: 1, leaseMs: LONG_LEASE })).toEqual([]);
        const expired = await store.expireDue(10);
        expect(ids(expired)).toEqual([claimed.id]);
        expect(expired[0].errorMessage).toBe('failed');
      });
    });

    describe('cancel()', () => {
      it('cancels a pending entry (completedAt = now) and returns it', async () => {
        const entry = await schedule({ scheduledFor: at(HOUR) });
        const [cancelled, window] = await measure(() => store.cancel(entry.id));
        expect(cancelled).not.toBeNull();
        const c = cancelled as ScheduledCommandEntry;
        expect(c.id).toBe(entry.id);
        expect(c.status).toBe('cancelled');
        expectTimeIn(c.completedAt, window);
        expect(await mustGet(entry.id)).toEqual(c);
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
        expect(await store.claim({ workerId: 'w', limit: 10, leaseMs: LONG_LEASE })).toEqual([]);
      });

      it('returns null and changes nothing for processing, finished and unknown entries', async () => {
        const processing = await createProcessing();
        const completed = await createCompleted();
        const failed = await createFailed();
        const expired = await createExpired();
        const cancelled = await createCancelled();
        for (const entry of [processing, completed, failed, expired, cancelled]) {
          expect(await store.cancel(entry.id)).toBeNull();
          expect(await mustGet(entry.id)).toEqual(entry);
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
          store.claim({ workerId: 'a', limit: 10, leaseMs: LONG_LEASE }),
          store.claim({ workerId: 'b', limit: 10, leaseMs: LONG_LEASE }),
        ]);
        for (const [i, command] of commands.entries()) {
          const cancelled = cancels[i] !== null;
          const claimedBy = [claimsA, claimsB].filter((c) => ids(c).includes(command.id));
          expect(Number(cancelled) + claimedBy.length).toBe(1);
          expect(await statusOf(command.id)).toBe(cancelled ? 'cancelled' : 'processing');
        }
      });
    });

    describe('reschedule()', () => {
      it('moves a pending entry to a new time and keeps expiresAt', async () => {
        const entry = await schedule({ scheduledFor: at(HOUR), expiresAfter: 10 * HOUR });
        const newTime = new Date(Math.floor(at(2 * HOUR).getTime()));
        const updated = await store.reschedule(entry.id, { scheduledFor: newTime });
        expect(updated).not.toBeNull();
        expectSameTime(updated?.scheduledFor, newTime);
        expectSameTime(updated?.expiresAt, entry.expiresAt as Date);
        expect(updated?.status).toBe('pending');
        expect(await mustGet(entry.id)).toEqual(updated);
      });

      it('resolves a delay from the store clock', async () => {
        const entry = await schedule({ scheduledFor: at(-HOUR) });
        const [updated, window] = await measure(() =>
          store.reschedule(entry.id, { delay: 60_000 }),
        );
        expectTimeIn(updated?.scheduledFor, window, 60_000);
        expect(await store.claim({ workerId: 'w', limit: 1, leaseMs: LONG_LEASE })).toEqual([]);
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
          expect(await store.reschedule(entry.id, { delay: 1_000 })).toBeNull();
          expect(await mustGet(entry.id)).toEqual(entry);
        }
        expect(await store.reschedule(newCommand().id, { delay: 1_000 })).toBeNull();
      });
    });

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
        expect(r.status).toBe('pending');
        expectTimeIn(r.scheduledFor, window);
        expect(r.retryCount).toBe(0);
        expect(r.expiresAt).toBeNull();
        expect(r.completedAt).toBeNull();
        expect(r.resultPayload).toBeNull();
        expect(r.lockedBy).toBeNull();
        expect(r.lockedUntil).toBeNull();
        expect(r.attempts).toBe(2);
        expect(r.errorMessage).toBe('last error');
        expect(r.maxRetries).toBe(2);
        expect(await mustGet(claimed.id)).toEqual(r);
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
        expect(await mustGet(claimed.id)).toEqual(retried);

        await store.complete([{ lease: leaseOf(retried), resultPayload: '"done"' }]);
        await store.requeue(claimed.id, ['completed']);
        const requeued = await claimOnly(claimed.id, 'worker-c');
        expect(requeued.resultPayload).toBeNull();
        expect(requeued.completedAt).toBeNull();
        expect(requeued.status).toBe('processing');
        expect(await mustGet(claimed.id)).toEqual(requeued);
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
        expect(await store.requeue(failed.id, [])).toBeNull();
        expect(await mustGet(failed.id)).toEqual(failed);
        const processing = await createProcessing();
        expect(await store.requeue(processing.id, FINISHED_STATUSES)).toBeNull();
        expect(await mustGet(processing.id)).toEqual(processing);
        const pending = await schedule({ scheduledFor: at(HOUR) });
        expect(await store.requeue(pending.id, FINISHED_STATUSES)).toBeNull();
        expect(await mustGet(pending.id)).toEqual(pending);
        expect(await store.requeue(newCommand().id, FINISHED_STATUSES)).toBeNull();
      });

      it('never requeues a live entry, even when its status is listed', async () => {
        const processing = await createProcessing();
        const pending = await schedule({ scheduledFor: at(HOUR) });
        for (const entry of [processing, pending]) {
          expect(await store.requeue(entry.id, SCHEDULED_COMMAND_STATUSES)).toBeNull();
          expect(await mustGet(entry.id)).toEqual(entry);
        }
        expect(await store.requeueMany({}, SCHEDULED_COMMAND_STATUSES, 10)).toEqual([]);
        expect(await mustGet(processing.id)).toEqual(processing);
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
          expect(await mustGet(entry.id)).toEqual(entry);
        }
        const second = await store.requeueMany({ commandType: 'a' }, ['failed'], 10);
        expect(sorted([...ids(first), ...ids(second)])).toEqual(sorted([a1.id, a2.id, a3.id]));
        expect(await statusOf(b.id)).toBe('failed');
        expect(await statusOf(aDone.id)).toBe('completed');
        expect(await mustGet(aPending.id)).toEqual(aPending);
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
        expect(ids((await store.find({ status: 'pending' })).items)).toEqual([pending.id]);
        expect(ids((await store.find({ status: ['failed', 'completed'] })).items)).toEqual([
          failed.id,
          completed.id,
        ]);
        expect(ids((await store.find({ status: ['cancelled'] })).items)).toEqual([cancelled.id]);
        expect((await store.find({ status: 'processing' })).items).toEqual([]);
      });

      it('filters by commandType and correlationId', async () => {
        const [a, b, c] = await scheduleSeries(3, (i) => ({
          commandType: i === 1 ? 'other' : 'mine',
          correlationId: i === 2 ? 'corr' : null,
        }));
        expect(ids((await store.find({ commandType: 'mine' })).items)).toEqual([c.id, a.id]);
        expect(ids((await store.find({ commandType: 'other' })).items)).toEqual([b.id]);
        expect(ids((await store.find({ correlationId: 'corr' })).items)).toEqual([c.id]);
        expect(
          ids((await store.find({ commandType: 'other', correlationId: 'corr' })).items),
        ).toEqual([]);
      });

      it('filters by scheduledBefore (exclusive) and scheduledAfter (inclusive)', async () => {
        const base = Math.floor(at(-10 * HOUR).getTime());
        const [e1, e2, e3] = await scheduleSeries(3, (i) => ({
          scheduledFor: new Date(base + i * HOUR),
        }));
        const t2 = e2.scheduledFor;
        expect(ids((await store.find({ scheduledAfter: t2 })).items)).toEqual([e3.id, e2.id]);
        expect(ids((await store.find({ scheduledBefore: t2 })).items)).toEqual([e1.id]);
        expect(
          ids((await store.find({ scheduledAfter: t2, scheduledBefore: e3.scheduledFor })).items),
        ).toEqual([e2.id]);
        expect(
          ids(
            (
              await store.find({
                scheduledAfter: e1.scheduledFor,
                status: 'pending',
                commandType: 'test-command',
              })
            ).items,
          ),
        ).toEqual([e3.id, e2.id, e1.id]);
      });

      it('pages with limit and offset', async () => {
        const entries = await scheduleSeries(5);
        const newestFirst = ids(entries).reverse();
        expect(ids((await store.find({}, { limit: 2 })).items)).toEqual(newestFirst.slice(0, 2));
        expect(ids((await store.find({}, { limit: 2, offset: 2 })).items)).toEqual(
          newestFirst.slice(2, 4),
        );
        expect(ids((await store.find({}, { limit: 2, offset: 4 })).items)).toEqual(
          newestFirst.slice(4),
        );
        expect((await store.find({}, { limit: 2, offset: 5 })).items).toEqual([]);
        expect(ids((await store.find({}, { limit: 3, offset: 1, order: 'asc' })).items)).toEqual(
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
        expect(await store.purge({ olderThan: at(HOUR), statuses: ['completed'], limit: 2 })).toBe(
          2,
        );
        expect(await store.getCompletedCount()).toBe(1);
        expect(await store.purge({ olderThan: at(HOUR), statuses: ['completed'], limit: 2 })).toBe(
          1,
        );
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
        const slack = clock() ? 0 : REAL_CLOCK_TOLERANCE_MS;
        expect(ms as number).toBeLessThanOrEqual(60_000 + window.after - asked.before + slack);
        expect(ms as number).toBeGreaterThanOrEqual(60_000 + window.before - asked.after - slack);
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

        expect(await mustGet(entry.id)).toEqual(expected);

        const [claimed] = await store.claim({ workerId: 'w', limit: 1, leaseMs: LONG_LEASE });
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
  });
}
