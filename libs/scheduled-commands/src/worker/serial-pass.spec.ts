import { describe, expect, it } from 'vitest';
import { SerialPass } from './serial-pass.js';

function gatedPass() {
  const gates: (() => void)[] = [];
  let running = 0;
  let maxRunning = 0;
  let calls = 0;
  const pass = async () => {
    calls++;
    maxRunning = Math.max(maxRunning, ++running);
    await new Promise<void>((resolve) => gates.push(resolve));
    running--;
  };
  return { pass, gates, stats: () => ({ calls, maxRunning }) };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('SerialPass', () => {
  it('runs one pass at a time; callers during a pass share one queued pass', async () => {
    const { pass, gates, stats } = gatedPass();
    const passes = new SerialPass(pass);
    const first = passes.run();
    const second = passes.run();
    const third = passes.run();
    expect(second).toBe(third);
    expect(stats().calls).toBe(1);
    gates.shift()!();
    await first;
    await turn();
    expect(stats().calls).toBe(2); // the queued one starts after the first
    gates.shift()!();
    await second;
    expect(stats()).toEqual({ calls: 2, maxRunning: 1 });
  });

  it('runs later passes after a pass rejected (defect: they used to get that rejection forever)', async () => {
    let calls = 0;
    let release!: () => void;
    const passes = new SerialPass(async () => {
      calls++;
      if (calls === 1) {
        await new Promise<void>((resolve) => (release = resolve));
        throw new Error('boom');
      }
    });
    const first = passes.run();
    const queued = passes.run();
    release();
    await expect(first).rejects.toThrow('boom');
    await expect(queued).resolves.toBeUndefined();
    // Again with a pass under way and one queued behind it: neither sees the old rejection.
    const a = passes.run();
    const b = passes.run();
    await expect(Promise.all([a, b])).resolves.toEqual([undefined, undefined]);
    expect(calls).toBe(4);
  });

  it('turns a pass that throws synchronously into a rejection', async () => {
    const passes = new SerialPass(() => {
      throw new Error('sync');
    });
    await expect(passes.run()).rejects.toThrow('sync');
  });

  it('whenIdle waits for the pass under way and the queued one', async () => {
    const { pass, gates } = gatedPass();
    const passes = new SerialPass(pass);
    void passes.run();
    void passes.run();
    let idle = false;
    const waiting = passes.whenIdle().then(() => (idle = true));
    gates.shift()!();
    await turn();
    expect(idle).toBe(false);
    gates.shift()!();
    await waiting;
    expect(idle).toBe(true);
  });
});
