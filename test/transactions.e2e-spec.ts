import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DataSource, type EntityManager } from 'typeorm';
import {
  ForeignTransactionError,
  InvalidScheduleOptionsError,
  ScheduledCommandCancelledEvent,
  ScheduledCommandRescheduledEvent,
  TransactionNotActiveError,
} from 'nestjs-scheduled-commands';
import { createTestApp, until, type TestApp } from './support/app.js';
import { allHandlers, Journal, LabelCommand, WelcomeCommand } from './support/commands.js';
import { testDatabases, type OpenedDatabase } from './support/databases.js';

/** Thrown inside a transaction to roll it back. */
class Rollback extends Error {}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

for (const database of testDatabases) {
  describe.skipIf(database.skip)(`scheduling inside a transaction (${database.name})`, () => {
    let t: TestApp;
    let dataSource: DataSource;
    let journal: Journal;
    let db: OpenedDatabase;

    beforeAll(async () => {
      db = await database.open();
      // Only a wake-up can start a command before the (one minute) poll.
      t = await createTestApp({
        typeorm: db.typeorm,
        options: { pollingInterval: 60_000 },
        providers: allHandlers,
      });
      dataSource = t.app.get(DataSource);
      journal = t.app.get(Journal);
      await dataSource.query('CREATE TABLE tx_users (id varchar(50) PRIMARY KEY)');
    });

    afterAll(async () => {
      await t?.close();
      await db?.close();
    });

    beforeEach(async () => {
      await t.poller.drain();
      await dataSource.query('DELETE FROM scheduled_commands');
      await dataSource.query('DELETE FROM tx_users');
      journal.runs.length = 0;
      t.events.events.length = 0;
    });

    const addUser = (manager: EntityManager, id: string) =>
      manager.query(`INSERT INTO tx_users (id) VALUES (${db.param(1)})`, [id]);
    const users = async () =>
      (await dataSource.query('SELECT id FROM tx_users ORDER BY id')).map(
        (r: { id: string }) => r.id,
      );
    const total = async () => (await t.scheduler.getStatistics()).total;

    it('stores the command with the commit, and the worker starts it at once (not at the next poll)', async () => {
      let id = '';
      let committedAt = 0;
      await dataSource.transaction(async (manager) => {
        await addUser(manager, 'ada');
        id = await t.scheduler.schedule(new WelcomeCommand('ada'), { manager });
        // Not visible outside the transaction, and not started while it is open.
        await sleep(100);
        expect(journal.names()).toEqual([]);
      });
      committedAt = Date.now();
      await until(() => journal.names().includes('welcome:ada'), 10_000);
      const latency = Date.now() - committedAt;
      console.log(
        `${database.name}: commit → handler start ${latency} ms (polling interval 60000 ms)`,
      );
      expect(latency).toBeLessThan(10_000);
      expect(await users()).toEqual(['ada']);
      await until(async () => (await t.entry(id)).status === 'completed');
    });

    it('stores nothing and runs nothing when the transaction rolls back', async () => {
      // A worker pass running while the transaction is open must not see (and start) the command.
      let pass: Promise<void> = Promise.resolve();
      await expect(
        dataSource.transaction(async (manager) => {
          await addUser(manager, 'bob');
          await t.scheduler.schedule(new LabelCommand('rolled-back'), { manager });
          await t.scheduler.scheduleMany(
            [
              { command: new LabelCommand('rolled-back-2') },
              { command: new LabelCommand('rolled-back-3') },
            ],
            { manager },
          );
          pass = t.poller.tick();
          await sleep(200);
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);
      await pass;
      await t.runDue();
      await sleep(100);
      expect(journal.names()).toEqual([]);
      expect(await users()).toEqual([]);
      expect(await total()).toBe(0);
      expect(t.events.events).toEqual([]);
    });

    it('scheduleMany with manager stores every command at the commit', async () => {
      const ids = await dataSource.transaction((manager) =>
        t.scheduler.scheduleMany(
          [
            { command: new LabelCommand('m1') },
            { command: new LabelCommand('m2'), options: { delay: 60_000 } },
          ],
          { manager },
        ),
      );
      expect(ids).toHaveLength(2);
      await until(() => journal.names().includes('m1'));
      expect((await t.entry(ids[1])).status).toBe('pending');
    });

    it('cancel with manager publishes its event after the commit, never after a rollback', async () => {
      const id = await t.scheduler.schedule(new LabelCommand('later'), { delay: 60_000 });
      await expect(
        dataSource.transaction(async (manager) => {
          expect(await t.scheduler.cancel(id, { manager })).toBe(true);
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);
      expect((await t.entry(id)).status).toBe('pending');
      expect(t.events.of(ScheduledCommandCancelledEvent)).toEqual([]);

      await dataSource.transaction(async (manager) => {
        expect(await t.scheduler.cancel(id, { manager })).toBe(true);
        await sleep(20);
        expect(t.events.of(ScheduledCommandCancelledEvent)).toEqual([]);
      });
      await until(() => t.events.of(ScheduledCommandCancelledEvent).length === 1);
      expect(t.events.of(ScheduledCommandCancelledEvent)[0].commandId).toBe(id);
      expect((await t.entry(id)).status).toBe('cancelled');
    });

    it('reschedule with manager moves the command at the commit, publishes after it, wakes the worker', async () => {
      const id = await t.scheduler.schedule(new LabelCommand('moved'), { delay: 60_000 });
      await expect(
        dataSource.transaction(async (manager) => {
          expect(await t.scheduler.reschedule(id, { delay: 0 }, { manager })).toBe(true);
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);
      await sleep(100);
      expect(journal.names()).toEqual([]);
      expect(t.events.of(ScheduledCommandRescheduledEvent)).toEqual([]);

      await dataSource.transaction(async (manager) => {
        expect(await t.scheduler.reschedule(id, { delay: 0 }, { manager })).toBe(true);
        await sleep(20);
        expect(t.events.of(ScheduledCommandRescheduledEvent)).toEqual([]);
      });
      await until(() => journal.names().includes('moved'));
      expect(t.events.of(ScheduledCommandRescheduledEvent)).toHaveLength(1);
    });

    it('idempotency keys: the same key twice in one transaction, then after a commit and after a rollback', async () => {
      const [first, again] = await dataSource.transaction(async (manager) => [
        await t.scheduler.schedule(new LabelCommand('k'), {
          manager,
          idempotencyKey: 'k1',
          delay: 60_000,
        }),
        await t.scheduler.schedule(new LabelCommand('k'), {
          manager,
          idempotencyKey: 'k1',
          delay: 60_000,
        }),
      ]);
      expect(again).toBe(first);
      const later = await dataSource.transaction((manager) =>
        t.scheduler.schedule(new LabelCommand('k'), { manager, idempotencyKey: 'k1' }),
      );
      expect(later).toBe(first);

      let rolledBack = '';
      await expect(
        dataSource.transaction(async (manager) => {
          rolledBack = await t.scheduler.schedule(new LabelCommand('k'), {
            manager,
            idempotencyKey: 'k2',
            delay: 60_000,
          });
          throw new Rollback();
        }),
      ).rejects.toBeInstanceOf(Rollback);
      const fresh = await dataSource.transaction((manager) =>
        t.scheduler.schedule(new LabelCommand('k'), {
          manager,
          idempotencyKey: 'k2',
          delay: 60_000,
        }),
      );
      expect(fresh).not.toBe(rolledBack);
      expect(await t.scheduler.getStatus(rolledBack)).toBeNull();
      expect(await total()).toBe(2);
    });

    // SQLite: TypeORM runs the transactions of one DataSource on its one connection, so they cannot overlap.
    const concurrent = database.name === 'PostgreSQL' ? it : () => undefined;
    concurrent(
      'idempotency keys in two concurrent transactions: the loser waits for the winner and gets its id, or its own after a rollback',
      async () => {
        for (const winnerCommits of [true, false]) {
          const key = `race-${winnerCommits}`;
          let winnerId = '';
          let releaseWinner!: () => void;
          const winnerHolds = new Promise<void>((resolve) => (releaseWinner = resolve));
          let scheduled!: () => void;
          const winnerScheduled = new Promise<void>((resolve) => (scheduled = resolve));
          const winner = dataSource
            .transaction(async (manager) => {
              winnerId = await t.scheduler.schedule(new LabelCommand(key), {
                manager,
                idempotencyKey: key,
                delay: 60_000,
              });
              scheduled();
              await winnerHolds;
              if (!winnerCommits) throw new Rollback();
            })
            .catch((error: unknown) => {
              if (!(error instanceof Rollback)) throw error;
            });
          await winnerScheduled;
          let loserDone = false;
          const loser = dataSource.transaction(async (manager) => {
            const id = await t.scheduler.schedule(new LabelCommand(key), {
              manager,
              idempotencyKey: key,
              delay: 60_000,
            });
            loserDone = true;
            return id;
          });
          await sleep(200);
          // The unique index makes the loser's insert wait for the winner's transaction.
          expect(loserDone).toBe(false);
          releaseWinner();
          await winner;
          const loserId = await loser;
          if (winnerCommits) expect(loserId).toBe(winnerId);
          else {
            expect(loserId).not.toBe(winnerId);
            expect(await t.scheduler.getStatus(winnerId)).toBeNull();
          }
          const entry = await t.entry(loserId);
          expect(entry.idempotencyKey).toBe(key);
        }
        expect(await total()).toBe(2);
      },
    );

    it('refuses a manager from another DataSource, a finished transaction, or no transaction at all', async () => {
      const other = new DataSource(
        database.name === 'SQLite'
          ? { type: 'better-sqlite3', database: ':memory:' }
          : ({ ...(dataSource.options as object), entities: [], subscribers: [] } as never),
      );
      await other.initialize();
      try {
        await other.transaction(async (manager) => {
          await expect(
            t.scheduler.schedule(new LabelCommand('x'), { manager }),
          ).rejects.toBeInstanceOf(ForeignTransactionError);
        });
      } finally {
        await other.destroy();
      }
      let finished: EntityManager | undefined;
      await dataSource.transaction(async (manager) => {
        finished = manager;
      });
      await expect(
        t.scheduler.schedule(new LabelCommand('x'), { manager: finished }),
      ).rejects.toBeInstanceOf(TransactionNotActiveError);
      await expect(
        t.scheduler.cancel('019a0000-0000-7000-8000-000000000000', { manager: finished }),
      ).rejects.toBeInstanceOf(TransactionNotActiveError);
      await expect(
        t.scheduler.schedule(new LabelCommand('x'), { manager: dataSource.manager }),
      ).rejects.toBeInstanceOf(TransactionNotActiveError);
      await expect(
        t.scheduler.schedule(new LabelCommand('x'), { manager: 'tx' as never }),
      ).rejects.toBeInstanceOf(InvalidScheduleOptionsError);
      await expect(
        t.scheduler.schedule(new LabelCommand('x'), { manager: {} as never }),
      ).rejects.toBeInstanceOf(ForeignTransactionError);
      await dataSource.transaction(async (manager) => {
        await expect(
          t.scheduler.scheduleMany([{ command: new LabelCommand('x'), options: { manager } }]),
        ).rejects.toBeInstanceOf(InvalidScheduleOptionsError);
        await expect(
          t.scheduler.reschedule('019a0000-0000-7000-8000-000000000000', { delay: 1 }, {
            manager,
            extra: 1,
          } as never),
        ).rejects.toBeInstanceOf(InvalidScheduleOptionsError);
      });
      expect(await total()).toBe(0);
    });
  });
}
