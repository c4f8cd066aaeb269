/**
 * The schema of `ScheduledCommandEntity` for MySQL 8.0.1+ and MariaDB 10.6+, built from the table
 * definition (`scheduled-commands-table.ts`). Neither server has partial indexes: an index whose
 * predicate selects statuses leads with `status` instead, and the unique index of live idempotency
 * keys is on a generated column that holds the key of live rows only (`NULL` otherwise, and `NULL`s
 * never collide). TypeORM cannot make this table from the entity on these servers (it drops the
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

/** Generated column holding the idempotency key of pending and processing rows, `NULL` otherwise. */
export const LIVE_KEY_COLUMN = 'idempotency_live';
/** The longest idempotency key the schedule options accept: the generated column's length. */
const MAX_KEY_LENGTH = 500;
/** How much of a `text` column an index holds: 191 characters, 764 bytes of utf8mb4. */
const TEXT_PREFIX = 191;

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
function keyParts(index: IndexDefinition): string[] {
  if (index.name === TABLE_INDEXES.idempotencyKey.name) return [quoteMysql(LIVE_KEY_COLUMN)];
  const byStatus = /^status\b/.test(index.where ?? '') && index.columns[0] !== 'status';
  const names: readonly string[] = byStatus ? ['status', ...index.columns] : index.columns;
  return names.map((name) => {
    const column = TABLE_COLUMNS.find((c) => c.name === name);
    return column?.kind === 'text' ? `${quoteMysql(name)}(${TEXT_PREFIX})` : quoteMysql(name);
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
        `${index.unique ? 'UNIQUE ' : ''}INDEX ${quoteMysql(index.name)} (${keyParts(index).join(', ')})`,
    ),
  ];
  return [
    `CREATE TABLE ${table} (${definitions.join(', ')}) ` +
      'ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin',
  ];
}
