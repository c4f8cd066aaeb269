import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Injectable } from '@nestjs/common';
import { Command, CommandHandler, type ICommandHandler } from '@nestjs/cqrs';
import BetterSqlite3 from 'better-sqlite3';
import { DataSource } from 'typeorm';
import {
  getScheduledCommandContext,
  LeaseLostError,
  ScheduledCommand,
  ScheduledCommandCompletedEvent,
  ScheduledCommandsError,
  TransactionsNotSupportedError,
  InMemoryScheduledCommandStore,
} from 'nestjs-scheduled-commands';
import { createTestApp, until, type TestApp } from './support/app.js';
import { testDatabases, type OpenedDatabase } from './support/databases.js';

/** What the handler should do; set by each test. */
@Injectable()
class Script {
  /** Resolves when the test lets the transaction's work go on. */
  hold: Promise<void> | undefined;
  /** Called once the work has started (inside the transaction, before it waits for `hold`). */
  onStarted: (() => void) | undefined;
  failFirstAttempt = false;
  callTwice = false;
  readonly errors: unknown[] = [];
  placeholder = '?';
}

@ScheduledCommand('book-seat')
class BookSeatCommand extends Command<{ seat: string }> {
  constructor(readonly seat: string) {
    super();
  }
}

@CommandHandler(BookSeatCommand)
class BookSeatHandler implements ICommandHandler<BookSeatCommand> {
  constructor(private readonly script: Script) {}

  async execute(command: BookSeatCommand): Promise<{ seat: string }> {
    const context = getScheduledCommandContext(command)!;
    const s = this.script;
    try {
      const result = await context.transaction(async (manager) => {
        s.onStarted?.();
        await s.hold;
        await manager.query(`INSERT INTO bookings (seat, attempt) VALUES (${s.placeholder})`, [
          command.seat,
          context.attempt,
        ]);
        if (s.failFirstAttempt && context.attempt === 1) throw new Error('card declined');
        return { seat: command.seat };
      });
      if (s.callTwice) await context.transaction(async () => undefined);
      return result;
    } catch (error) {
      s.errors.push(error);
      throw error;
    }
  }
}

for (const database of testDatabases) {
  describe.skipIf(database.skip)(`context.transaction() in a handler (${database.name})`, () => {
    let t: TestApp;
    let script: Script;
    let dataSource: DataSource;
    let db: OpenedDatabase;

    beforeAll(async () => {
      db = await database.open();
      t = await createTestApp({
        typeorm: db.typeorm,
        options: {
          pollingInterval: 60_000,
          retryDelayBase: 0,
          leaseDuration: 60_000,
          concurrency: 20,
        },
        providers: [Script, BookSeatHandler],
      });
      script = t.app.get(Script);
      script.placeholder = `${db.param(1)}, ${db.param(2)}`;
      dataSource = t.app.get(DataSource);
      await dataSource.query(
        'CREATE TABLE bookings (seat varchar(20) NOT NULL, attempt integer NOT NULL)',
      );
    });

    afterAll(async () => {
      await t?.close();
      await db?.close();
    });

    beforeEach(async () => {
      await t.poller.drain();
      await dataSource.query('DELETE FROM bookings');
      Object.assign(script, {
        hold: undefined,
        onStarted: undefined,
        failFirstAttempt: false,
        callTwice: false,
      });
      script.errors.length = 0;
      t.events.events.length = 0;
    });

    const takeOver = async (id: string) => {
      const sql = `UPDATE scheduled_commands SET locked_by = 'other-worker', attempts = attempts + 1 WHERE id = ${db.param(1)}`;
      if (database.name === 'PostgreSQL') {
        await dataSource.query(sql, [id]);
        return;
      }
      const sqlite = new BetterSqlite3(db.typeorm.database as string);
      try {
        sqlite.prepare(sql).run(id);
      } finally {
        sqlite.close();
      }
    };

    const bookings = async () =>
      (await dataSource.query('SELECT seat, attempt FROM bookings ORDER BY seat, attempt')) as {
        seat: string;
        attempt: number;
      }[];

    it('commits the effect and the completion (with its result) together; the worker writes nothing more', async () => {
      const id = await t.scheduler.schedule(new BookSeatCommand('1A'));
      await until(async () => (await t.entry(id)).status === 'completed');
      expect(await t.scheduler.getResult(id)).toEqual({ seat: '1A' });
      expect((await bookings()).map((b) => b.seat)).toEqual(['1A']);
      await until(() => t.events.of(ScheduledCommandCompletedEvent).length === 1);
      const [event] = t.events.of(ScheduledCommandCompletedEvent);
      expect(event.commandId).toBe(id);
      expect(event.result).toEqual({ seat: '1A' });
      const entry = await t.entry(id);
      expect(entry.attempts).toBe(1);
      expect(entry.lockedBy).toBeNull();
    });

    it('a failing transaction rolls its effect back; the retry commits exactly one', async () => {
      script.failFirstAttempt = true;
      const id = await t.scheduler.schedule(new BookSeatCommand('2B'));
      await until(async () => (await t.entry(id)).status === 'completed', 15_000);
      expect(await bookings()).toEqual([{ seat: '2B', attempt: 2 }]);
      expect((await t.entry(id)).attempts).toBe(2);
    });

    it('when the lease is gone by the end of the work, rolls back and throws LeaseLostError', async () => {
      let release!: () => void;
      script.hold = new Promise((resolve) => (release = resolve));
      let started!: () => void;
      const startedYet = new Promise<void>((resolve) => (started = resolve));
      script.onStarted = started;
      const id = await t.scheduler.schedule(new BookSeatCommand('3C'));
      await startedYet;
      // Another worker takes the command over (as after its lease ran out): a new holder and attempt.
      // On a connection of its own: on SQLite the DataSource's one connection is inside the handler's
      // transaction now.
      await takeOver(id);
      release();
      await until(() => script.errors.length === 1);
      expect(script.errors[0]).toBeInstanceOf(LeaseLostError);
      expect((script.errors[0] as LeaseLostError).commandId).toBe(id);
      await t.poller.drain();
      expect(await bookings()).toEqual([]);
      const entry = await t.entry(id);
      // The worker wrote nothing over the new holder's run.
      expect(entry.status).toBe('processing');
      expect(entry.lockedBy).toBe('other-worker');
      expect(t.events.of(ScheduledCommandCompletedEvent)).toEqual([]);
    });

    it('runs many such handlers at once (concurrency 20): every command completes, one row each', async () => {
      const seats = Array.from({ length: 60 }, (_, i) => `C${i}`);
      const ids = await t.scheduler.scheduleMany(
        seats.map((seat) => ({ command: new BookSeatCommand(seat) })),
      );
      await until(
        async () =>
          (
            await t.scheduler.find(
              { commandType: 'book-seat', status: 'completed' },
              { limit: 1000 },
            )
          ).items.filter((e) => ids.includes(e.id)).length === ids.length,
        20_000,
      );
      expect(script.errors).toEqual([]);
      expect((await bookings()).map((b) => b.seat).sort()).toEqual([...seats].sort());
    });

    it('refuses a second context.transaction() in the same run (the command is already completed)', async () => {
      script.callTwice = true;
      const id = await t.scheduler.schedule(new BookSeatCommand('4D'));
      await until(() => script.errors.length === 1);
      expect(script.errors[0]).toBeInstanceOf(ScheduledCommandsError);
      await until(async () => (await t.entry(id)).status === 'completed');
      expect((await bookings()).map((b) => b.seat)).toEqual(['4D']);
    });
  });
}

describe('context.transaction() with a store that has no transactions', () => {
  it('fails the run with TransactionsNotSupportedError', async () => {
    const t = await createTestApp({
      options: {
        store: new InMemoryScheduledCommandStore(),
        pollingInterval: 60_000,
        maxRetries: 0,
      },
      providers: [Script, BookSeatHandler],
    });
    try {
      const script = t.app.get(Script);
      const id = await t.scheduler.schedule(new BookSeatCommand('5E'));
      await until(() => script.errors.length === 1);
      expect(script.errors[0]).toBeInstanceOf(TransactionsNotSupportedError);
      await until(async () => (await t.entry(id)).status === 'failed');
    } finally {
      await t.close();
    }
  });
});
