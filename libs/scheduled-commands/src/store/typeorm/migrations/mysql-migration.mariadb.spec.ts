import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createMysqlDatabase,
  mysqlAvailable,
  type MysqlTestDatabase,
} from '../../../../../../test/support/mysql.js';
import { mysqlErrno } from '../dialects/mysql-server.js';
import { INDEX_LIST, TABLE_COLUMNS } from '../scheduled-commands-table.js';
import { CreateScheduledCommandsTableMysql1764000000000 } from './1764000000000-create-scheduled-commands-table-mysql.js';
import { ReplaceCommandTypeIndexMysql1768000000000 } from './1768000000000-replace-command-type-index-mysql.js';

const INSERT = `INSERT INTO scheduled_commands (id, command_type, payload, status, scheduled_for,
  priority, retry_count, max_retries, attempts, created_at, idempotency_key)
  VALUES (?, 'test', ?, ?, 0, 0, 0, 0, 0, 0, ?)`;

describe.skipIf(!mysqlAvailable())('MySQL/MariaDB migration', () => {
  let db: MysqlTestDatabase;
  let dataSource: DataSource;
  beforeAll(async () => {
    db = await createMysqlDatabase();
  });
  afterEach(async () => {
    if (dataSource?.isInitialized) {
      await dataSource.query('DROP TABLE IF EXISTS scheduled_commands, migrations');
      await dataSource.destroy();
    }
  });
  afterAll(async () => {
    await db?.drop();
  });

  const migrate = async (type: 'mysql' | 'mariadb') => {
    dataSource = await new DataSource({
      type,
      url: db.url,
      migrations: [CreateScheduledCommandsTableMysql1764000000000],
    }).initialize();
    return dataSource.runMigrations();
  };
  const insert = (id: string, status: string, key: string | null, payload = '{}') =>
    dataSource.query(INSERT, [id, payload, status, key]);

  it.each(['mysql', 'mariadb'] as const)(
    'creates an InnoDB utf8mb4_bin table with every column and index, through the %s driver',
    async (type) => {
      expect(await migrate(type)).toHaveLength(1);
      const [table] = await dataSource.query(
        `SELECT engine, table_collation AS collation FROM information_schema.tables
         WHERE table_schema = DATABASE() AND table_name = 'scheduled_commands'`,
      );
      expect(table).toEqual({ engine: 'InnoDB', collation: 'utf8mb4_bin' });
      const indexes: { name: string }[] = await dataSource.query(
        `SELECT DISTINCT index_name AS name FROM information_schema.statistics
         WHERE table_schema = DATABASE() AND table_name = 'scheduled_commands'`,
      );
      expect(indexes.map((i) => i.name).sort()).toEqual(
        ['PRIMARY', ...INDEX_LIST.map((i) => i.name)].sort(),
      );
      // Those the other dialects add in later migrations (trace context, recurring) included.
      const columns: { name: string }[] = await dataSource.query(
        `SELECT column_name AS name FROM information_schema.columns
         WHERE table_schema = DATABASE() AND table_name = 'scheduled_commands'
         ORDER BY ordinal_position`,
      );
      expect(columns.map((c) => c.name)).toEqual([
        ...TABLE_COLUMNS.map((c) => c.name),
        'idempotency_live',
      ]);
    },
  );

  it('lets one live entry hold an idempotency key, case-sensitively, and frees it when it finishes', async () => {
    await migrate('mariadb');
    await insert('a', 'pending', 'K');
    const second = await insert('b', 'processing', 'K').catch((e: unknown) => e);
    expect(mysqlErrno(second)).toBe(1062);
    await insert('c', 'pending', 'k');
    await insert('d', 'pending', null);
    await insert('e', 'pending', null);
    await dataSource.query(`UPDATE scheduled_commands SET status = 'completed' WHERE id = 'a'`);
    await insert('f', 'pending', 'K');
    // Putting the finished holder back to pending while another live entry holds the key fails.
    const revived = await dataSource
      .query(`UPDATE scheduled_commands SET status = 'pending' WHERE id = 'a'`)
      .catch((e: unknown) => e);
    expect(mysqlErrno(revived)).toBe(1062);
    const rows: { id: string }[] = await dataSource.query(
      'SELECT id FROM scheduled_commands ORDER BY id',
    );
    expect(rows.map((r) => r.id)).toEqual(['a', 'c', 'd', 'e', 'f']);
  });

  it('allows one occurrence per recurring schedule name and fire time, comparing whole names', async () => {
    await migrate('mariadb');
    const occurrence = (id: string, name: string, fireTime: number | null) =>
      dataSource.query(
        `INSERT INTO scheduled_commands (id, command_type, payload, status, scheduled_for,
          priority, retry_count, max_retries, attempts, created_at, recurring_name, recurring_fire_time)
          VALUES (?, 'test', '{}', 'pending', 0, 0, 0, 0, 0, 0, ?, ?)`,
        [id, name, fireTime],
      );
    const name = 'n'.repeat(195);
    await occurrence('a', `${name}a`, 1_000);
    expect(mysqlErrno(await occurrence('b', `${name}a`, 1_000).catch((e: unknown) => e))).toBe(
      1062,
    );
    // Names that differ only past the 191st character are different schedules.
    await occurrence('c', `${name}b`, 1_000);
    // Occurrences triggered by hand have no fire time, and never collide.
    await occurrence('d', `${name}a`, null);
    await occurrence('e', `${name}a`, null);
  });

  it('stores payloads larger than 64 KiB, and keys of 500 characters', async () => {
    await migrate('mariadb');
    const payload = JSON.stringify({ text: 'x'.repeat(200_000) });
    await insert('big', 'pending', 'k'.repeat(500), payload);
    const [row] = await dataSource.query(
      `SELECT LENGTH(payload) AS n FROM scheduled_commands WHERE id = 'big'`,
    );
    expect(Number(row.n)).toBe(payload.length);
  });

  it('replaces the (status, command_type, id) index of an earlier table, keeping its rows; a new table needs nothing', async () => {
    await migrate('mariadb');
    const typeIndexes = async () =>
      (
        await dataSource.query(
          `SELECT index_name AS name, GROUP_CONCAT(column_name ORDER BY seq_in_index) AS columns
           FROM information_schema.statistics
           WHERE table_schema = DATABASE() AND table_name = 'scheduled_commands'
             AND index_name LIKE 'IDX_scheduled_commands_%type' GROUP BY index_name`,
        )
      ).map((row: { name: string; columns: string }) => `${row.name}(${row.columns})`);
    const replace = new ReplaceCommandTypeIndexMysql1768000000000();
    const runner = dataSource.createQueryRunner();
    try {
      // A table made by this release's first migration already has the new index.
      expect(await typeIndexes()).toEqual(['IDX_scheduled_commands_type(command_type,id)']);
      await replace.up(runner);
      expect(await typeIndexes()).toEqual(['IDX_scheduled_commands_type(command_type,id)']);
      // down() makes the table of the earlier release, which up() moves forward again.
      await replace.down(runner);
      expect(await typeIndexes()).toEqual([
        'IDX_scheduled_commands_command_type(status,command_type,id)',
      ]);
      await insert('a', 'pending', null);
      await insert('b', 'failed', null);
      await replace.up(runner);
      expect(await typeIndexes()).toEqual(['IDX_scheduled_commands_type(command_type,id)']);
    } finally {
      await runner.release();
    }
    const rows: { id: string }[] = await dataSource.query(
      `SELECT id FROM scheduled_commands WHERE command_type = 'test' ORDER BY id`,
    );
    expect(rows.map((r) => r.id)).toEqual(['a', 'b']);
  });

  it('is undone by its down()', async () => {
    await migrate('mariadb');
    await dataSource.undoLastMigration();
    const tables = await dataSource.query(`SHOW TABLES LIKE 'scheduled_commands'`);
    expect(tables).toEqual([]);
  });
});
