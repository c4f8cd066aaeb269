import { describe, expect, it } from 'vitest';
import { BackgroundTasks } from './background-tasks.js';

describe('BackgroundTasks', () => {
  it('is idle at once when nothing is under way', async () => {
    const tasks = new BackgroundTasks();
    expect(tasks.size).toBe(0);
    await expect(tasks.whenIdle()).resolves.toBeUndefined();
  });

  it('resolves whenIdle once every tracked task settled, rejected ones included', async () => {
    const tasks = new BackgroundTasks();
    let resolve!: () => void;
    let reject!: (error: Error) => void;
    tasks.track(new Promise<void>((r) => (resolve = r)));
    tasks.track(new Promise<void>((_, r) => (reject = r)));
    expect(tasks.size).toBe(2);
    let idle = false;
    void tasks.whenIdle().then(() => (idle = true));
    resolve();
    await Promise.resolve();
    await Promise.resolve();
    expect(idle).toBe(false);
    reject(new Error('failed write'));
    await tasks.whenIdle();
    expect(idle).toBe(true);
    expect(tasks.size).toBe(0);
  });

  it('counts work that is not a promise through begin and end', async () => {
    const tasks = new BackgroundTasks();
    tasks.begin();
    let idle = false;
    const waiting = tasks.whenIdle().then(() => (idle = true));
    await new Promise((r) => setImmediate(r));
    expect(idle).toBe(false);
    tasks.end();
    await waiting;
    expect(idle).toBe(true);
  });

  it('refuses an end without its begin', () => {
    expect(() => new BackgroundTasks().end()).toThrow(/without begin/);
  });
});
