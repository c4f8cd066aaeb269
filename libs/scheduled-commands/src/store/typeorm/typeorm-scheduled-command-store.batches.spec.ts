import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createPgDatabase,
  pgAvailable,
  type PgTestDatabase,
} from '../../../../../test/support/postgres.js';
import { ManualClock, newCommand } from '../../testing/conformance.js';
import type {
  Lease,
  NewScheduledCommand,
  ScheduledCommandEntry,
} from '../scheduled-command-entry.js';
import { ScheduledCommandEntity } from './scheduled-command.entity.js';
import { TypeOrmScheduledCommandStore } from './typeorm-scheduled-command-store.js';

const HOUR = 3_600_000;
/** More than one statement carries (1,000 rows each), so that the batch needs a second one. */
const LARGE = 2_345;
/** The row a trigger refuses to write: in the third statement's share of the batch. */
const POISONED = 2_100;

/**
 * Makes the database refuse to insert or update the row with id `id`, through triggers created in
 * the test database: the statement that carries it fails, as a constraint violation would.
 */
type Poison = (dataSource: DataSource, id: string) => Promise<void>;
/** Drops the triggers of {@link Poison}. */
type Cure = (dataSource: DataSource) => Promise<void>;

interface Dialect {
  readonly name: string;
  readonly skip: boolean;
  open(): Promise<DataSource>;
  close(): Promise<void>;
  poison: Poison;
  cure: Cure;
}

const tempDirs: string[] = [];
afterAll(() => tempDirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

const sqlite: Dialect = {
  name: 'SQLite',
  skip: false,
  async open() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scheduled-commands-batches-'));
    tempDirs.push(dir);
    return new DataSource({
      type: 'better-sqlite3',
      database: path.join(dir, 'store.sqlite'),
      entities: [ScheduledCommandEntity],
      synchronize: true,
    }).initialize();
  },
  async close() {},
  async poison(dataSource, id) {
    for (const event of ['INSERT', 'UPDATE']) {
      const row = event === 'INSERT' ? 'NEW' : 'OLD';
      await dataSource.query(
        `CREATE TRIGGER sc_poison_${event.toLowerCase()} BEFORE ${event} ON scheduled_commands
         WHEN ${row}.id = '${id}' BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`,
      );
    }
  },
  async cure(dataSource) {
    await dataSource.query('DROP TRIGGER IF EXISTS sc_poison_insert');
    await dataSource.query('DROP TRIGGER IF EXISTS sc_poison_update');
  },
};

let pgDatabase: PgTestDatabase | undefined;
const postgres: Dialect = {
  name: 'PostgreSQL',
  skip: !pgAvailable(),
  async open() {
    pgDatabase ??= await createPgDatabase();
    const dataSource = await new DataSource({
      type: 'postgres',
      url: pgDatabase.url,
      entities: [ScheduledCommandEntity],
      synchronize: true,
    }).initialize();
    await dataSource.query('TRUNCATE scheduled_commands');
    return dataSource;
  },
  async close() {
    await pgDatabase?.drop();
  },
  async poison(dataSource, id) {
    await dataSource.query(
      `CREATE OR REPLACE FUNCTION sc_poison() RETURNS trigger LANGUAGE plpgsql AS
       $$ BEGIN RAISE EXCEPTION 'poisoned row'; END $$`,
    );
    for (const event of ['INSERT', 'UPDATE']) {
      const row = event === 'INSERT' ? 'NEW' : 'OLD';
      await dataSource.query(
        `CREATE TRIGGER sc_poison_${event.toLowerCase()} BEFORE ${event} ON scheduled_commands
         FOR EACH ROW WHEN (${row}.id = '${id}') EXECUTE FUNCTION sc_poison()`,
      );
    }
  },
  async cure(dataSource) {
    await dataSource.query('DROP TRIGGER IF EXISTS sc_poison_insert ON scheduled_commands');
    await dataSource.query('DROP TRIGGER IF EXISTS sc_poison_update ON scheduled_commands');
  },
};

for (const dialect of [sqlite, postgres]) {
  describe.skipIf(dialect.skip)(`TypeOrmScheduledCommandStore batches on ${dialect.name}`, () => {
    let dataSource: DataSource;
    let store: TypeOrmScheduledCommandStore;
    const clock = new ManualClock(new Date('2030-01-01T00:00:00.000Z'));

    beforeAll(async () => {
      dataSource = await dialect.open();
      store = new TypeOrmScheduledCommandStore(dataSource, clock);
    });
    afterEach(async () => {
      await dialect.cure(dataSource);
      await dataSource.query('DELETE FROM scheduled_commands');
    });
    afterAll(async () => {
      await dataSource?.destroy();
      await dialect.close();
    });

    const rowCount = async (where = '1 = 1'): Promise<number> =>
      Number(
        (await dataSource.query(`SELECT COUNT(*) AS n FROM scheduled_commands WHERE ${where}`))[0]
          .n,
      );

    /** Schedules and claims `count` commands; returns their leases in claim order. */
    const held = async (count: number): Promise<Lease[]> => {
      await store.scheduleMany(Array.from({ length: count }, () => newCommand()));
      const claimed = await store.claim({ workerId: 'w', limit: count, leaseMs: HOUR });
      expect(claimed).toHaveLength(count);
      return claimed.map((e) => ({ id: e.id, workerId: 'w', attempt: e.attempts }));
    };

    it('scheduleMany stores nothing of a batch whose later statement fails, and a retry stores it all', async () => {
      const commands: NewScheduledCommand[] = Array.from({ length: LARGE }, () => newCommand());
      await dialect.poison(dataSource, commands[POISONED].id);
      await expect(store.scheduleMany(commands)).rejects.toThrow(/poisoned row/);
      expect(await rowCount()).toBe(0);

      await dialect.cure(dataSource);
      const results = await store.scheduleMany(commands);
      expect(results).toEqual(commands.map((c) => ({ id: c.id, created: true })));
      expect(await rowCount(`status = 'pending'`)).toBe(LARGE);
    });

    it('complete writes nothing of a batch whose later statement fails, and a retry writes and reports every id', async () => {
      const leases = await held(LARGE);
      const completions = leases.map((lease) => ({ lease, resultPayload: `"${lease.id}"` }));
      await dialect.poison(dataSource, leases[POISONED].id);
      await expect(store.complete(completions)).rejects.toThrow(/poisoned row/);
      expect(await rowCount(`status = 'completed'`)).toBe(0);
      expect(await rowCount(`status = 'processing'`)).toBe(LARGE);

      await dialect.cure(dataSource);
      const written = await store.complete(completions);
      expect([...written].sort()).toEqual(leases.map((l) => l.id).sort());
      expect(await rowCount(`status = 'completed'`)).toBe(LARGE);
    });

    it('release and extendLeases change nothing of a batch whose later statement fails', async () => {
      const leases = await held(LARGE);
      const before = await dataSource.query(
        'SELECT id, locked_until FROM scheduled_commands ORDER BY id',
      );
      await dialect.poison(dataSource, leases[POISONED].id);
      clock.advance(1_000);
      await expect(store.extendLeases(leases, 2 * HOUR)).rejects.toThrow(/poisoned row/);
      await expect(store.release(leases)).rejects.toThrow(/poisoned row/);
      expect(
        await dataSource.query('SELECT id, locked_until FROM scheduled_commands ORDER BY id'),
      ).toEqual(before);
      expect(await rowCount(`status = 'processing'`)).toBe(LARGE);

      await dialect.cure(dataSource);
      expect(await store.extendLeases(leases, 2 * HOUR)).toHaveLength(LARGE);
      expect(await store.release(leases)).toHaveLength(LARGE);
      expect(await rowCount(`status = 'pending'`)).toBe(LARGE);
    });

    it('keeps claims made while a batch transaction is open out of it when it is rolled back', async () => {
      const due = Array.from({ length: 20 }, () => newCommand());
      await store.scheduleMany(due);
      const commands = Array.from({ length: LARGE }, () => newCommand({ delay: HOUR }));
      await dialect.poison(dataSource, commands[POISONED].id);
      // Claims start the moment the batch's transaction begins: on SQLite they share its connection.
      const claims: Promise<ScheduledCommandEntry[]>[] = [];
      const logQuery = dataSource.logger.logQuery.bind(dataSource.logger);
      dataSource.logger.logQuery = (sql, params, runner) => {
        if (/^(BEGIN|START TRANSACTION)/.test(sql) && claims.length === 0) {
          for (let i = 0; i < 5; i++) {
            claims.push(store.claim({ workerId: `w${i}`, limit: 4, leaseMs: HOUR }));
          }
        }
        logQuery(sql, params, runner);
      };
      try {
        await expect(store.scheduleMany(commands)).rejects.toThrow(/poisoned row/);
      } finally {
        dataSource.logger.logQuery = logQuery;
      }
      expect(claims).toHaveLength(5);
      const claimed = (await Promise.all(claims)).flat();
      expect(claimed).toHaveLength(20);
      // Every row a claim handed out is processing in the database: none was undone with the batch.
      expect(await rowCount(`status = 'processing'`)).toBe(20);
      expect(await rowCount()).toBe(20);
    });
  });
}
