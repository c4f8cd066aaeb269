/**
 * The schema of `ScheduledCommandEntity`, as SQL, for the migrations: built from the table
 * definition (`scheduled-commands-table.ts`), so the SQLite and PostgreSQL migrations differ only
 * where the dialects do (column types, primary key).
 */
import type { QueryRunner } from 'typeorm';
import {
  INDEX_LIST,
  PRIMARY_KEY_NAME,
  RETIRED_INDEXES,
  TABLE_COLUMNS,
  type ColumnDefinition,
  type IndexDefinition,
  type LaterMigration,
} from '../scheduled-commands-table.js';

/** Column types that differ between the dialects. */
interface DialectTypes {
  readonly varchar: (length: number) => string;
  /** Primary key clause: inline after the `id` column, or a table constraint. */
  readonly primaryKey: 'inline' | 'constraint';
}

const TYPES: Record<'sqlite' | 'postgres', DialectTypes> = {
  sqlite: { varchar: (n) => `varchar(${n})`, primaryKey: 'inline' },
  postgres: { varchar: (n) => `character varying(${n})`, primaryKey: 'constraint' },
};

/**
 * The columns and indexes of the first migration (later ones add those marked `addedBy`, and drop
 * the retired indexes marked `droppedBy`).
 */
const FIRST_COLUMNS = (TABLE_COLUMNS as readonly ColumnDefinition[]).filter(
  (column) => column.addedBy === undefined,
);
const FIRST_INDEXES = [...INDEX_LIST, ...RETIRED_INDEXES].filter(
  (index) => index.addedBy === undefined,
);

/** The SQL type of `column` in `dialect`. */
export function columnType(dialect: 'sqlite' | 'postgres', column: ColumnDefinition): string {
  return column.kind === 'varchar' ? TYPES[dialect].varchar(column.length ?? 255) : column.kind;
}

/** A column's definition in `CREATE TABLE` or `ADD COLUMN`. */
function columnSql(dialect: 'sqlite' | 'postgres', column: ColumnDefinition): string {
  const t = TYPES[dialect];
  const type = columnType(dialect, column);
  const primaryKey = column.name === 'id' && t.primaryKey === 'inline' ? ' PRIMARY KEY' : '';
  return `"${column.name}" ${type}${primaryKey}${column.nullable ? '' : ' NOT NULL'}`;
}

/**
 * `CREATE TABLE` and `CREATE INDEX` statements of the first migration for `table` (already quoted):
 * every column but those a later migration adds ({@link addColumnStatements}).
 */
export function createSchemaStatements(dialect: 'sqlite' | 'postgres', table: string): string[] {
  const columns = FIRST_COLUMNS.map((column) => columnSql(dialect, column));
  if (TYPES[dialect].primaryKey === 'constraint')
    columns.push(`CONSTRAINT "${PRIMARY_KEY_NAME}" PRIMARY KEY ("id")`);
  return [
    `CREATE TABLE ${table} (${columns.join(', ')})`,
    ...FIRST_INDEXES.map((index) => createIndexStatement(table, index)),
  ];
}

/** `CREATE INDEX` statement of `index` on `table` (already quoted). */
export function createIndexStatement(table: string, index: IndexDefinition): string {
  return (
    `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX "${index.name}" ON ${table} ` +
    `(${index.columns.map((name) => `"${name}"`).join(', ')}) WHERE ${index.where}`
  );
}

/**
 * The statements of the later migration `addedBy` on `table` (already quoted): `DROP INDEX` for the
 * retired indexes it drops, then `ALTER TABLE … ADD COLUMN` and `CREATE INDEX` for the columns and
 * indexes marked with it, and in `down` the statements undoing them (`indexPrefix` qualifies index
 * names: the schema).
 */
export function addColumnStatements(
  dialect: 'sqlite' | 'postgres',
  table: string,
  addedBy: LaterMigration,
  indexPrefix = '',
): { up: string[]; down: string[] } {
  const columns = (TABLE_COLUMNS as readonly ColumnDefinition[]).filter(
    (column) => column.addedBy === addedBy,
  );
  const indexes = INDEX_LIST.filter((index) => index.addedBy === addedBy);
  const retired = RETIRED_INDEXES.filter((index) => index.droppedBy === addedBy);
  return {
    up: [
      ...retired.map((index) => `DROP INDEX ${indexPrefix}"${index.name}"`),
      ...columns.map((column) => `ALTER TABLE ${table} ADD COLUMN ${columnSql(dialect, column)}`),
      ...indexes.map((index) => createIndexStatement(table, index)),
    ],
    down: [
      ...indexes.map((index) => `DROP INDEX ${indexPrefix}"${index.name}"`),
      ...columns.map((column) => `ALTER TABLE ${table} DROP COLUMN "${column.name}"`).reverse(),
      ...retired.map((index) => createIndexStatement(table, index)),
    ],
  };
}

/** The DataSource's `schema` option (PostgreSQL), where TypeORM puts the entity's table when it is set. */
export function schemaOf(queryRunner: QueryRunner): string | undefined {
  const schema = (queryRunner.connection.options as { schema?: unknown }).schema;
  return typeof schema === 'string' && schema !== '' ? schema : undefined;
}

/** `DROP` statements undoing {@link createSchemaStatements}; `indexPrefix` qualifies index names (schema). */
export function dropSchemaStatements(table: string, indexPrefix = ''): string[] {
  return [
    ...FIRST_INDEXES.map((index) => `DROP INDEX ${indexPrefix}"${index.name}"`),
    `DROP TABLE ${table}`,
  ];
}

/** Quotes `name`, prefixed with the quoted `schema` when there is one. */
export function qualifiedName(name: string, schema?: string): string {
  const quote = (part: string) => `"${part.replace(/"/g, '""')}"`;
  return schema ? `${quote(schema)}.${quote(name)}` : quote(name);
}
