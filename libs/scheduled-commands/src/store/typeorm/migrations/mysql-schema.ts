/**
 * The schema of `ScheduledCommandEntity` for MySQL 8.0.1+ and MariaDB 10.6+, built from the table
 * definition (`scheduled-commands-table.ts`). Neither server has partial indexes: an index whose
 * predicate selects statuses leads with `status` instead, and the unique index of live idempotency
 * keys is on a generated column that holds the key of live rows only (`NULL` otherwise, and `NULL`s
 * never collide). The table is made whole, with the columns and indexes that the SQLite and PostgreSQL
 * schema gains in later migrations (`addedBy`: the trace context, the recurring occurrences'
 * columns); the recurring schedules' own table is not part of it yet. TypeORM cannot make this table from the entity on these servers (it drops the
 * predicates, and `text` columns cannot be indexed whole): this migration is the way to create it.
 */
import {
  INDEX_LIST,
  PRIMARY_KEY_NAME,
  TABLE_COLUMNS,
  TABLE_INDEXES,
  type ColumnDefinition,
  type IndexDefinition,
} from '../scheduled-commands-table.js';
import { MAX_RECURRING_NAME } from '../../../recurring/recurring-options.js';

/** Generated column holding the idempotency key of pending and processing rows, `NULL` otherwise. */
export const LIVE_KEY_COLUMN = 'idempotency_live';
/** The longest idempotency key the schedule options accept: the generated column's length. */
const MAX_KEY_LENGTH = 500;
/** How much of a `text` column an index holds: 191 characters, 764 bytes of utf8mb4. */
const TEXT_PREFIX = 191;
/**
 * Text columns whose values are never longer than a known bound: indexed whole, so that a unique
 * index over them compares the whole value (recurring schedule names, at most 200 characters).
 */
const BOUNDED_TEXT: Readonly<Record<string, number>> = { recurring_name: MAX_RECURRING_NAME };

/** Quotes an identifier with backticks (double quotes make a string on these servers). */
export const quoteMysql = (name: string): string => `\`${name.replace(/`/g, '``')}\``;

/** `text` columns are `LONGTEXT`: `TEXT` holds 64 KiB only. */
function columnType(column: ColumnDefinition): string {
  switch (column.kind) {
    case 'varchar':
      return `varchar(${column.length ?? 255})`;
    case 'text':
      return 'longtext';
    case 'integer':
      return 'int';
    case 'bigint':
      return 'bigint';
  }
}

/** The key parts of `index` on these servers. */
export function mysqlKeyParts(index: IndexDefinition): string[] {
  if (index.name === TABLE_INDEXES.idempotencyKey.name) return [quoteMysql(LIVE_KEY_COLUMN)];
  // A predicate that selects statuses (`status = …`, `status IN (…)`) becomes a leading `status`;
  // one that excludes a status (`status <> …`) cannot lead the index usefully: every row is indexed.
  const byStatus = /^status (=|IN)/.test(index.where) && index.columns[0] !== 'status';
  const names: readonly string[] = byStatus ? ['status', ...index.columns] : index.columns;
  return names.map((name) => {
    const column = TABLE_COLUMNS.find((c) => c.name === name);
    const prefix = BOUNDED_TEXT[name] ?? TEXT_PREFIX;
    return column?.kind === 'text' ? `${quoteMysql(name)}(${prefix})` : quoteMysql(name);
  });
}

/**
 * The `CREATE TABLE` statement (indexes included) for `table` (already quoted). InnoDB, and
 * `utf8mb4_bin`: under the servers' default collations, ids, statuses and idempotency keys that
 * differ in case (on MySQL 8 also in accents) would compare equal.
 */
export function createMysqlSchemaStatements(table: string): string[] {
  const definitions = [
    ...TABLE_COLUMNS.map(
      (column: ColumnDefinition) =>
        `${quoteMysql(column.name)} ${columnType(column)}${column.nullable ? ' NULL' : ' NOT NULL'}`,
    ),
    `${quoteMysql(LIVE_KEY_COLUMN)} varchar(${MAX_KEY_LENGTH}) AS ` +
      `(CASE WHEN ${TABLE_INDEXES.idempotencyKey.where} THEN idempotency_key END) VIRTUAL`,
    `CONSTRAINT ${quoteMysql(PRIMARY_KEY_NAME)} PRIMARY KEY (${quoteMysql('id')})`,
    ...INDEX_LIST.map(
      (index) =>
        `${index.unique ? 'UNIQUE ' : ''}INDEX ${quoteMysql(index.name)} (${mysqlKeyParts(index).join(', ')})`,
    ),
  ];
  return [
    `CREATE TABLE ${table} (${definitions.join(', ')}) ` +
      'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
  ];
}
