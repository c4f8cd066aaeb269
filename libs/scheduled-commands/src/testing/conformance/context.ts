import { afterEach, beforeEach, expect } from 'vitest';
import type {
  FindOptions,
  Lease,
  NewScheduledCommand,
  ScheduledCommandEntry,
  ScheduledCommandFilter,
  ScheduledCommandStatus,
} from '../../store/scheduled-command-entry.js';
import type { ScheduledCommandStore } from '../../store/scheduled-command-store.js';
import type { ManualClock } from '../manual-clock.js';
import { newCommand } from '../new-command.js';

/**
 * What `describeStoreConformance` needs for one test: a store, its clock, and a way to close it.
 */
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
export const REAL_CLOCK_TOLERANCE_MS = 1_000;
export const HOUR = 3_600_000;
/** A lease long enough never to run out during a test. */
export const LONG_LEASE = 60 * 60_000;
/** A lease the suite lets run out on purpose (see {@link ConformanceContext.createLapsed}). */
export const SHORT_LEASE = 50;

/** The span of store time an operation ran in (see {@link ConformanceContext.measure}). */
export interface TimeWindow {
  readonly before: number;
  readonly after: number;
}

/** Waits at least `ms` milliseconds of wall-clock time (timers may fire a little early). */
async function sleep(ms: number): Promise<void> {
  const end = Date.now() + ms + 2;
  for (let left = end - Date.now(); left > 0; left = end - Date.now()) {
    await new Promise((resolve) => setTimeout(resolve, left));
  }
}

export const ids = (entries: readonly { id: string }[]): string[] => entries.map((e) => e.id);
export const sorted = (values: readonly string[]): string[] => [...values].sort();
/** The lease a claimed entry is held under (its worker and attempt). */
export const leaseOf = (entry: ScheduledCommandEntry): Lease => ({
  id: entry.id,
  workerId: entry.lockedBy as string,
  attempt: entry.attempts,
});

/**
 * Checks the lease fields are cleared, as every write that ends or gives up a run must leave them.
 */
export function expectLeaseCleared(entry: ScheduledCommandEntry): void {
  expect(entry.lockedBy).toBeNull();
  expect(entry.lockedUntil).toBeNull();
}

/**
 * Everything a topic needs, shared by every topic of one suite: see {@link
 * createConformanceContext}.
 */
export type ConformanceContext = ReturnType<typeof createConformanceContext>;

/**
 * Registers the hooks that open a fresh store before every test (with `setup`) and close it after,
 * and returns the helpers the topics share. Every helper works on the store of the running test, so
 * a topic can take them apart once (`const { store, schedule } = t`) and use them in any test.
 */
export function createConformanceContext(setup: () => Promise<StoreHarness>) {
  let harness: StoreHarness | undefined;

  beforeEach(async () => {
    harness = await setup();
  });

  afterEach(async () => {
    const current = harness;
    harness = undefined;
    await current?.close();
  });

  const currentStore = (): ScheduledCommandStore => {
    if (!harness) throw new Error('The conformance store is only open while a test runs');
    return harness.store;
  };
  /** Forwards every call to the store of the running test (the harness changes for every test). */
  const store = new Proxy({} as ScheduledCommandStore, {
    get(_, property) {
      const target = currentStore();
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });

  // --- time: exact with a ManualClock, within a tolerance on a real clock -----------------------

  const clock = (): ManualClock | undefined => harness?.clock;
  /**
   * How far a time may be off: nothing on a manual clock, {@link REAL_CLOCK_TOLERANCE_MS} on a real
   * one.
   */
  const slack = (): number => (clock() ? 0 : REAL_CLOCK_TOLERANCE_MS);
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
    expect(t).toBeGreaterThanOrEqual(window.before + offsetMs - slack());
    expect(t).toBeLessThanOrEqual(window.after + offsetMs + slack());
  };
  const expectSameTime = (actual: Date | null | undefined, expected: Date) => {
    expect(actual).toBeInstanceOf(Date);
    expect((actual as Date).getTime()).toBe(expected.getTime());
  };

  // --- reads and claims ---------------------------------------------------------------------

  const mustGet = async (id: string): Promise<ScheduledCommandEntry> => {
    const entry = await store.get(id);
    expect(entry, `entry ${id}`).not.toBeNull();
    return entry as ScheduledCommandEntry;
  };
  const statusOf = async (id: string): Promise<ScheduledCommandStatus | undefined> =>
    (await store.get(id))?.status;
  /**
   * Checks the store holds exactly `expected` under `id` (a write returned what it stored, or a
   * refused write changed nothing).
   */
  const expectStored = async (
    id: string,
    expected: ScheduledCommandEntry | null,
  ): Promise<void> => {
    expect(await mustGet(id)).toEqual(expected);
  };
  /** Checks `write` refuses `entry` (answers null) and leaves it exactly as it was. */
  const expectRefused = async (
    entry: ScheduledCommandEntry,
    write: (id: string) => Promise<ScheduledCommandEntry | null>,
  ): Promise<void> => {
    expect(await write(entry.id)).toBeNull();
    await expectStored(entry.id, entry);
  };
  const total = async (): Promise<number> =>
    Object.values(await store.countByStatus()).reduce((sum, n) => sum + n, 0);
  /** The ids of the page `find(filter, options)` returns. */
  const findIds = async (filter: ScheduledCommandFilter, options?: FindOptions) =>
    ids((await store.find(filter, options)).items);
  /** Claims up to `limit` due entries for `workerId`. */
  const claimDue = (limit = 10, workerId = 'w', leaseMs = LONG_LEASE) =>
    store.claim({ workerId, limit, leaseMs });
  /** Claims one entry and checks it is `id` (callers make sure it is the only one due). */
  const claimOnly = async (
    id: string,
    workerId = 'worker-a',
    leaseMs = LONG_LEASE,
  ): Promise<ScheduledCommandEntry> => {
    const claimed = await claimDue(1, workerId, leaseMs);
    expect(ids(claimed)).toEqual([id]);
    return claimed[0];
  };
  /** Checks a lease recovery finds nothing to take over. */
  const expectNothingToRecover = async (): Promise<void> => {
    expect(await store.recoverExpiredLeases(10)).toEqual({ requeued: [], deadLettered: [] });
  };

  // --- entries in each state ----------------------------------------------------------------

  /**
   * Schedules a new command (due now unless `overrides` say otherwise) and returns it as stored.
   */
  const schedule = async (
    overrides: Partial<NewScheduledCommand> = {},
  ): Promise<ScheduledCommandEntry> => {
    const command = newCommand(overrides);
    expect(await store.schedule(command)).toEqual({ id: command.id, created: true });
    return mustGet(command.id);
  };
  const createProcessing = async (
    overrides: Partial<NewScheduledCommand> = {},
    workerId = 'worker-a',
    leaseMs = LONG_LEASE,
  ): Promise<ScheduledCommandEntry> => {
    const entry = await schedule(overrides);
    return claimOnly(entry.id, workerId, leaseMs);
  };
  /** A processing entry whose {@link SHORT_LEASE} has just run out (not yet recovered). */
  const createLapsed = async (
    overrides: Partial<NewScheduledCommand> = {},
    workerId = 'worker-a',
  ): Promise<ScheduledCommandEntry> => {
    const entry = await createProcessing(overrides, workerId, SHORT_LEASE);
    await advance(SHORT_LEASE);
    return entry;
  };
  /** Schedules `n` commands due now and claims them all for `workerId`. */
  const createProcessingBatch = async (
    n: number,
    leaseMs = LONG_LEASE,
    workerId = 'w',
  ): Promise<ScheduledCommandEntry[]> => {
    await store.scheduleMany(Array.from({ length: n }, () => newCommand()));
    const claimed = await claimDue(n, workerId, leaseMs);
    expect(claimed).toHaveLength(n);
    return claimed;
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

  // --- the shapes a write leaves an entry in --------------------------------------------------

  /** Checks `entry` finished as `status` within `window` (`completedAt`). */
  const expectFinished = (
    entry: ScheduledCommandEntry,
    status: ScheduledCommandStatus,
    window: TimeWindow,
  ): void => {
    expect(entry.status).toBe(status);
    expectTimeIn(entry.completedAt, window);
  };
  /**
   * Checks `entry` is pending again, due at "now + offsetMs" within `window`, with no lease and no
   * finish time.
   */
  const expectPendingAgain = (
    entry: ScheduledCommandEntry,
    window: TimeWindow,
    offsetMs = 0,
  ): void => {
    expect(entry.status).toBe('pending');
    expectTimeIn(entry.scheduledFor, window, offsetMs);
    expectLeaseCleared(entry);
    expect(entry.completedAt).toBeNull();
  };

  return {
    store,
    clock,
    slack,
    now,
    at,
    advance,
    measure,
    expectTimeIn,
    expectSameTime,
    mustGet,
    statusOf,
    expectStored,
    expectRefused,
    total,
    findIds,
    claimDue,
    claimOnly,
    expectNothingToRecover,
    schedule,
    createProcessing,
    createLapsed,
    createProcessingBatch,
    createCompleted,
    createFailed,
    createCancelled,
    createExpired,
    createWaitingForRetry,
    expectFinished,
    expectPendingAgain,
  };
}
