/**
 * The schema of `ScheduledCommandEntity`, as SQL, for the migrations: built from the table
 * definition (`scheduled-commands-table.ts`), so the SQLite and PostgreSQL migrations differ only
 * where the dialects do (column types, primary key).
 */
import type { QueryRunner } from 'typeorm';
import {
  INDEX_LIST,
  PRIMARY_KEY_NAME,
  TABLE_COLUMNS,
  type ColumnDefinition,
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

/** A column's definition in `CREATE TABLE` or `ADD COLUMN`. */
function columnSql(t: DialectTypes, column: ColumnDefinition): string {
  const type = column.kind === 'varchar' ? t.varchar(column.length ?? 255) : column.kind;
  const primaryKey = column.name === 'id' && t.primaryKey === 'inline' ? ' PRIMARY KEY' : '';
  return `"${column.name}" ${type}${primaryKey}${column.nullable ? '' : ' NOT NULL'}`;
}

/**
 * `CREATE TABLE` and `CREATE INDEX` statements of the first migration for `table` (already quoted):
 * every column but those a later migration adds ({@link addColumnStatements}).
 */
export function createSchemaStatements(dialect: 'sqlite' | 'postgres', table: string): string[] {
  const t = TYPES[dialect];
  const columns = (TABLE_COLUMNS as readonly ColumnDefinition[])
    .filter((column) => column.addedBy === undefined)
    .map((column) => columnSql(t, column));
  if (t.primaryKey === 'constraint')
    columns.push(`CONSTRAINT "${PRIMARY_KEY_NAME}" PRIMARY KEY ("id")`);
  return [
    `CREATE TABLE ${table} (${columns.join(', ')})`,
    ...INDEX_LIST.map(
      (index) =>
        `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX "${index.name}" ON ${table} ` +
        `(${index.columns.map((name) => `"${name}"`).join(', ')}) WHERE ${index.where}`,
    ),
  ];
}

/** `ALTER TABLE … ADD COLUMN` statements of the later migration `addedBy`, and the `DROP COLUMN` ones undoing them. */
export function addColumnStatements(
  dialect: 'sqlite' | 'postgres',
  table: string,
  addedBy: NonNullable<ColumnDefinition['addedBy']>,
): { up: string[]; down: string[] } {
  const added = (TABLE_COLUMNS as readonly ColumnDefinition[]).filter(
    (column) => column.addedBy === addedBy,
  );
  return {
    up: added.map(
      (column) => `ALTER TABLE ${table} ADD COLUMN ${columnSql(TYPES[dialect], column)}`,
    ),
    down: added.map((column) => `ALTER TABLE ${table} DROP COLUMN "${column.name}"`),
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
    ...INDEX_LIST.map((index) => `DROP INDEX ${indexPrefix}"${index.name}"`),
    `DROP TABLE ${table}`,
  ];
}

/** Quotes `name`, prefixed with the quoted `schema` when there is one. */
export function qualifiedName(name: string, schema?: string): string {
  const quote = (part: string) => `"${part.replace(/"/g, '""')}"`;
  return schema ? `${quote(schema)}.${quote(name)}` : quote(name);
}
