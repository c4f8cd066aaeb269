import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Injectable,
  Module,
  type DynamicModule,
  type INestApplication,
  type Provider,
  type Type,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { CommandBus, CqrsModule, EventsHandler, type IEventHandler } from '@nestjs/cqrs';
import { TypeOrmModule } from '@nestjs/typeorm';
import {
  Clock,
  ScheduledCommandsWorker,
  CommandScheduler,
  ScheduledCommandCancelledEvent,
  ScheduledCommandCompletedEvent,
  ScheduledCommandExpiredEvent,
  ScheduledCommandFailedEvent,
  ScheduledCommandRequeuedEvent,
  ScheduledCommandRescheduledEvent,
  ScheduledCommandRetryingEvent,
  ScheduledCommandsModule,
  ScheduledCommandStore,
  type ScheduledCommandEntry,
  type ScheduledCommandsModuleExtras,
  type ScheduledCommandsModuleOptions,
} from 'nestjs-scheduled-commands';

/** Every lifecycle event the app received, in order. */
@Injectable()
export class EventLog {
  readonly events: object[] = [];
  of<T extends object>(type: new (...args: never[]) => T): T[] {
    return this.events.filter((e): e is T => e instanceof type);
  }
}

@EventsHandler(
  ScheduledCommandCompletedEvent,
  ScheduledCommandFailedEvent,
  ScheduledCommandRetryingEvent,
  ScheduledCommandExpiredEvent,
  ScheduledCommandCancelledEvent,
  ScheduledCommandRescheduledEvent,
  ScheduledCommandRequeuedEvent,
)
export class EventLogHandler implements IEventHandler<object> {
  constructor(private readonly log: EventLog) {}
  handle(event: object): void {
    this.log.events.push(event);
  }
}

/** A temporary directory holding a SQLite file; `remove()` deletes it. */
export function tempDatabase(): { file: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'sc-e2e-'));
  return {
    file: join(dir, 'app.sqlite'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

export interface TestAppOptions {
  /** SQLite file (a new temporary one when absent). */
  database?: string;
  /** TypeORM connection options replacing the SQLite default (e.g. PostgreSQL). */
  typeorm?: Record<string, unknown>;
  options?: ScheduledCommandsModuleOptions & ScheduledCommandsModuleExtras;
  providers?: Provider[];
  imports?: (DynamicModule | Type<unknown>)[];
}

export interface TestApp {
  app: INestApplication;
  scheduler: CommandScheduler;
  store: ScheduledCommandStore;
  poller: ScheduledCommandsWorker;
  commandBus: CommandBus;
  events: EventLog;
  clock: Clock;
  /** Runs a worker pass and waits until every command it started is written back. */
  runDue(): Promise<void>;
  /** The entry with this id; fails the test when there is none. */
  entry(id: string): Promise<ScheduledCommandEntry>;
  close(): Promise<void>;
}

/** Boots a real Nest app (CQRS, TypeORM on SQLite by default, the library) with the given handlers. */
export async function createTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const temp = opts.database || opts.typeorm ? undefined : tempDatabase();
  const typeorm = opts.typeorm ?? {
    type: 'better-sqlite3',
    database: opts.database ?? temp!.file,
    autoLoadEntities: true,
    synchronize: true,
  };

  @Module({
    imports: [
      CqrsModule.forRoot(),
      TypeOrmModule.forRoot(typeorm as never),
      ScheduledCommandsModule.forRoot({ pollingInterval: 60_000, ...opts.options }),
      ...(opts.imports ?? []),
    ],
    providers: [EventLog, EventLogHandler, ...(opts.providers ?? [])],
  })
  class TestAppModule {}

  const moduleRef = await Test.createTestingModule({ imports: [TestAppModule] }).compile();
  moduleRef.useLogger(process.env.TEST_LOGS ? undefined! : ['error']);
  const app = moduleRef.createNestApplication();
  await app.init();
  const poller = app.get(ScheduledCommandsWorker);
  return {
    app,
    scheduler: app.get(CommandScheduler),
    store: app.get(ScheduledCommandStore),
    poller,
    commandBus: app.get(CommandBus),
    events: app.get(EventLog),
    clock: app.get(Clock),
    async runDue() {
      await poller.tick();
      await poller.drain();
    },
    async entry(id: string) {
      const entry = await app.get(CommandScheduler).getStatus(id);
      if (!entry) throw new Error(`no entry ${id}`);
      return entry;
    },
    async close() {
      await app.close();
      temp?.remove();
    },
  };
}

/** Waits until `check` holds, polling every 10 ms; fails after `ms`. */
export async function until(check: () => Promise<boolean> | boolean, ms = 10_000): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`condition not met within ${ms} ms`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
