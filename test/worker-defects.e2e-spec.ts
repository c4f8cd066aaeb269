import { Logger } from '@nestjs/common';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  InMemoryScheduledCommandStore,
  ScheduledCommandCompletedEvent,
  ScheduledCommandRetryingEvent,
  ScheduledCommandStatus,
} from 'nestjs-scheduled-commands';
import { ManualClock } from 'nestjs-scheduled-commands/testing';
import { createTestApp, until, type TestApp } from './support/app.js';
import {
  allHandlers,
  FlakyCommand,
  GateCommand,
  Gates,
  Journal,
  LabelCommand,
} from './support/commands.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Defects of the worker found in review: each test here failed on the worker before its fix.
 * Every app runs on the in-memory store (wrapped where a test needs a store that misbehaves).
 */
describe('worker defects', () => {
  const apps: TestApp[] = [];
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const app of apps.splice(0)) await app.close().catch(() => undefined);
  });

  async function boot(
    options: Record<string, unknown>,
    store = new InMemoryScheduledCommandStore(new ManualClock(new Date('2026-01-01T00:00:00Z'))),
  ): Promise<TestApp> {
    const t = await createTestApp({
      options: { store, pollingInterval: 600_000, ...options },
      providers: allHandlers,
    });
    apps.push(t);
    return t;
  }

  it('keeps the slot of a timed-out handler until it has settled, and counts it', async () => {
    const t = await boot({ concurrency: 1, commandTimeout: 100, maxRetries: 0 });
    const gates = t.app.get(Gates);
    const slow = await t.scheduler.schedule(new GateCommand('slow'), { priority: 10 });
    const next = await t.scheduler.schedule(new LabelCommand('next'));
    await until(async () => (await t.entry(slow)).status === ScheduledCommandStatus.Failed);
    expect(t.poller.overrunCount).toBe(1);
    await sleep(200);
    // The timed-out handler still runs: concurrency 1 leaves no slot for the next command.
    expect((await t.entry(next)).status).toBe(ScheduledCommandStatus.Pending);
    gates.open('slow');
    await until(async () => (await t.entry(next)).status === ScheduledCommandStatus.Completed);
    expect(t.poller.overrunCount).toBe(0);
  });

  it('does not start the retry of a timed-out command while its first run still goes on', async () => {
    const t = await boot({
      concurrency: 4,
      commandTimeout: 100,
      maxRetries: 1,
      retryDelayBase: 0,
    });
    const gates = t.app.get(Gates);
    const id = await t.scheduler.schedule(new GateCommand('once'));
    await until(() => t.events.of(ScheduledCommandRetryingEvent).length === 1);
    await t.poller.tick();
    await sleep(200);
    expect(gates.started).toEqual(['once']);
    gates.open('once');
    await until(() => gates.started.length === 2);
    gates.open('once');
    await until(async () => (await t.entry(id)).status === ScheduledCommandStatus.Completed);
  });

  it('counts and logs a handler that is still running after shutdown aborted it', async () => {
    const warn = vi.spyOn(Logger.prototype, 'warn');
    const t = await boot({ shutdownTimeout: 50 });
    const gates = t.app.get(Gates);
    await t.scheduler.schedule(new GateCommand('stuck'));
    await until(() => gates.started.length === 1);
    const poller = t.poller;
    await t.app.close();
    expect(poller.overrunCount).toBe(1);
    expect(warn.mock.calls.some(([message]) => /still running/i.test(String(message)))).toBe(true);
    gates.open('stuck');
    await until(() => poller.overrunCount === 0);
  });

  it('never has two lease renewals of one worker in flight at once', async () => {
    const store = new InMemoryScheduledCommandStore(new ManualClock());
    let inFlight = 0;
    let maxInFlight = 0;
    const extend = store.extendLeases.bind(store);
    store.extendLeases = async (leases, ms) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await sleep(1_100); // a database far slower than the heartbeat (every 333 ms)
      inFlight--;
      return extend(leases, ms);
    };
    const t = await boot({ leaseDuration: 1_000 }, store);
    const gates = t.app.get(Gates);
    await t.scheduler.schedule(new GateCommand('long'));
    await sleep(1_300);
    gates.open('long');
    await t.poller.drain();
    expect(maxInFlight).toBe(1);
  });

  it('gives up writing a failure after a while, says so, and leaves the command to lease take-over', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const store = new InMemoryScheduledCommandStore(clock);
    const error = vi.spyOn(Logger.prototype, 'error');
    let down = true;
    const retry = store.retry.bind(store);
    store.retry = async (lease, message, delay) => {
      if (down) throw new Error('database is down');
      return retry(lease, message, delay);
    };
    const t = await boot({ leaseDuration: 1_000, maxRetries: 3, retryDelayBase: 0 }, store);
    const id = await t.scheduler.schedule(new FlakyCommand('always'));
    await until(() => t.app.get(Journal).runs.length === 1);
    // Written for about one lease at most, then given up: the command is no longer held.
    await until(() => t.poller.heldCount === 0, 5_000);
    expect(
      error.mock.calls.some(([message]) =>
        /gave up.*lease.*takes the command over/i.test(String(message)),
      ),
    ).toBe(true);
    // Its lease runs out (nobody renews it now) and the next pass takes it over.
    down = false;
    clock.advance(1_001);
    await t.poller.tick();
    const [taken] = t.events.of(ScheduledCommandRetryingEvent);
    expect(taken.commandId).toBe(id);
    expect(taken.retryCount).toBe(1);
    expect(taken.error).toMatch(/lease/i);
  });

  it('recovers from a polling pass that rejected: later passes run again', async () => {
    const t = await boot({});
    const inner = t.poller as unknown as { runPass(): Promise<void> };
    const runPass = inner.runPass.bind(t.poller);
    let calls = 0;
    inner.runPass = () => (++calls === 1 ? Promise.reject(new Error('boom')) : runPass());
    // One pass under way (rejecting) and one queued behind it: both see the rejection.
    const first = t.poller.tick();
    const queued = t.poller.tick();
    await expect(first).rejects.toThrow('boom');
    await queued.catch(() => undefined);
    // Later passes are not stuck on it.
    const id = await t.scheduler.schedule(new LabelCommand('later'), { delay: 0 });
    const slow = t.poller.tick();
    await expect(Promise.all([slow, t.poller.tick()])).resolves.toBeDefined();
    await t.poller.drain();
    expect((await t.entry(id)).status).toBe(ScheduledCommandStatus.Completed);
  });

  it('publishes every Completed event exactly once when a batch write failed part-way', async () => {
    const store = new InMemoryScheduledCommandStore(new ManualClock());
    let failNext = true;
    const complete = store.complete.bind(store);
    store.complete = async (completions) => {
      if (failNext && completions.length >= 2) {
        failNext = false;
        await complete(completions.slice(0, 1)); // the first chunk is written, then the connection drops
        throw new Error('connection lost');
      }
      return complete(completions);
    };
    const t = await boot({ concurrency: 4, batchSize: 4 }, store);
    const ids = await t.scheduler.scheduleMany(
      ['a', 'b', 'c', 'd'].map((label) => ({ command: new LabelCommand(label) })),
    );
    await until(async () => (await store.countByStatus()).completed === 4);
    await t.poller.drain();
    expect(failNext).toBe(false);
    const published = t.events.of(ScheduledCommandCompletedEvent).map((e) => e.commandId);
    expect(published.sort()).toEqual([...ids].sort());
  });

  it('takes the wall clock for nothing it waits on: a clock jump does not cut the shutdown short', async () => {
    const t = await boot({ shutdownTimeout: 5_000 });
    const gates = t.app.get(Gates);
    const id = await t.scheduler.schedule(new GateCommand('finishing'));
    await until(() => gates.started.length === 1);
    const now = Date.now;
    let jump = 0;
    vi.spyOn(Date, 'now').mockImplementation(() => now() + jump);
    setTimeout(() => (jump = 3_600_000), 50); // NTP moves the wall clock an hour forward
    setTimeout(() => gates.open('finishing'), 300);
    const store = t.store;
    await t.app.close();
    expect((await store.get(id))?.status).toBe(ScheduledCommandStatus.Completed);
  });
});
