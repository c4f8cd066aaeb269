import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createMysqlDatabase,
  mysqlAvailable,
  type MysqlTestDatabase,
} from '../../../../../test/support/mysql.js';
import { SystemClock } from '../../clock.js';
import { RecurringNotSupportedError } from '../../errors/recurring-not-supported.error.js';
import { UnsupportedDatabaseError } from '../../errors/unsupported-database.error.js';
import { describeStoreConformance, newCommand } from '../../testing/conformance.js';
import { scheduledCommandsMigrations } from './migrations/index.js';
import { ScheduledCommandEntity } from './scheduled-command.entity.js';
import { TypeOrmScheduledCommandStore } from './typeorm-scheduled-command-store.js';

describe.skipIf(!mysqlAvailable())('TypeOrmScheduledCommandStore on MariaDB', () => {
  let database: MysqlTestDatabase;
  let dataSource: DataSource;

  const open = async (type: 'mysql' | 'mariadb', url = database.url): Promise<DataSource> =>
    new DataSource({
      type,
      url,
      entities: [ScheduledCommandEntity],
      migrations: scheduledCommandsMigrations(type),
    }).initialize();

  beforeAll(async () => {
    database = await createMysqlDatabase();
    dataSource = await open('mariadb');
    await dataSource.runMigrations();
  });

  afterAll(async () => {
    await dataSource?.destroy();
    await database?.drop();
  });

  // The store uses the database clock: the suite runs without a manual clock.
  describeStoreConformance('TypeOrmScheduledCommandStore on MariaDB', async () => {
    await dataSource.query('TRUNCATE scheduled_commands');
    return {
      store: new TypeOrmScheduledCommandStore(dataSource, new SystemClock()),
      close: async () => {},
    };
  });

  describe('specifics', () => {
    it('runs through the mysql driver too', async () => {
      await dataSource.query('TRUNCATE scheduled_commands');
      const other = await open('mysql');
      try {
        const store = new TypeOrmScheduledCommandStore(other, new SystemClock());
        const { id } = await store.schedule(newCommand({ idempotencyKey: 'K' }));
        expect(await store.schedule(newCommand({ idempotencyKey: 'K' }))).toEqual({
          id,
          created: false,
        });
        const [claimed] = await store.claim({ workerId: 'w', limit: 5, leaseMs: 60_000 });
        expect(claimed.id).toBe(id);
        expect(
          await store.complete([{ lease: { id, workerId: 'w', attempt: 1 }, resultPayload: 'ok' }]),
        ).toEqual([id]);
        expect((await store.get(id))?.resultPayload).toBe('ok');
      } finally {
        await other.destroy();
      }
    });

    it('claims concurrently without handing a command out twice while new commands arrive', async () => {
      await dataSource.query('TRUNCATE scheduled_commands');
      const stores = Array.from(
        { length: 4 },
        () => new TypeOrmScheduledCommandStore(dataSource, new SystemClock()),
      );
      await stores[0].scheduleMany(Array.from({ length: 1_000 }, () => newCommand()));
      const claimed: string[] = [];
      const worker = async (store: TypeOrmScheduledCommandStore, workerId: string) => {
        for (;;) {
          const batch = await store.claim({ workerId, limit: 25, leaseMs: 60_000 });
          if (batch.length === 0) return;
          claimed.push(...batch.map((e) => e.id));
          const leases = batch.map((e) => ({ id: e.id, workerId, attempt: e.attempts }));
          expect(
            await store.complete(leases.map((lease) => ({ lease, resultPayload: null }))),
          ).toHaveLength(batch.length);
        }
      };
      const arrivals = (async () => {
        for (let i = 0; i < 10; i++)
          await stores[0].scheduleMany(Array.from({ length: 20 }, () => newCommand()));
      })();
      await Promise.all([arrivals, ...stores.map((store, i) => worker(store, `w${i}`))]);
      await worker(stores[0], 'last');
      const retried = stores.reduce((sum, store) => sum + store.deadlocks.retried, 0);
      console.log(
        `[mariadb] 1,200 commands, 4 claimers and an inserter: deadlocks retried ${retried}`,
      );
      expect(new Set(claimed).size).toBe(claimed.length);
      expect(claimed).toHaveLength(1_200);
      expect((await stores[0].countByStatus()).completed).toBe(1_200);
      for (const store of stores) expect(store.deadlocks.gaveUp).toBe(0);
    });

    it('refuses a table not made by the shipped migration', async () => {
      await dataSource.query(
        'CREATE TABLE synchronized_commands (id varchar(36) PRIMARY KEY) ENGINE=InnoDB',
      );
      try {
        const store = new TypeOrmScheduledCommandStore(dataSource, new SystemClock(), {
          tableName: 'synchronized_commands',
        });
        const error = await store.get('x').catch((e: unknown) => e);
        expect(error).toBeInstanceOf(UnsupportedDatabaseError);
        expect((error as UnsupportedDatabaseError).setting).toBe('table');
        const missing = new TypeOrmScheduledCommandStore(dataSource, new SystemClock(), {
          tableName: 'no_such_table',
        });
        await expect(missing.get('x')).rejects.toThrow(/does not exist/);
      } finally {
        await dataSource.query('DROP TABLE synchronized_commands');
      }
    });

    it('refuses recurring schedules with a typed error (no recurring schema on MySQL/MariaDB yet)', async () => {
      const store = new TypeOrmScheduledCommandStore(dataSource, new SystemClock());
      await expect(store.listRecurring()).rejects.toBeInstanceOf(RecurringNotSupportedError);
      await expect(store.dueRecurring(1_000)).rejects.toThrow(/on mysql|on mariadb/i);
      // The entries themselves are unaffected.
      const command = newCommand();
      expect((await store.schedule(command)).created).toBe(true);
      expect((await store.get(command.id))?.recurringName).toBeNull();
    });
  });
});
