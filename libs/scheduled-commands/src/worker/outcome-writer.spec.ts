import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  ScheduledCommandCompletedEvent,
  ScheduledCommandFailedEvent,
  ScheduledCommandRetryingEvent,
} from '../events/index.js';
import { resolveScheduledCommandsOptions } from '../scheduled-commands.options.js';
import { InMemoryScheduledCommandStore } from '../store/in-memory/in-memory-scheduled-command-store.js';
import { ManualClock } from '../testing/manual-clock.js';
import { newCommand } from '../testing/new-command.js';
import { BackgroundTasks } from './background-tasks.js';
import { EventPublisher } from './event-publisher.js';
import { HeldCommands } from './held-commands.js';
import { OutcomeWriter } from './outcome-writer.js';

const logger = new Logger('test');
logger.localInstance.setLogLevels?.([]);

async function setUp(count: number, maxRetries = 3) {
  const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
  const store = new InMemoryScheduledCommandStore(clock);
  await store.scheduleMany(Array.from({ length: count }, () => newCommand({ maxRetries })));
  const ledger = new HeldCommands('w1');
  const held = (await store.claim({ workerId: 'w1', limit: count, leaseMs: 30_000 })).map((e) =>
    ledger.hold(e),
  );
  const tasks = new BackgroundTasks();
  const events: object[] = [];
  const host = { wake: vi.fn(), retryScheduled: vi.fn() };
  const options = resolveScheduledCommandsOptions({ leaseDuration: 1_000, retryDelayBase: 500 });
  const publisher = new EventPublisher({ publish: (e: object) => events.push(e) }, logger);
  const writer = new OutcomeWriter(store, ledger, tasks, publisher, options, logger, host);
  const complete = (i: number) => {
    ledger.finish(held[i], { kind: 'completed', result: i, resultPayload: String(i) }, vi.fn());
    writer.completed(held[i]);
  };
  const fail = (i: number) => {
    const outcome = { kind: 'failed', error: 'no', permanent: false } as const;
    ledger.finish(held[i], outcome, vi.fn());
    writer.failed(held[i], outcome);
  };
  return { clock, store, ledger, held, tasks, events, host, writer, complete, fail };
}

const completedIds = (events: object[]) =>
  events
    .filter((e): e is ScheduledCommandCompletedEvent => e instanceof ScheduledCommandCompletedEvent)
    .map((e) => e.commandId);

describe('OutcomeWriter', () => {
  afterEach(() => vi.useRealTimers());

  it('writes the completions of one turn in one batch, then publishes and lets go of them', async () => {
    const { store, ledger, held, tasks, events, host, complete } = await setUp(3);
    const calls: number[] = [];
    const write = store.complete.bind(store);
    store.complete = async (c) => (calls.push(c.length), write(c));
    complete(0);
    complete(1);
    complete(2);
    await tasks.whenIdle();
    expect(calls).toEqual([3]);
    expect(completedIds(events)).toEqual(held.map((h) => h.entry.id));
    expect(ledger.size).toBe(0);
    expect(host.wake).toHaveBeenCalled();
    expect((await store.get(held[1].entry.id))?.resultPayload).toBe('1');
  });

  it('publishes each Completed event exactly once after a batch write that failed part-way', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const { store, ledger, held, tasks, events, complete } = await setUp(4);
    const write = store.complete.bind(store);
    let failures = 1;
    store.complete = async (c) => {
      if (failures-- > 0) {
        await write(c.slice(0, 2)); // the first chunk is stored, then the connection drops
        throw new Error('connection lost');
      }
      return write(c);
    };
    for (let i = 0; i < 4; i++) complete(i);
    await vi.advanceTimersByTimeAsync(0);
    expect(events).toEqual([]);
    await vi.advanceTimersByTimeAsync(100); // its own back-off: 100 ms after the first failure
    await tasks.whenIdle();
    expect(completedIds(events).sort()).toEqual(held.map((h) => h.entry.id).sort());
    expect(ledger.size).toBe(0);
  });

  it('publishes nothing for a completion whose lease went to another worker', async () => {
    const { clock, store, ledger, tasks, events, complete } = await setUp(1);
    clock.advance(30_000);
    await store.recoverExpiredLeases(10);
    complete(0);
    await tasks.whenIdle();
    expect(events).toEqual([]);
    expect(ledger.size).toBe(0);
  });

  it('writes a failure as a retry after the back-off delay, or as a dead letter when none is left', async () => {
    const retrying = await setUp(1, 1);
    retrying.fail(0);
    await retrying.tasks.whenIdle();
    expect(retrying.events).toEqual([expect.any(ScheduledCommandRetryingEvent)]);
    expect(retrying.host.retryScheduled).toHaveBeenCalledWith(500);
    expect(retrying.ledger.size).toBe(0);

    const last = await setUp(1, 0);
    last.fail(0);
    await last.tasks.whenIdle();
    expect(last.events).toEqual([expect.any(ScheduledCommandFailedEvent)]);
    expect((await last.store.get(last.held[0].entry.id))?.status).toBe('failed');
  });

  it('gives up writing a failure after one leaseDuration of a failing store and lets go of the command', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] });
    const error = vi.spyOn(logger, 'error');
    const { store, ledger, tasks, fail } = await setUp(1);
    const attempts: number[] = [];
    store.retry = async () => {
      attempts.push(performance.now());
      throw new Error('down');
    };
    const start = performance.now();
    fail(0);
    await vi.advanceTimersByTimeAsync(5_000);
    await tasks.whenIdle();
    // 100, 200, 400 ms apart; the next pause (800 ms) would end past one lease (1 s): given up.
    expect(attempts.map((t) => t - start)).toEqual([0, 100, 300, 700]);
    expect(ledger.size).toBe(0);
    expect(String(error.mock.calls.at(-1)?.[0])).toMatch(
      /Gave up writing the retry .* after 4 attempt\(s\).*takes the command over/,
    );
  });

  it('after stop(), writes what is left until the deadline and reports what it could not', async () => {
    const { store, tasks, complete, writer } = await setUp(2);
    store.complete = async () => {
      throw new Error('down');
    };
    complete(0);
    complete(1);
    await tasks.whenIdle();
    writer.stop();
    expect(writer.unwrittenCount).toBe(2);
    expect(await writer.flushUntil(performance.now() + 150)).toBe(2);
  });
});
