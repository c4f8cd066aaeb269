import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  CommandScheduler,
  getScheduledCommandContext,
  ScheduledCommand,
  ScheduledCommandRetryingEvent,
  scheduledCommandsMigrations,
} from 'nestjs-scheduled-commands';
import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { createTestApp, until, type TestApp, type TestAppOptions } from './support/app.js';
import { allHandlers, GateCommand, Gates, Journal, LabelCommand } from './support/commands.js';
import { createMysqlDatabase, mysqlAvailable } from './support/mysql.js';
import { createPgDatabase, pgAvailable } from './support/postgres.js';
import type { TestDatabase } from './support/test-database.js';

/** A database server the instances of one test share. */
interface Backend {
  readonly name: string;
  available(): boolean;
  createDatabase(): Promise<TestDatabase>;
  /** TypeORM options of an instance; `first`: the first instance of the test, which makes the table. */
  typeorm(url: string, first: boolean): Record<string, unknown>;
  /** Whether instances wake each other up (PostgreSQL `LISTEN/NOTIFY`). */
  readonly notifies: boolean;
}

const BACKENDS: readonly Backend[] = [
  {
    name: 'PostgreSQL',
    available: pgAvailable,
    createDatabase: createPgDatabase,
    typeorm: (url, first) => ({ type: 'postgres', url, synchronize: first }),
    notifies: true,
  },
  {
    name: 'MariaDB',
    available: mysqlAvailable,
    createDatabase: createMysqlDatabase,
    // TypeORM cannot make this table on MySQL/MariaDB: the shipped migration does.
    typeorm: (url, first) => ({
      type: 'mariadb',
      url,
      migrations: scheduledCommandsMigrations('mariadb'),
      migrationsRun: first,
    }),
    notifies: false,
  },
];

/** Records start times of runs across every app of this file. */
@Injectable()
class Starts {
  static readonly all: { label: string; at: number; attempt: number }[] = [];
}

@ScheduledCommand('timed')
class TimedCommand extends Command<void> {
  constructor(
    readonly label: string,
    readonly sleepMs = 0,
  ) {
    super();
  }
}

@CommandHandler(TimedCommand)
class TimedHandler implements ICommandHandler<TimedCommand> {
  async execute(command: TimedCommand): Promise<void> {
    Starts.all.push({
      label: command.label,
      at: Date.now(),
      attempt: getScheduledCommandContext(command)?.attempt ?? 0,
    });
    if (command.sleepMs > 0) await new Promise((r) => setTimeout(r, command.sleepMs));
  }
}

for (const backend of BACKENDS) {
  describe.skipIf(!backend.available())(`several instances on one ${backend.name} database`, () => {
    let db: TestDatabase;
    const apps: TestApp[] = [];
    let schema = false;

    const instance = async (options: TestAppOptions['options']): Promise<TestApp> => {
      const app = await createTestApp({
        typeorm: { ...backend.typeorm(db.url, !schema), autoLoadEntities: true, poolSize: 10 },
        options: { pollingInterval: 60_000, ...options },
        providers: [...allHandlers, Starts, TimedHandler],
      });
      schema = true;
      apps.push(app);
      return app;
    };

    // A fresh database per test: counts and leftovers of one test never leak into the next.
    beforeEach(async () => {
      db = await backend.createDatabase();
      schema = false;
    });

    afterEach(async () => {
      for (const app of apps.splice(0)) await app.close();
      Starts.all.length = 0;
      await db?.drop();
    });

    it('runs each of 1,000 commands exactly once across three instances', async () => {
      // Without notifications, the other instances see the commands at their next poll: they are
      // due a little later, so that every instance has polled and set its timer for them.
      const polling = backend.notifies ? {} : { pollingInterval: 200 };
      const options = backend.notifies ? {} : { scheduledFor: new Date(Date.now() + 1_500) };
      const a = await instance({ workerId: 'a', concurrency: 20, ...polling });
      const b = await instance({ workerId: 'b', concurrency: 20, ...polling });
      const c = await instance({ workerId: 'c', concurrency: 20, ...polling });
      const ids = await a.scheduler.scheduleMany(
        Array.from({ length: 1000 }, (_, i) => ({ command: new LabelCommand(`n${i}`), options })),
      );
      await until(async () => (await a.store.getCompletedCount()) === 1000, 60_000);
      const runs = [a, b, c].flatMap((x) => x.app.get(Journal).names());
      expect(runs).toHaveLength(1000);
      expect(new Set(runs).size).toBe(1000);
      expect(new Set(ids).size).toBe(1000);
      expect(await a.store.countByStatus()).toMatchObject({
        pending: 0,
        processing: 0,
        completed: 1000,
      });
      // Every instance did some of the work: the claims are shared, not serialised on one instance.
      expect(
        [a, b, c].filter((x) => x.app.get(Journal).runs.length > 0).length,
      ).toBeGreaterThanOrEqual(2);
    });

    if (backend.notifies) {
      it('wakes another instance through LISTEN/NOTIFY and fires a future command on time, not at the next poll', async () => {
        const producer = await instance({ enabled: false });
        await instance({ workerId: 'listener' });
        const t0 = Date.now();
        await producer.scheduler.schedule(new TimedCommand('now'));
        await until(() => Starts.all.some((s) => s.label === 'now'), 10_000);
        expect(Starts.all.find((s) => s.label === 'now')!.at - t0).toBeLessThan(5_000);

        const dueAt = Date.now() + 700;
        await producer.scheduler.schedule(new TimedCommand('future'), {
          scheduledFor: new Date(dueAt),
        });
        await until(() => Starts.all.some((s) => s.label === 'future'), 10_000);
        const late = Starts.all.find((s) => s.label === 'future')!.at - dueAt;
        // The polling interval is 60 s: only the timer set from the notification can start it this soon.
        expect(late).toBeGreaterThanOrEqual(-5);
        expect(late).toBeLessThan(5_000);
      });
    } else {
      it('starts a command scheduled on another instance at its next poll, without notifications', async () => {
        const producer = await instance({ enabled: false });
        await instance({ workerId: 'poller', pollingInterval: 500 });
        const t0 = Date.now();
        await producer.scheduler.schedule(new TimedCommand('polled'));
        await until(() => Starts.all.some((s) => s.label === 'polled'), 10_000);
        const latency = Starts.all.find((s) => s.label === 'polled')!.at - t0;
        console.log(
          `[${backend.name}] a command scheduled on another instance started after ${latency} ms (polling every 500 ms)`,
        );
        expect(latency).toBeLessThan(5_000);
      });
    }

    it('takes over a command whose worker died once its lease runs out, counting the lost attempt', async () => {
      const producer = await instance({ enabled: false });
      const id = await producer.scheduler.schedule(new TimedCommand('orphaned'));
      // A worker that claims and then dies: its claim holds a 1 s lease that nobody renews.
      const [claimed] = await producer.store.claim({
        workerId: 'dead-worker',
        limit: 1,
        leaseMs: 1_000,
      });
      expect(claimed?.id).toBe(id);
      const survivor = await instance({ workerId: 'survivor', pollingInterval: 200 });
      await until(
        async () => (await survivor.scheduler.getStatus(id))?.status === 'completed',
        15_000,
      );
      const entry = await survivor.scheduler.getStatus(id);
      expect(entry).toMatchObject({ attempts: 2, retryCount: 1 });
      expect(entry?.errorMessage).toMatch(/dead-worker/);
      expect(survivor.events.of(ScheduledCommandRetryingEvent).map((e) => e.commandId)).toContain(
        id,
      );
      expect(Starts.all.filter((s) => s.label === 'orphaned').map((s) => s.attempt)).toEqual([2]);
    });

    it('keeps a long-running command to its worker by renewing its lease (heartbeat)', async () => {
      const a = await instance({ workerId: 'runner', leaseDuration: 1_000 });
      const b = await instance({ workerId: 'thief', pollingInterval: 200, leaseDuration: 1_000 });
      const id = await a.scheduler.schedule(new TimedCommand('long', 3_000));
      await until(async () => (await a.scheduler.getStatus(id))?.status === 'completed', 15_000);
      expect(Starts.all.filter((s) => s.label === 'long')).toHaveLength(1);
      expect((await a.scheduler.getStatus(id))?.attempts).toBe(1);
      expect(b.events.of(ScheduledCommandRetryingEvent)).toHaveLength(0);
    });

    it('treats a handler running past commandTimeout as a failed attempt, aborts its signal, and starts its retry only once it returned', async () => {
      const a = await instance({
        workerId: 'timeouts',
        commandTimeout: 200,
        retryDelayBase: 100,
        maxRetries: 1,
      });
      const gates = a.app.get(Gates);
      const id = await a.scheduler.schedule(new GateCommand('never-opens'));
      await until(async () => (await a.scheduler.getStatus(id))?.retryCount === 1, 15_000);
      // The timed-out handler still runs: its retry (due after 100 ms) waits for it in this instance.
      await new Promise((r) => setTimeout(r, 400));
      expect(gates.started).toEqual(['never-opens']);
      expect(a.poller.overrunCount).toBe(1);
      gates.open('never-opens');
      await until(async () => (await a.scheduler.getStatus(id))?.status === 'failed', 15_000);
      const entry = await a.scheduler.getStatus(id);
      expect(entry?.errorMessage).toMatch(/commandTimeout \(200 ms\)/);
      expect(entry).toMatchObject({ attempts: 2, retryCount: 1 });
      expect(a.app.get(Gates).signals.get('never-opens')?.aborted).toBe(true);
    });

    it('runs at most `concurrency` commands at once per instance and keeps claiming as slots free up', async () => {
      const a = await instance({ workerId: 'narrow', concurrency: 3 });
      const gates = a.app.get(Gates);
      const names = Array.from({ length: 8 }, (_, i) => `g${i}`);
      const ids = await a.scheduler.scheduleMany(
        names.map((n) => ({ command: new GateCommand(n) })),
      );
      await until(() => gates.started.length === 3);
      await new Promise((r) => setTimeout(r, 200));
      expect(gates.started).toHaveLength(3);
      for (let i = 0; i < names.length; i++) {
        await until(() => gates.started.length > i);
        gates.open(gates.started[i]);
      }
      await until(async () =>
        (await Promise.all(ids.map((id) => a.scheduler.getStatus(id)))).every(
          (e) => e?.status === 'completed',
        ),
      );
      expect(new Set(gates.started).size).toBe(8);
      expect(a.app.get(CommandScheduler)).toBeDefined();
    });
  });
}
