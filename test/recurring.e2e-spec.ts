import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  InMemoryScheduledCommandStore,
  InvalidRecurringScheduleError,
  RecurringMaterializer,
  UnregisteredCommandError,
  type ScheduledCommandEntry,
} from 'nestjs-scheduled-commands';
import { ManualClock } from 'nestjs-scheduled-commands/testing';
import { createTestApp, tempDatabase, type TestApp } from './support/app.js';
import { allHandlers, GateCommand, Gates, Journal, LabelCommand } from './support/commands.js';

const T0 = new Date('2026-11-27T09:00:00.000Z');
const at = (s: number) => new Date(T0.getTime() + s * 1000);

describe('recurring schedules (SQLite, manual clock, through the public API)', () => {
  let t: TestApp;
  let clock: ManualClock;
  let materializer: RecurringMaterializer;
  let db: ReturnType<typeof tempDatabase>;

  const boot = async (options: object = {}) => {
    const app = await createTestApp({
      database: db.file,
      options: { clock, workerId: 'w', ...options },
      providers: allHandlers,
    });
    materializer = app.app.get(RecurringMaterializer);
    return app;
  };

  beforeEach(async () => {
    clock = new ManualClock(T0);
    db = tempDatabase();
    t = await boot();
  });

  afterEach(async () => {
    await t.close();
    db.remove();
  });

  const occurrences = async (name: string): Promise<ScheduledCommandEntry[]> =>
    (await t.scheduler.find({ recurringName: name }, { order: 'asc', limit: 1000 })).items;
  const times = async (name: string) =>
    (await occurrences(name)).map((e) => e.scheduledFor.toISOString());
  /** Moves the clock, materialises, and runs whatever is due. */
  const step = async (ms: number) => {
    clock.advance(ms);
    await materializer.materialize();
    await t.runDue();
  };

  it('creates each occurrence ahead of its fire time as an ordinary entry, runs it once, and reports next/last run', async () => {
    const schedule = await t.scheduler.scheduleRecurring('tick', new LabelCommand('tick'), {
      cron: '*/10 * * * * *',
      priority: 5,
      metadata: { source: 'test' },
    });
    expect(schedule).toMatchObject({
      name: 'tick',
      commandType: 'label',
      paused: false,
      declared: false,
    });
    expect(schedule.nextRunAt).toEqual(at(10));
    expect(schedule.lastRunAt).toBeNull();
    await materializer.materialize();
    expect(await times('tick')).toEqual([]); // 10 s away: beyond the horizon
    await step(8_000);
    const [first] = await occurrences('tick');
    expect(first).toMatchObject({
      status: 'pending',
      recurringName: 'tick',
      priority: 5,
      metadata: { source: 'test' },
    });
    expect(first.scheduledFor).toEqual(at(10));
    for (let i = 0; i < 30; i++) await step(1_000);
    expect(await times('tick')).toEqual([10, 20, 30, 40].map((s) => at(s).toISOString()));
    const ran = (await occurrences('tick')).filter((e) => e.status === 'completed');
    expect(ran).toHaveLength(3);
    expect(t.app.get(Journal).runs.filter((r) => r.name === 'tick')).toHaveLength(3);
    const now = await t.scheduler.getRecurring('tick');
    expect(now?.nextRunAt).toEqual(at(40));
    expect(now?.lastRunAt).toEqual(at(30));
    expect(await t.scheduler.listRecurring()).toHaveLength(1);
    // Idempotent: the same call again changes nothing.
    await t.scheduler.scheduleRecurring('tick', new LabelCommand('tick'), {
      cron: '*/10 * * * * *',
      priority: 5,
      metadata: { source: 'test' },
    });
    expect(await times('tick')).toHaveLength(4);
  });

  it.each([
    ['skip', {}, 0],
    ['once', {}, 1],
    ['all', { maxCatchUp: 100 }, 6],
    ['all', { maxCatchUp: 2 }, 2],
  ] as const)(
    'after a downtime of 6 fire times, misfire %s %j runs %i of them, in order, then continues',
    async (misfire, extra, expected) => {
      await t.scheduler.scheduleRecurring('m', new LabelCommand('m'), {
        every: 10_000,
        misfire,
        ...extra,
      });
      await step(8_000); // fire time 10 materialised
      await step(2_000); // ...and run
      clock.advance(65_000); // 20, 30, 40, 50, 60, 70 missed; 80 is next
      await materializer.materialize();
      await t.runDue(); // the catch-up runs (overlap: false holds 80 back until it is done)
      const late = (await occurrences('m')).filter(
        (e) => e.scheduledFor > at(10) && e.scheduledFor < at(75),
      );
      expect(late).toHaveLength(expected);
      expect(late.map((e) => e.scheduledFor.getTime())).toEqual(
        [20, 30, 40, 50, 60, 70].slice(6 - expected).map((s) => at(s).getTime()),
      );
      await step(5_000);
      await step(1_000);
      expect(
        (await occurrences('m')).filter((e) => e.scheduledFor.getTime() === at(80).getTime()),
      ).toHaveLength(1);
    },
  );

  it('pause drops the occurrence created ahead, resume starts from now, trigger runs one now, remove deletes', async () => {
    await t.scheduler.scheduleRecurring('p', new LabelCommand('p'), { every: 10_000 });
    await step(8_000);
    expect(await times('p')).toEqual([at(10).toISOString()]);
    expect(await t.scheduler.pauseRecurring('p')).toBe(true);
    expect(await times('p')).toEqual([]);
    expect((await t.scheduler.getRecurring('p'))?.paused).toBe(true);
    expect((await t.scheduler.getRecurring('p'))?.nextRunAt).toBeNull();
    await step(30_000);
    expect(await times('p')).toEqual([]);
    const id = await t.scheduler.triggerRecurring('p');
    expect((await t.entry(id!)).recurringName).toBe('p');
    await t.runDue();
    expect((await t.entry(id!)).status).toBe('completed');
    expect(await t.scheduler.resumeRecurring('p')).toBe(true); // now 38 s: next is 40
    await materializer.materialize();
    expect((await occurrences('p')).map((e) => e.scheduledFor)).toContainEqual(at(40));
    expect(await t.scheduler.removeRecurring('p')).toBe(true);
    expect(await t.scheduler.getRecurring('p')).toBeNull();
    expect((await occurrences('p')).map((e) => e.id)).toEqual([id]); // the future one is gone
    expect(await t.scheduler.removeRecurring('p')).toBe(false);
    expect(await t.scheduler.pauseRecurring('p')).toBe(false);
    expect(await t.scheduler.triggerRecurring('p')).toBeNull();
  });

  it('changing the cron moves the occurrence already created ahead of time', async () => {
    await t.scheduler.scheduleRecurring('c', new LabelCommand('c'), { cron: '*/10 * * * * *' });
    await step(8_000);
    expect(await times('c')).toEqual([at(10).toISOString()]);
    const changed = await t.scheduler.scheduleRecurring('c', new LabelCommand('c'), {
      cron: '9,39 * * * * *',
    });
    expect(changed.nextRunAt).toEqual(at(9));
    await materializer.materialize();
    expect(await times('c')).toEqual([at(9).toISOString()]);
  });

  it('overlap: false skips a due fire time while the previous occurrence is running', async () => {
    await t.scheduler.scheduleRecurring('o', new GateCommand('o'), { every: 10_000 });
    clock.advance(8_000);
    await materializer.materialize();
    clock.advance(2_000);
    await t.poller.tick(); // 10 runs and blocks on its gate
    clock.advance(10_500); // 20 is due, 10 still running
    await materializer.materialize();
    expect(await times('o')).toEqual([at(10).toISOString()]);
    t.app.get(Gates).open('o');
    await t.poller.drain();
    clock.advance(8_000); // 30 is created once 10 finished
    await materializer.materialize();
    expect(await times('o')).toEqual([at(10).toISOString(), at(30).toISOString()]);
  });

  it('refuses bad input with typed errors and stores nothing', async () => {
    const cmd = new LabelCommand('x');
    await expect(t.scheduler.scheduleRecurring('', cmd, { every: 1000 })).rejects.toThrow(
      InvalidRecurringScheduleError,
    );
    await expect(
      t.scheduler.scheduleRecurring('x', cmd, { cron: '99 * * * *' }),
    ).rejects.toMatchObject({ field: 'cron' });
    await expect(
      t.scheduler.scheduleRecurring('x', cmd, { cron: '* * * * *', timezone: 'Nowhere/City' }),
    ).rejects.toMatchObject({ field: 'timezone' });
    await expect(
      t.scheduler.scheduleRecurring('x', cmd, { cron: '* * * * *', every: 1000 }),
    ).rejects.toMatchObject({ field: 'cron' });
    await expect(t.scheduler.scheduleRecurring('x', cmd, {})).rejects.toMatchObject({
      field: 'cron',
    });
    await expect(t.scheduler.scheduleRecurring('x', cmd, { every: 500 })).rejects.toMatchObject({
      field: 'every',
    });
    await expect(
      t.scheduler.scheduleRecurring('x', { plain: true }, { every: 1000 }),
    ).rejects.toThrow(UnregisteredCommandError);
    expect(await t.scheduler.listRecurring()).toEqual([]);
  });

  it('two instances materialising the same schedule create each fire time once', async () => {
    // Two apps on one store (in-memory, shared): the materialisers race on every pass. (Two
    // processes on one database, with the unique key, are the fault tests.)
    const store = new InMemoryScheduledCommandStore(clock);
    const apps = await Promise.all(
      ['w1', 'w2'].map((workerId) =>
        createTestApp({ options: { clock, workerId, store }, providers: allHandlers }),
      ),
    );
    try {
      await apps[0].scheduler.scheduleRecurring('both', new LabelCommand('both'), {
        cron: '* * * * * *',
        overlap: true,
      });
      const [first, second] = apps.map((app) => app.app.get(RecurringMaterializer));
      for (let i = 0; i < 10; i++) {
        clock.advance(1_000);
        await Promise.all([first.materialize(), second.materialize(), first.materialize()]);
      }
      const { items } = await store.find({ recurringName: 'both' }, { limit: 1000 });
      const list = items.map((e) => e.scheduledFor.getTime());
      expect(list.length).toBeGreaterThanOrEqual(10);
      expect(new Set(list).size).toBe(list.length);
    } finally {
      await Promise.all(apps.map((app) => app.close()));
    }
  });

  it('upserts schedules declared in the module options and removes those no longer declared, not API ones', async () => {
    await t.scheduler.scheduleRecurring('api', new LabelCommand('api'), { every: 60_000 });
    await t.close();
    t = await boot({
      recurring: [
        { name: 'declared-a', command: new LabelCommand('a'), cron: '0 * * * *' },
        { name: 'declared-b', command: new LabelCommand('b'), every: 5_000 },
      ],
    });
    expect((await t.scheduler.listRecurring()).map((s) => [s.name, s.declared])).toEqual([
      ['api', false],
      ['declared-a', true],
      ['declared-b', true],
    ]);
    await t.close();
    t = await boot({
      recurring: [{ name: 'declared-a', command: new LabelCommand('a'), cron: '30 * * * *' }],
    });
    const list = await t.scheduler.listRecurring();
    expect(list.map((s) => s.name)).toEqual(['api', 'declared-a']);
    expect(list[1].cron).toBe('30 * * * *');
  });
});
