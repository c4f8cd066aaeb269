import 'reflect-metadata';
import { DataSource } from 'typeorm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recurringStatements } from './migrations/recurring-schema.js';
import {
  addColumnStatements,
  createIndexStatement,
  createSchemaStatements,
} from './migrations/scheduled-commands-schema.js';
import { CLAIM_RETURNING, RETURNING } from './row-codec.js';
import { ScheduledCommandEntity } from './scheduled-command.entity.js';
import {
  CLAIM_INDEX,
  COMMAND_TYPE_INDEX,
  EXPIRY_INDEX,
  FINISHED_INDEX,
  IDEMPOTENCY_INDEX,
  INDEX_LIST,
  LEASE_INDEX,
  PRIMARY_KEY_NAME,
  RETIRED_INDEXES,
  TABLE_COLUMNS,
} from './scheduled-commands-table.js';
import { insertSql } from './sql/schedule-sql.js';
import { SqliteDialect } from './dialects/sqlite-dialect.js';

const names = TABLE_COLUMNS.map((column) => column.name);

// The table definition is the one source of the schema: each place that writes the schema out is
// checked against it here (the migrations are also checked against `synchronize` in their spec).
describe('the table definition', () => {
  let dataSource: DataSource;
  beforeAll(async () => {
    dataSource = await new DataSource({
      type: 'better-sqlite3',
      database: ':memory:',
      entities: [ScheduledCommandEntity],
      synchronize: true,
    }).initialize();
  });
  afterAll(async () => {
    await dataSource?.destroy();
  });

  it('gives the entity its columns, in order, with their types, lengths and nullability', () => {
    const metadata = dataSource.getMetadata(ScheduledCommandEntity);
    expect(metadata.tableName).toBe('scheduled_commands');
    expect(
      metadata.columns.map((c) => ({
        property: c.propertyName,
        name: c.databaseName,
        kind: c.type,
        length: c.length === '' ? undefined : Number(c.length),
        nullable: c.isNullable,
      })),
    ).toEqual(
      TABLE_COLUMNS.map((c) => ({
        property: c.property,
        name: c.name,
        kind: c.kind,
        length: 'length' in c ? c.length : undefined,
        nullable: 'nullable' in c ? c.nullable : false,
      })),
    );
    expect(metadata.primaryColumns.map((c) => c.databaseName)).toEqual(['id']);
    expect(metadata.primaryColumns[0].primaryKeyConstraintName).toBe(PRIMARY_KEY_NAME);
  });

  it('gives the entity its indexes: names, columns, uniqueness and predicates', () => {
    const metadata = dataSource.getMetadata(ScheduledCommandEntity);
    const indexes = metadata.indices
      .map((index) => ({
        name: index.name,
        columns: index.columns.map((c) => c.databaseName),
        unique: index.isUnique,
        where: index.where,
      }))
      .sort((a, b) => a.name.localeCompare(b.name));
    expect(indexes).toEqual(
      INDEX_LIST.map((index) => ({
        name: index.name,
        columns: [...index.columns],
        unique: index.unique ?? false,
        where: index.where,
      })).sort((a, b) => a.name.localeCompare(b.name)),
    );
  });

  it('gives the migrations their columns and indexes (the first one, trace context, recurring, command type)', () => {
    for (const dialect of ['sqlite', 'postgres'] as const) {
      const [table, ...indexes] = createSchemaStatements(dialect, '"t"');
      const traceContext = addColumnStatements(dialect, '"t"', 'trace-context').up;
      const [recurringTable, ...recurring] = recurringStatements(dialect, '"t"', '"r"').up;
      const commandType = addColumnStatements(dialect, '"t"', 'command-type');
      expect(recurringTable).toMatch(/^CREATE TABLE "r" /);
      expect(recurring).toEqual(addColumnStatements(dialect, '"t"', 'recurring').up);
      const added = [...traceContext, ...recurring, ...commandType.up];
      const columns = [
        ...[table, ...added]
          .join(' ')
          .matchAll(/"(\w+)" (?:character varying|varchar|text|integer|bigint)/g),
      ];
      expect(columns.map((match) => match[1])).toEqual(names);
      const named = (pattern: RegExp) => (sql: string) => pattern.exec(sql)?.[1] ?? [];
      const created = [...indexes, ...added].flatMap(named(/^CREATE (?:UNIQUE )?INDEX "(\w+)"/));
      const dropped = added.flatMap(named(/^DROP INDEX "(\w+)"/));
      // The first migration makes the dead-letter command-type index; the last one replaces it.
      expect(dropped).toEqual(RETIRED_INDEXES.map((index) => index.name));
      expect(created.filter((name) => !dropped.includes(name)).sort()).toEqual(
        INDEX_LIST.map((index) => index.name).sort(),
      );
      expect(indexes).toHaveLength(INDEX_LIST.filter((index) => !index.addedBy).length + 1);
      // Its down() drops the new index and makes the old one again.
      expect(commandType.down).toEqual([
        `DROP INDEX "${COMMAND_TYPE_INDEX}"`,
        createIndexStatement('"t"', RETIRED_INDEXES[0]),
      ]);
    }
  });

  it('names the indexes the SQL refers to', () => {
    expect([CLAIM_INDEX, LEASE_INDEX, EXPIRY_INDEX, FINISHED_INDEX, IDEMPOTENCY_INDEX]).toEqual(
      [
        'IDX_scheduled_commands_claim',
        'IDX_scheduled_commands_lease',
        'IDX_scheduled_commands_expiry',
        'IDX_scheduled_commands_finished',
        'UQ_scheduled_commands_idempotency_key',
      ].map((name) => INDEX_LIST.find((index) => index.name === name)?.name),
    );
  });

  it('gives the store its column lists and an insert that writes every column in table order', async () => {
    expect(RETURNING).toBe(names.join(', '));
    expect(CLAIM_RETURNING.split(', ').every((name) => names.includes(name as never))).toBe(true);
    const dialect = new SqliteDialect({ nowMs: () => 1_000 });
    const sql = insertSql('"scheduled_commands"', dialect);
    expect(sql).toContain(`INSERT INTO "scheduled_commands" (${names.join(', ')})`);
    // Run against the entity's table, the insert puts each value in its column.
    const bound = dialect.bind(sql, [
      JSON.stringify([
        {
          v_id: 'a',
          v_command_type: 't',
          v_payload: '{}',
          v_scheduled_for: 5,
          v_delay: null,
          v_priority: 2,
          v_max_retries: 3,
          v_expires_after: 7,
          v_correlation_id: 'c',
          v_metadata: 'm',
          v_idempotency_key: 'k',
          v_trace_context: 'tc',
        },
      ]),
    ]);
    expect(await dataSource.query(bound.sql, bound.params)).toEqual([{ id: 'a' }]);
    const [row] = await dataSource.query(`SELECT ${RETURNING} FROM scheduled_commands`);
    expect(row).toEqual({
      id: 'a',
      command_type: 't',
      payload: '{}',
      status: 'pending',
      scheduled_for: 5,
      priority: 2,
      retry_count: 0,
      max_retries: 3,
      attempts: 0,
      expires_at: 12,
      correlation_id: 'c',
      metadata: 'm',
      idempotency_key: 'k',
      created_at: 1_000,
      started_at: null,
      completed_at: null,
      error_message: null,
      result_payload: null,
      locked_by: null,
      locked_until: null,
      trace_context: 'tc',
      recurring_name: null,
      recurring_fire_time: null,
    });
  });
});
