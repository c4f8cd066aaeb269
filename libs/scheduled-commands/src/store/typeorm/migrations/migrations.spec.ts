import 'reflect-metadata';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  createPgDatabase,
  pgAvailable,
  type PgTestDatabase,
} from '../../../../../../test/support/postgres.js';
import { SystemClock } from '../../../clock.js';
import { ScheduledCommandsError } from '../../../errors/index.js';
import { newCommand } from '../../../testing/index.js';
import { RecurringScheduleEntity } from '../recurring-schedule.entity.js';
import { ScheduledCommandEntity } from '../scheduled-command.entity.js';
import { TypeOrmScheduledCommandStore } from '../typeorm-scheduled-command-store.js';
import {
  AddScheduledCommandsTraceContextPostgres1765000000000,
  AddScheduledCommandsTraceContextSqlite1765000000000,
  CreateScheduledCommandsTableMysql1764000000000,
  CreateScheduledCommandsTablePostgres1764000000000,
  CreateScheduledCommandsTableSqlite1764000000000,
  AddRecurringSchedulesPostgres1766000000000,
  AddRecurringSchedulesSqlite1766000000000,
  ReplaceCommandTypeIndexMysql1768000000000,
  ReplaceCommandTypeIndexPostgres1768000000000,
  ReplaceCommandTypeIndexSqlite1768000000000,
  AddRecurringTraceContextPostgres1769000000000,
  AddRecurringTraceContextSqlite1769000000000,
  scheduledCommandsMigrations,
} from './index.js';

const open: DataSource[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((ds) => (ds.isInitialized ? ds.destroy() : undefined)));
});

async function connect(options: DataSourceOptions): Promise<DataSource> {
  const dataSource = new DataSource(options);
  open.push(dataSource);
  return dataSource.initialize();
}

/** SQL that `synchronize` would run now; empty when the schema matches the entity. */
async function pendingSchemaChanges(dataSource: DataSource): Promise<string[]> {
  const log = await dataSource.driver.createSchemaBuilder().log();
  return log.upQueries.map((q) => q.query);
}

const TRACE_CONTEXT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

/** Runs the scheduled-commands migrations against a fresh store and checks it works. */
async function expectWorkingStore(dataSource: DataSource): Promise<void> {
  const store = new TypeOrmScheduledCommandStore(dataSource, new SystemClock());
  const command = newCommand({ idempotencyKey: 'k', traceContext: TRACE_CONTEXT });
  expect(await store.schedule(command)).toEqual({ id: command.id, created: true });
  expect((await store.schedule(newCommand({ idempotencyKey: 'k' }))).created).toBe(false);
  const claimed = await store.claim({ workerId: 'w', limit: 5, leaseMs: 1_000 });
  expect(claimed.map((e) => [e.id, e.traceContext, e.payload])).toEqual([
    [command.id, TRACE_CONTEXT, command.payload],
  ]);
}

describe('scheduledCommandsMigrations()', () => {
  it('returns the migration of each supported DataSource type', () => {
    const sqlite = [
      CreateScheduledCommandsTableSqlite1764000000000,
      AddScheduledCommandsTraceContextSqlite1765000000000,
      AddRecurringSchedulesSqlite1766000000000,
      ReplaceCommandTypeIndexSqlite1768000000000,
      AddRecurringTraceContextSqlite1769000000000,
    ];
    expect(scheduledCommandsMigrations('better-sqlite3')).toEqual(sqlite);
    expect(scheduledCommandsMigrations('sqlite')).toEqual(sqlite);
    expect(scheduledCommandsMigrations('postgres')).toEqual([
      CreateScheduledCommandsTablePostgres1764000000000,
      AddScheduledCommandsTraceContextPostgres1765000000000,
      AddRecurringSchedulesPostgres1766000000000,
      ReplaceCommandTypeIndexPostgres1768000000000,
      AddRecurringTraceContextPostgres1769000000000,
    ]);
    for (const type of ['mysql', 'mariadb']) {
      expect(scheduledCommandsMigrations(type)).toEqual([
        CreateScheduledCommandsTableMysql1764000000000,
        ReplaceCommandTypeIndexMysql1768000000000,
      ]);
    }
  });

  it('refuses other types with an error naming the supported ones', () => {
    expect(() => scheduledCommandsMigrations('oracle')).toThrow(ScheduledCommandsError);
    expect(() => scheduledCommandsMigrations('oracle')).toThrow(
      /"better-sqlite3", "sqlite", "postgres", "mysql", "mariadb"/,
    );
  });
});

/** The command-type indexes of the SQLite table (old and new names). */
const sqliteTypeIndexes = async (dataSource: DataSource): Promise<string[]> =>
  (
    await dataSource.query(
      `SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'IDX_scheduled_commands_%type' ORDER BY name`,
    )
  ).map((row: { name: string }) => row.name);

describe('SQLite migration', () => {
  const dirs: string[] = [];
  const database = () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'scheduled-commands-migrations-'));
    dirs.push(dir);
    return path.join(dir, 'db.sqlite');
  };
  afterAll(() => dirs.forEach((dir) => fs.rmSync(dir, { recursive: true, force: true })));

  const base = (file: string): DataSourceOptions => ({
    type: 'better-sqlite3',
    database: file,
    entities: [ScheduledCommandEntity, RecurringScheduleEntity],
    migrations: scheduledCommandsMigrations('better-sqlite3'),
  });

  /** Table and index definitions as SQLite stores them, whitespace normalised. */
  const schemaOf = async (dataSource: DataSource): Promise<string[]> =>
    (
      await dataSource.query(
        `SELECT sql FROM sqlite_master WHERE tbl_name IN ('scheduled_commands', 'scheduled_commands_recurring') AND sql IS NOT NULL ORDER BY name`,
      )
    ).map((row: { sql: string }) => row.sql.replace(/\s+/g, ' ').replace(/\( /g, '(').trim());

  it('creates exactly the schema synchronize creates, and leaves synchronize nothing to do', async () => {
    const migrated = await connect(base(database()));
    expect(await migrated.runMigrations()).toHaveLength(5);
    expect(await pendingSchemaChanges(migrated)).toEqual([]);

    const synchronized = await connect({ ...base(database()), synchronize: true });
    expect(await schemaOf(migrated)).toEqual(await schemaOf(synchronized));
    expect(await schemaOf(migrated)).toHaveLength(12);
    await expectWorkingStore(migrated);
  });

  it('is undone by its down(): the column of the schedules, the command-type index, the recurring schedules, the added column, then the table', async () => {
    const dataSource = await connect(base(database()));
    await dataSource.runMigrations();
    const columnNames = async (table = 'scheduled_commands') =>
      (await dataSource.query(`SELECT name FROM pragma_table_info('${table}')`)).map(
        (c: { name: string }) => c.name,
      );
    expect(await columnNames('scheduled_commands_recurring')).toContain('trace_context');
    await dataSource.undoLastMigration();
    expect(await columnNames('scheduled_commands_recurring')).not.toContain('trace_context');
    expect(await columnNames('scheduled_commands_recurring')).toHaveLength(23);
    expect(await sqliteTypeIndexes(dataSource)).toEqual(['IDX_scheduled_commands_type']);
    await dataSource.undoLastMigration();
    expect(await sqliteTypeIndexes(dataSource)).toEqual(['IDX_scheduled_commands_command_type']);
    await dataSource.undoLastMigration();
    expect(await columnNames()).toHaveLength(21);
    expect(await columnNames()).toContain('trace_context');
    expect(await columnNames()).not.toContain('recurring_name');
    expect(
      await dataSource.query(
        `SELECT name FROM sqlite_master WHERE tbl_name = 'scheduled_commands_recurring' OR name LIKE '%recurring%'`,
      ),
    ).toEqual([]);
    await dataSource.undoLastMigration();
    expect(await columnNames()).not.toContain('trace_context');
    expect(await columnNames()).toHaveLength(20);
    await dataSource.undoLastMigration();
    expect(await schemaOf(dataSource)).toEqual([]);
  });

  it('adds the later columns and replaces the command-type index on a table made by the first migration, keeping its rows', async () => {
    const file = database();
    const first = await connect({
      ...base(file),
      entities: [],
      migrations: [CreateScheduledCommandsTableSqlite1764000000000],
    });
    await first.runMigrations();
    await first.query(
      `INSERT INTO scheduled_commands (id, command_type, payload, status, scheduled_for, priority, retry_count, max_retries, attempts, created_at)
       VALUES ('018f0000-0000-7000-8000-000000000001', 't', '{}', 'pending', 0, 0, 0, 0, 0, 0)`,
    );
    await first.destroy();
    const upgraded = await connect(base(file));
    expect(await upgraded.runMigrations()).toHaveLength(4);
    expect(await pendingSchemaChanges(upgraded)).toEqual([]);
    expect(await sqliteTypeIndexes(upgraded)).toEqual(['IDX_scheduled_commands_type']);
    const store = new TypeOrmScheduledCommandStore(upgraded, new SystemClock());
    const entry = await store.get('018f0000-0000-7000-8000-000000000001');
    expect([entry?.traceContext, entry?.recurringName]).toEqual([null, null]);
    const byType = await store.find({ commandType: 't' });
    expect(byType.items.map((e) => e.id)).toEqual(['018f0000-0000-7000-8000-000000000001']);
  });
});

describe.skipIf(!pgAvailable())('PostgreSQL migration', () => {
  let db: PgTestDatabase;
  beforeAll(async () => {
    db = await createPgDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const base = (schema?: string): DataSourceOptions => ({
    type: 'postgres',
    url: db.url,
    schema,
    entities: [ScheduledCommandEntity, RecurringScheduleEntity],
    migrations: scheduledCommandsMigrations('postgres'),
    migrationsTableName: `migrations_${schema ?? 'public'}`,
  });

  /** Column and index definitions from the catalog, schema names removed. */
  const schemaOf = async (dataSource: DataSource, schema: string): Promise<string[]> => {
    const columns = await dataSource.query(
      `SELECT column_name || ' ' || data_type || coalesce('(' || character_maximum_length || ')', '') ||
              CASE WHEN is_nullable = 'NO' THEN ' not null' ELSE '' END AS def
       FROM information_schema.columns
       WHERE table_schema = $1 AND table_name IN ('scheduled_commands', 'scheduled_commands_recurring')
       ORDER BY table_name, ordinal_position`,
      [schema],
    );
    const indexes = await dataSource.query(
      `SELECT replace(indexdef, $1 || '.', '') AS def FROM pg_indexes
       WHERE schemaname = $1 AND tablename IN ('scheduled_commands', 'scheduled_commands_recurring')
       ORDER BY indexname`,
      [schema],
    );
    return [...columns, ...indexes].map((row: { def: string }) => row.def);
  };

  it('creates exactly the schema synchronize creates, and leaves synchronize nothing to do', async () => {
    const admin = await connect(base());
    await admin.query('CREATE SCHEMA migrated');
    await admin.query('CREATE SCHEMA synchronized');

    const migrated = await connect(base('migrated'));
    expect(await migrated.runMigrations()).toHaveLength(5);
    expect(await pendingSchemaChanges(migrated)).toEqual([]);

    await connect({ ...base('synchronized'), synchronize: true });
    const expected = await schemaOf(admin, 'synchronized');
    // Entry columns, recurring-schedule columns, indexes (both primary keys among them).
    expect(expected).toHaveLength(23 + 24 + 12);
    expect(await schemaOf(admin, 'migrated')).toEqual(expected);

    // The store finds the table in the DataSource's schema.
    await expectWorkingStore(migrated);
  });

  it('works in the default schema and is undone by its down()', async () => {
    const dataSource = await connect(base());
    await dataSource.runMigrations();
    expect(await pendingSchemaChanges(dataSource)).toEqual([]);
    await expectWorkingStore(dataSource);
    const columnCount = async (column: string) =>
      (
        await dataSource.query(
          `SELECT count(*)::int AS count FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name = 'scheduled_commands' AND column_name = $1`,
          [column],
        )
      )[0].count;
    const recurringColumns = async () =>
      (
        await dataSource.query(
          `SELECT column_name FROM information_schema.columns
           WHERE table_schema = 'public' AND table_name = 'scheduled_commands_recurring'`,
        )
      ).map((c: { column_name: string }) => c.column_name);
    expect(await recurringColumns()).toContain('trace_context');
    await dataSource.undoLastMigration();
    expect(await recurringColumns()).not.toContain('trace_context');
    expect(await recurringColumns()).toHaveLength(23);
    const typeIndexes = async () =>
      (
        await dataSource.query(
          `SELECT indexname FROM pg_indexes WHERE schemaname = 'public' AND indexname LIKE 'IDX_scheduled_commands_%type' ORDER BY 1`,
        )
      ).map((row: { indexname: string }) => row.indexname);
    expect(await typeIndexes()).toEqual(['IDX_scheduled_commands_type']);
    await dataSource.undoLastMigration();
    expect(await typeIndexes()).toEqual(['IDX_scheduled_commands_command_type']);
    await dataSource.undoLastMigration();
    expect(await columnCount('recurring_name')).toBe(0);
    expect(await columnCount('trace_context')).toBe(1);
    const [{ recurring }] = await dataSource.query(
      `SELECT to_regclass('public.scheduled_commands_recurring') AS recurring`,
    );
    expect(recurring).toBeNull();
    await dataSource.undoLastMigration();
    expect(await columnCount('trace_context')).toBe(0);
    await dataSource.undoLastMigration();
    const [{ table }] = await dataSource.query(
      `SELECT to_regclass('public.scheduled_commands') AS table`,
    );
    expect(table).toBeNull();
  });
});
