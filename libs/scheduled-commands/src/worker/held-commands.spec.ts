import { describe, expect, it, vi } from 'vitest';
import { InMemoryScheduledCommandStore } from '../store/in-memory/in-memory-scheduled-command-store.js';
import type { ScheduledCommandEntry } from '../store/scheduled-command-entry.js';
import { ManualClock } from '../testing/manual-clock.js';
import { newCommand } from '../testing/new-command.js';
import { HeldCommands } from './held-commands.js';

async function claimed(count: number): Promise<ScheduledCommandEntry[]> {
  const store = new InMemoryScheduledCommandStore(new ManualClock());
  await store.scheduleMany(Array.from({ length: count }, () => newCommand()));
  return store.claim({ workerId: 'w1', limit: count, leaseMs: 30_000 });
}

const completed = { kind: 'completed', result: 'ok', resultPayload: '"ok"' } as const;

describe('HeldCommands', () => {
  it('holds a claimed entry under the lease of its claim and takes a slot', async () => {
    const [entry] = await claimed(1);
    const ledger = new HeldCommands('w1');
    const held = ledger.hold(entry);
    expect(held.lease).toEqual({ id: entry.id, workerId: 'w1', attempt: 1 });
    expect(Object.keys(held)).toEqual([
      'entry',
      'lease',
      'abort',
      'outcome',
      'lost',
      'overrun',
      'uncertain',
      'committed',
      'inTransaction',
    ]);
    expect([ledger.size, ledger.runningCount]).toEqual([1, 1]);
    expect(ledger.finish(held, completed, vi.fn())).toBe(false);
    expect([ledger.size, ledger.runningCount]).toEqual([1, 0]); // held until written
    ledger.drop(held);
    expect(ledger.size).toBe(0);
  });

  it('keeps the slot of a timed-out run until its handler settles, and counts it meanwhile', async () => {
    const [entry] = await claimed(1);
    const ledger = new HeldCommands('w1');
    const held = ledger.hold(entry);
    let settle!: () => void;
    const settled = new Promise<void>((r) => (settle = r));
    const freed = vi.fn();
    const timedOut = ledger.finish(
      held,
      { kind: 'failed', error: 'timed out', permanent: false, settled },
      freed,
    );
    expect(timedOut).toBe(true);
    ledger.drop(held); // its failure is written
    expect([ledger.runningCount, ledger.overrunCount]).toEqual([1, 1]);
    expect(ledger.previousRun(entry.id)).toBe(settled);
    settle();
    await settled;
    await Promise.resolve();
    expect([ledger.runningCount, ledger.overrunCount]).toEqual([0, 0]);
    expect(ledger.previousRun(entry.id)).toBeUndefined();
    expect(freed).toHaveBeenCalledTimes(1);
  });

  it('counts a handler given up at shutdown once, until it returns', async () => {
    const [entry] = await claimed(1);
    const ledger = new HeldCommands('w1');
    const held = ledger.hold(entry);
    expect(ledger.giveUp(held)).toBe(true);
    expect(ledger.giveUp(held)).toBe(false);
    expect(ledger.overrunCount).toBe(1);
    ledger.finish(held, completed, vi.fn());
    expect([ledger.runningCount, ledger.overrunCount]).toEqual([0, 0]);
  });

  it('resolves whenNoneRunning and whenEmpty as runs end and commands are let go', async () => {
    const [a, b] = await claimed(2);
    const ledger = new HeldCommands('w1');
    const ha = ledger.hold(a);
    const hb = ledger.hold(b);
    const order: string[] = [];
    const none = ledger.whenNoneRunning().then(() => order.push('none running'));
    const empty = ledger.whenEmpty().then(() => order.push('empty'));
    ledger.finish(ha, completed, vi.fn());
    await Promise.resolve();
    expect(order).toEqual([]);
    ledger.finish(hb, completed, vi.fn());
    await none;
    ledger.drop(ha);
    ledger.drop(hb);
    await empty;
    expect(order).toEqual(['none running', 'empty']);
  });

  it('lets go of a command only if it is that very hold (the id may be held again later)', async () => {
    const [entry] = await claimed(1);
    const ledger = new HeldCommands('w1');
    const first = ledger.hold(entry);
    const second = ledger.hold({ ...entry, attempts: 2 });
    ledger.drop(first);
    expect(ledger.isHeld(second)).toBe(true);
    expect(ledger.isHeld(first)).toBe(false);
  });
});
