import { Injectable } from '@nestjs/common';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Clock,
  DuplicateCommandNameError,
  InMemoryScheduledCommandStore,
  InvalidModuleOptionsError,
  ScheduledCommand,
  ScheduledCommandCompletedEvent,
  ScheduledCommandFailedEvent,
  ScheduledCommandsModule,
  TypeOrmScheduledCommandStore,
} from 'nestjs-scheduled-commands';
import { DataSource } from 'typeorm';
import { ManualClock, newCommand } from 'nestjs-scheduled-commands/testing';
import { Test } from '@nestjs/testing';
import { CqrsModule, Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import { createTestApp, tempDatabase, until, type TestApp } from './support/app.js';
import {
  allHandlers,
  GateCommand,
  Gates,
  Journal,
  LabelCommand,
  SendEmailCommand,
} from './support/commands.js';

describe('application lifecycle', () => {
  const apps: TestApp[] = [];
  const dbs: { remove(): void }[] = [];
  afterEach(async () => {
    for (const app of apps.splice(0)) await app.close().catch(() => undefined);
    for (const db of dbs.splice(0)) db.remove();
  });

  it('keeps pending commands across a restart and runs them in the next app on the same file', async () => {
    const db = tempDatabase();
    dbs.push(db);
    const first = await createTestApp({
      database: db.file,
      options: { enabled: false },
      providers: allHandlers,
    });
    const soon = await first.scheduler.schedule(new SendEmailCommand('after@restart', 'hi'));
    const later = await first.scheduler.schedule(new LabelCommand('later'), { delay: 300 });
    const cancelled = await first.scheduler.schedule(new LabelCommand('cancelled'), { delay: 300 });
    await first.scheduler.cancel(cancelled);
    await first.close();

    const second = await createTestApp({
      database: db.file,
      options: { pollingInterval: 50 },
      providers: allHandlers,
    });
    apps.push(second);
    await until(async () => (await second.scheduler.getStatus(later))?.status === 'completed');
    expect((await second.scheduler.getStatus(soon))?.status).toBe('completed');
    expect((await second.scheduler.getStatus(cancelled))?.status).toBe('cancelled');
    expect(second.app.get(Journal).names().sort()).toEqual(['email:after@restart', 'later']);
  });

  it('starts a command scheduled for now at once, without waiting for the polling interval', async () => {
    const t = await createTestApp({
      options: { pollingInterval: 600_000 },
      providers: allHandlers,
    });
    apps.push(t);
    const id = await t.scheduler.schedule(new LabelCommand('now'));
    await until(async () => (await t.scheduler.getStatus(id))?.status === 'completed', 5_000);
    const delayed = await t.scheduler.schedule(new LabelCommand('in-200-ms'), { delay: 200 });
    await until(async () => (await t.scheduler.getStatus(delayed))?.status === 'completed', 5_000);
  });

  it('sets the timer for the soonest command of a scheduleMany batch, whatever its position', async () => {
    const t = await createTestApp({
      options: { pollingInterval: 600_000 },
      providers: allHandlers,
    });
    apps.push(t);
    await t.poller.drain(); // the start-up pass is over: only the scheduling can set a timer now
    await new Promise((r) => setTimeout(r, 100));
    const [later, soon] = await t.scheduler.scheduleMany([
      {
        command: new LabelCommand('in-ten-minutes'),
        options: { scheduledFor: new Date(Date.now() + 600_000) },
      },
      { command: new LabelCommand('in-200-ms'), options: { delay: 200 } },
    ]);
    await until(async () => (await t.scheduler.getStatus(soon))?.status === 'completed', 5_000);
    expect((await t.scheduler.getStatus(later))?.status).toBe('pending');
  });

  it('on shutdown lets a running command finish, writes its result and publishes its event before closing', async () => {
    const db = tempDatabase();
    dbs.push(db);
    const t = await createTestApp({
      database: db.file,
      options: { pollingInterval: 600_000, shutdownTimeout: 5_000 },
      providers: allHandlers,
    });
    const gates = t.app.get(Gates);
    const id = await t.scheduler.schedule(new GateCommand('slow'));
    await until(() => gates.started.includes('slow'));
    const closing = t.app.close();
    await new Promise((r) => setTimeout(r, 50));
    gates.open('slow');
    await closing;
    expect(t.events.of(ScheduledCommandCompletedEvent).map((e) => e.commandId)).toEqual([id]);
    const reopened = await createTestApp({
      database: db.file,
      options: { enabled: false },
      providers: allHandlers,
    });
    apps.push(reopened);
    expect(await reopened.scheduler.getResult(id)).toBe('opened slow');
    expect((await reopened.scheduler.getStatus(id))?.status).toBe('completed');
  });

  it('on shutdown releases a command still running after shutdownTimeout, without counting the attempt', async () => {
    const db = tempDatabase();
    dbs.push(db);
    const t = await createTestApp({
      database: db.file,
      options: { pollingInterval: 600_000, shutdownTimeout: 100 },
      providers: allHandlers,
    });
    const gates = t.app.get(Gates);
    const id = await t.scheduler.schedule(new GateCommand('stuck'));
    await until(() => gates.started.includes('stuck'));
    await t.app.close();
    expect(gates.signals.get('stuck')?.aborted).toBe(true);
    const reopened = await createTestApp({
      database: db.file,
      options: { enabled: false },
      providers: allHandlers,
    });
    apps.push(reopened);
    expect(await reopened.scheduler.getStatus(id)).toMatchObject({
      status: 'pending',
      attempts: 0,
      lockedBy: null,
    });
  });

  it('works through a backlog from where its last full claim started, then claims from the start before going idle', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const store = new InMemoryScheduledCommandStore(clock);
    const at = (seconds: number) => new Date(clock.now().getTime() + seconds * 1000);
    const late = newCommand({
      commandType: 'label',
      payload: JSON.stringify({ label: 'late' }),
      scheduledFor: at(-3600),
    });
    const claims: { from: number | null; ids: string[] }[] = [];
    let recording = false;
    const claim = store.claim.bind(store);
    store.claim = async (request) => {
      const claimed = await claim(request);
      if (!recording) return claimed;
      claims.push({
        from: request.scheduledFrom ? request.scheduledFrom.getTime() : null,
        ids: claimed.map((e) => e.id),
      });
      // Right after the first full batch, an entry due long before it turns up without a wake-up
      // (as one released by another instance would): the claims that follow start after it.
      if (claims.length === 1) await store.schedule(late);
      return claimed;
    };
    const t = await createTestApp({
      options: { store, clock, pollingInterval: 600_000, batchSize: 2, concurrency: 2 },
      providers: allHandlers,
    });
    apps.push(t);
    await t.poller.tick(); // the start-up pass, on the empty store, is over
    recording = true;
    const ids = await t.scheduler.scheduleMany(
      [-60, -50, -40, -30, -20, -10].map((s) => ({
        command: new LabelCommand(`s${s}`),
        options: { scheduledFor: at(s) },
      })),
    );

    // No polling pass runs (the interval is 10 minutes): the claims alone get through all of it.
    await until(async () => (await t.scheduler.getStatus(late.id))?.status === 'completed');
    for (const id of ids) expect((await t.entry(id)).status).toBe('completed');
    expect(claims[0]).toEqual({ from: null, ids: ids.slice(0, 2) });
    // The next claim starts at the earliest due time of the full batch before it, and passes over
    // the late entry, as every claim does while the backlog lasts.
    expect(claims[1].from).toBe(at(-60).getTime());
    expect(claims[1].ids[0]).toBe(ids[2]);
    const takesLate = claims.findIndex((c) => c.ids.includes(late.id));
    expect(claims.slice(1, takesLate).every((c) => c.from !== null)).toBe(true);
    // Then a claim comes back short and the worker claims once more from the start: it gets the late one.
    expect(claims[takesLate].from).toBeNull();
    expect(claims[takesLate - 1]).toMatchObject({ ids: [] });
    expect(t.app.get(Journal).names().slice(0, 6)).toEqual([
      's-60',
      's-50',
      's-40',
      's-30',
      's-20',
      's-10',
    ]);

    // A polling pass claims from the start whatever the last claim was.
    const before = claims.length;
    await t.runDue();
    expect(claims.slice(before).every((c) => c.from === null)).toBe(true);
  });

  it('with a backlog of short commands, claims whole batches rather than the first slots freed', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const store = new InMemoryScheduledCommandStore(clock);
    const limits: number[] = [];
    const claim = store.claim.bind(store);
    store.claim = async (request) => {
      limits.push(request.limit);
      return claim(request);
    };
    const t = await createTestApp({
      options: { store, clock, pollingInterval: 600_000, batchSize: 10, concurrency: 10 },
      providers: allHandlers,
    });
    apps.push(t);
    await t.poller.tick();
    limits.length = 0;
    const ids = await t.scheduler.scheduleMany(
      Array.from({ length: 50 }, (_, i) => ({ command: new LabelCommand(`b${i}`) })),
    );
    await until(async () => (await store.countByStatus()).completed === 50);
    for (const id of ids) expect((await t.entry(id)).status).toBe('completed');
    // The handlers of a batch finish together; the slots they free go into one claim, not into a
    // claim per few slots (the smallest claim worth a statement is a quarter of a batch).
    expect(limits.length).toBeGreaterThanOrEqual(5);
    expect(limits.every((limit) => limit === 10)).toBe(true);
  });

  it('starts due commands in a polling pass before its maintenance (a long purge) is over', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const store = new InMemoryScheduledCommandStore(clock);
    let purgeGate: Promise<void> | undefined;
    let openPurge = () => {};
    const purge = store.purge.bind(store);
    store.purge = async (request) => {
      await purgeGate;
      return purge(request);
    };
    const t = await createTestApp({
      options: { store, clock, pollingInterval: 600_000, maintenanceInterval: 1_000 },
      providers: allHandlers,
    });
    apps.push(t);
    await t.poller.tick(); // the start-up pass and its purge are over
    purgeGate = new Promise<void>((resolve) => (openPurge = resolve));
    clock.advance(5_000); // the next pass purges again
    // Due, but no wake-up: only a polling pass finds it.
    const command = newCommand({ commandType: 'label', payload: JSON.stringify({ label: 'due' }) });
    await store.schedule(command);
    const pass = t.poller.tick();
    try {
      await until(
        async () => (await t.scheduler.getStatus(command.id))?.status === 'completed',
        3_000,
      );
    } finally {
      openPurge();
    }
    await pass;
    expect(t.app.get(Journal).names()).toEqual(['due']);
  });

  it('never runs two ticks at once and survives a store that throws', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const store = new InMemoryScheduledCommandStore(clock);
    let failures = 2;
    const claim = store.claim.bind(store);
    store.claim = async (request) => {
      if (failures-- > 0) throw new Error('database is down');
      return claim(request);
    };
    let inPass = 0;
    let maxInPass = 0;
    const expireDue = store.expireDue.bind(store);
    store.expireDue = async (limit) => {
      maxInPass = Math.max(maxInPass, ++inPass);
      await new Promise((r) => setTimeout(r, 20));
      inPass--;
      return expireDue(limit);
    };
    const t = await createTestApp({
      options: { store, clock, pollingInterval: 600_000 },
      providers: allHandlers,
    });
    apps.push(t);
    const id = await t.scheduler.schedule(new LabelCommand('eventually'));
    await Promise.all([t.poller.tick(), t.poller.tick(), t.poller.tick()]);
    expect(maxInPass).toBe(1);
    await until(async () => (await t.scheduler.getStatus(id))?.status === 'completed', 10_000);
  });

  it('writes a completion later when the store fails to record it, and never runs the command again', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const store = new InMemoryScheduledCommandStore(clock);
    let failures = 3;
    const complete = store.complete.bind(store);
    store.complete = async (c) => {
      if (failures-- > 0) throw new Error('write failed');
      return complete(c);
    };
    const t = await createTestApp({
      options: { store, clock, pollingInterval: 600_000 },
      providers: allHandlers,
    });
    apps.push(t);
    const id = await t.scheduler.schedule(new LabelCommand('once'));
    await until(async () => (await t.scheduler.getStatus(id))?.status === 'completed', 10_000);
    await t.runDue();
    expect(t.app.get(Journal).names()).toEqual(['once']);
    expect(t.events.of(ScheduledCommandFailedEvent)).toHaveLength(0);
  });
});

describe('module configuration', () => {
  it('accepts forRootAsync with a factory and a custom store instance', async () => {
    const clock = new ManualClock(new Date('2026-01-01T00:00:00Z'));
    const store = new InMemoryScheduledCommandStore(clock);
    @Injectable()
    class Settings {
      readonly retries = 7;
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        CqrsModule.forRoot(),
        ScheduledCommandsModule.forRootAsync({
          store,
          useFactory: (s: Settings) => ({ maxRetries: s.retries, clock, enabled: false }),
          inject: [Settings],
          imports: [
            { module: class SettingsModule {}, providers: [Settings], exports: [Settings] },
          ],
        }),
      ],
      providers: [...allHandlers],
    }).compile();
    const app = moduleRef.createNestApplication();
    await app.init();
    try {
      const { CommandScheduler } = await import('nestjs-scheduled-commands');
      const id = await app.get(CommandScheduler).schedule(new LabelCommand('x'));
      expect((await store.get(id))?.maxRetries).toBe(7);
      expect(app.get(Clock)).toBe(clock);
    } finally {
      await app.close();
    }
  });

  it('accepts a store class extending the TypeORM store, registering its entity as the default does', async () => {
    @Injectable()
    class ConfiguredStore extends TypeOrmScheduledCommandStore {
      constructor(dataSource: DataSource, clock: Clock) {
        super(dataSource, clock, { preparedStatements: false, configureSqlite: true });
      }
    }
    const t = await createTestApp({ options: { store: ConfiguredStore }, providers: allHandlers });
    try {
      expect(t.store).toBeInstanceOf(ConfiguredStore);
      const id = await t.scheduler.schedule(new LabelCommand('custom-class'));
      await until(async () => (await t.scheduler.getStatus(id))?.status === 'completed');
    } finally {
      await t.close();
    }
  });

  it('fails the start-up with InvalidModuleOptionsError naming the field', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [
        CqrsModule.forRoot(),
        ScheduledCommandsModule.forRoot({
          store: new InMemoryScheduledCommandStore(),
          pollingInterval: -1,
        }),
      ],
    })
      .compile()
      .then(
        (m) => m,
        (e: unknown) => e,
      );
    expect(moduleRef).toBeInstanceOf(InvalidModuleOptionsError);
    expect((moduleRef as InvalidModuleOptionsError).field).toBe('pollingInterval');
  });

  it('fails the start-up when two classes claim one command name', async () => {
    @ScheduledCommand('same-name')
    class A extends Command<void> {}
    @ScheduledCommand('same-name')
    class B extends Command<void> {}
    @CommandHandler(A)
    class AHandler implements ICommandHandler<A> {
      async execute(): Promise<void> {}
    }
    @CommandHandler(B)
    class BHandler implements ICommandHandler<B> {
      async execute(): Promise<void> {}
    }
    const moduleRef = await Test.createTestingModule({
      imports: [
        CqrsModule.forRoot(),
        ScheduledCommandsModule.forRoot({
          store: new InMemoryScheduledCommandStore(),
          enabled: false,
        }),
      ],
      providers: [AHandler, BHandler],
    }).compile();
    const app = moduleRef.createNestApplication();
    await expect(app.init()).rejects.toBeInstanceOf(DuplicateCommandNameError);
    await app.close().catch(() => undefined);
  });
});
