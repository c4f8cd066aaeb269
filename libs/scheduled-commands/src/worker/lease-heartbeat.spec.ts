import { Logger } from '@nestjs/common';
import { describe, expect, it } from 'vitest';
import { InMemoryScheduledCommandStore } from '../store/in-memory/in-memory-scheduled-command-store.js';
import { ManualClock } from '../testing/manual-clock.js';
import { newCommand } from '../testing/new-command.js';
import { HeldCommands } from './held-commands.js';
import { LeaseHeartbeat } from './lease-heartbeat.js';

const logger = new Logger('test');
logger.localInstance.setLogLevels?.([]);

async function setUp(leaseMs = 3_000) {
  const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
  const store = new InMemoryScheduledCommandStore(clock);
  await store.scheduleMany([newCommand(), newCommand()]);
  const ledger = new HeldCommands('w1');
  const held = (await store.claim({ workerId: 'w1', limit: 2, leaseMs })).map((e) =>
    ledger.hold(e),
  );
  return {
    clock,
    store,
    ledger,
    held,
    heartbeat: new LeaseHeartbeat(store, ledger, leaseMs, logger),
  };
}

describe('LeaseHeartbeat', () => {
  it('beats every leaseDuration / 3, at least every 250 ms', async () => {
    const { store, ledger } = await setUp();
    expect(new LeaseHeartbeat(store, ledger, 30_000, logger).period).toBe(10_000);
    expect(new LeaseHeartbeat(store, ledger, 600, logger).period).toBe(250);
  });

  it('renews every held lease from the store clock', async () => {
    const { clock, store, held, heartbeat } = await setUp();
    clock.advance(2_000);
    await heartbeat.beat();
    for (const h of held) {
      expect((await store.get(h.entry.id))?.lockedUntil?.getTime()).toBe(
        clock.now().getTime() + 3_000,
      );
    }
  });

  it('never has two renewals in flight: a beat during a slow one is skipped', async () => {
    const { store, heartbeat } = await setUp();
    let calls = 0;
    let release!: () => void;
    const extend = store.extendLeases.bind(store);
    store.extendLeases = async (leases, ms) => {
      calls++;
      await new Promise<void>((r) => (release = r));
      return extend(leases, ms);
    };
    const first = heartbeat.beat();
    await heartbeat.beat();
    await heartbeat.beat();
    expect(calls).toBe(1);
    release();
    await first;
    const next = heartbeat.beat();
    release();
    await next;
    expect(calls).toBe(2);
  });

  it('marks a running command whose lease is gone as lost and fires its signal', async () => {
    const { clock, store, held, heartbeat } = await setUp();
    const signal = held[0].abort.signal;
    clock.advance(3_000);
    await store.recoverExpiredLeases(10); // both leases ran out and were taken over
    held[1].outcome = { kind: 'completed', result: null, resultPayload: null };
    await heartbeat.beat();
    expect(held[0].lost).toBe(true);
    expect(signal.aborted).toBe(true);
    expect(held[1].lost).toBe(false); // finished: its write finds out by itself
  });

  it('leaves alone a handler whose own transaction completes (or has completed) its command', async () => {
    const { store, held, heartbeat } = await setUp();
    // What context.transaction() does: the completion is written inside the handler's transaction,
    // before the handler returns; a renewal then finds the rows no longer processing.
    held[0].inTransaction = true;
    held[1].committed = { result: 1, resultPayload: '1' };
    expect(
      await store.complete(held.map((h) => ({ lease: h.lease, resultPayload: '1' }))),
    ).toHaveLength(2);
    const warnings: string[] = [];
    const warn = Logger.prototype.warn;
    Logger.prototype.warn = (message: string) => void warnings.push(message);
    try {
      await heartbeat.beat();
    } finally {
      Logger.prototype.warn = warn;
    }
    expect(held.map((h) => [h.lost, h.abort.signal.aborted])).toEqual([
      [false, false],
      [false, false],
    ]);
    expect(warnings).toEqual([]);
    // Once that transaction has ended without a commit, a lease that is gone is lost again.
    held[0].inTransaction = false;
    await heartbeat.beat();
    expect(held[0].lost).toBe(true);
    expect(held[1].lost).toBe(false);
  });

  it('survives a store that fails', async () => {
    const { store, heartbeat } = await setUp();
    store.extendLeases = async () => {
      throw new Error('down');
    };
    await expect(heartbeat.beat()).resolves.toBeUndefined();
  });

  it('says how long ago its last beat completed: a failing store lets the age grow', async () => {
    const { store, heartbeat } = await setUp();
    expect(heartbeat.age).toBeNull();
    heartbeat.start();
    try {
      await heartbeat.beat();
      const fresh = heartbeat.age as number;
      expect(fresh).toBeGreaterThanOrEqual(0);
      store.extendLeases = async () => {
        throw new Error('down');
      };
      await new Promise((resolve) => setTimeout(resolve, 30));
      await heartbeat.beat();
      expect(heartbeat.age as number).toBeGreaterThanOrEqual(fresh + 25);
    } finally {
      heartbeat.stop();
    }
    expect(heartbeat.age).toBeNull();
  });
});
