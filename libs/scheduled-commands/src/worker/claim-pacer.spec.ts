import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { InMemoryScheduledCommandStore } from '../store/in-memory/in-memory-scheduled-command-store.js';
import type { ClaimRequest, ScheduledCommandEntry } from '../store/scheduled-command-entry.js';
import { ManualClock } from '../testing/manual-clock.js';
import { newCommand } from '../testing/new-command.js';
import { BackgroundTasks } from './background-tasks.js';
import { ClaimPacer } from './claim-pacer.js';
import { HeldCommands } from './held-commands.js';

const logger = new Logger('test');
logger.localInstance.setLogLevels?.([]);
const T0 = new Date('2026-01-01T00:00:00Z').getTime();

function setUp(concurrency = 4, batchSize = 4) {
  const clock = new ManualClock(T0);
  const store = new InMemoryScheduledCommandStore(clock);
  const claims: { limit: number; from: number | null; got: number }[] = [];
  const claim = store.claim.bind(store);
  store.claim = async (request: ClaimRequest) => {
    const got = await claim(request);
    claims.push({
      limit: request.limit,
      from: request.scheduledFrom?.getTime() ?? null,
      got: got.length,
    });
    return got;
  };
  const ledger = new HeldCommands('w1');
  const tasks = new BackgroundTasks();
  const writer = { unwrittenCount: 0 };
  const started: ScheduledCommandEntry[] = [];
  const pacer = new ClaimPacer(
    store,
    { workerId: 'w1', batchSize, concurrency, leaseDuration: 30_000, pollingInterval: 60_000 },
    clock,
    ledger,
    writer,
    tasks,
    logger,
    (entry) => {
      ledger.hold(entry);
      started.push(entry);
    },
  );
  pacer.start();
  const at = (s: number) => new Date(T0 + s * 1_000);
  const schedule = (...seconds: number[]) =>
    store.scheduleMany(seconds.map((s) => newCommand({ scheduledFor: at(s) })));
  return { clock, store, claims, ledger, tasks, writer, started, pacer, schedule };
}

describe('ClaimPacer', () => {
  afterEach(() => vi.useRealTimers());

  it('claims as many as the free slots allow and starts each claimed command', async () => {
    const { claims, ledger, tasks, started, pacer, schedule } = setUp(3, 10);
    await schedule(-3, -2, -1, -1, -1);
    pacer.wake();
    await tasks.whenIdle();
    expect(started).toHaveLength(3);
    expect(claims[0]).toEqual({ limit: 3, from: null, got: 3 });
    pacer.wake(); // every slot is taken: no claim
    await tasks.whenIdle();
    expect(claims).toHaveLength(1);
    expect(ledger.runningCount).toBe(3);
  });

  it('claims one batch at a time when there is no backlog; a wake-up meanwhile is served after it', async () => {
    const { claims, tasks, pacer, schedule } = setUp(4, 4);
    await schedule(-1);
    pacer.wake();
    pacer.wake();
    pacer.wake();
    await tasks.whenIdle();
    expect(claims.length).toBeLessThanOrEqual(2);
    expect(claims[0]).toEqual({ limit: 4, from: null, got: 1 });
  });

  it('works through a backlog from where the last full claim started, then once more from the start', async () => {
    const { claims, ledger, tasks, started, pacer, schedule } = setUp(2, 2);
    await schedule(-60, -50, -40, -30);
    pacer.wake();
    await tasks.whenIdle();
    expect(claims).toEqual([{ limit: 2, from: null, got: 2 }]);
    for (const entry of started.splice(0)) {
      const held = ledger.all().find((h) => h.entry.id === entry.id)!;
      ledger.finish(held, { kind: 'completed', result: null, resultPayload: null }, vi.fn());
      ledger.drop(held);
    }
    pacer.wake();
    await tasks.whenIdle();
    expect(claims[1]).toEqual({ limit: 2, from: T0 - 60_000, got: 2 });
  });

  it('pauses claims while completions pile up unwritten', async () => {
    const { claims, tasks, writer, pacer, schedule } = setUp(4, 4);
    await schedule(-1);
    writer.unwrittenCount = 17;
    pacer.wake();
    await tasks.whenIdle();
    expect(claims).toEqual([]);
  });

  it('backs off with its own pause after a failed claim, and claims again after it', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const { store, tasks, started, pacer, schedule } = setUp();
    await schedule(-1);
    const claim = store.claim.bind(store);
    let down = true;
    store.claim = async (request) => {
      if (down) throw new Error('down');
      return claim(request);
    };
    pacer.wake();
    await tasks.whenIdle();
    down = false;
    await vi.advanceTimersByTimeAsync(99);
    expect(started).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    await tasks.whenIdle();
    expect(started).toHaveLength(1);
  });

  it('sets the due timer for the nearest future command when the claims run dry', async () => {
    const { tasks, pacer, schedule } = setUp();
    await schedule(30);
    pacer.wake();
    await tasks.whenIdle();
    expect(pacer.dueTimerArmed).toBe(true);
    pacer.stop();
    expect(pacer.dueTimerArmed).toBe(false);
  });

  it('claims at once for a command this instance scheduled due now, and sets the timer for a later one', async () => {
    const { clock, claims, tasks, pacer, schedule } = setUp();
    await schedule(0);
    pacer.onScheduled(clock.now(), null);
    await tasks.whenIdle();
    expect(claims).toHaveLength(1);
    pacer.onScheduled(null, 5_000);
    expect(pacer.dueTimerArmed).toBe(true);
  });

  it('claims nothing after stop()', async () => {
    const { claims, tasks, pacer, schedule } = setUp();
    await schedule(-1);
    pacer.stop();
    pacer.wake();
    await tasks.whenIdle();
    expect(claims).toEqual([]);
  });
});
