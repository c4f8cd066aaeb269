/**
 * The schema of `ScheduledCommandEntity`, as SQL, for the migrations: built from the table
 * definition (`scheduled-commands-table.ts`), so the SQLite and PostgreSQL migrations differ only
 * where the dialects do (column types, primary key).
 */
import type { QueryRunner } from 'typeorm';
import { SCHEDULED_COMMANDS_TABLE } from '../../../scheduled-commands.constants.js';
import {
  INDEX_LIST,
  PRIMARY_KEY_NAME,
  TABLE_COLUMNS,
  type ColumnDefinition,
  type IndexDefinition,
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

/** `CREATE TABLE` and `CREATE INDEX` statements for `table` (already quoted), with `indexes`. */
export function createSchemaStatements(
  dialect: 'sqlite' | 'postgres',
  table: string,
  indexes: readonly IndexDefinition[] = INDEX_LIST,
): string[] {
  const t = TYPES[dialect];
  const columns = TABLE_COLUMNS.map((column: ColumnDefinition) => {
    const type = column.kind === 'varchar' ? t.varchar(column.length ?? 255) : column.kind;
    const primaryKey = column.name === 'id' && t.primaryKey === 'inline' ? ' PRIMARY KEY' : '';
    return `"${column.name}" ${type}${primaryKey}${column.nullable ? '' : ' NOT NULL'}`;
  });
  if (t.primaryKey === 'constraint')
    columns.push(`CONSTRAINT "${PRIMARY_KEY_NAME}" PRIMARY KEY ("id")`);
  return [
    `CREATE TABLE ${table} (${columns.join(', ')})`,
    ...indexes.map((index) => createIndexStatement(index, table)),
  ];
}

/** The `CREATE INDEX` statement of `index` on `table` (already quoted); the same in both dialects. */
export function createIndexStatement(index: IndexDefinition, table: string): string {
  return (
    `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX "${index.name}" ON ${table} ` +
    `(${index.columns.map((name) => `"${name}"`).join(', ')})` +
    (index.where ? ` WHERE ${index.where}` : '')
  );
}

/** The `DROP INDEX` statement of `index`; `indexPrefix` qualifies its name (schema). */
export function dropIndexStatement(index: IndexDefinition, indexPrefix = ''): string {
  return `DROP INDEX ${indexPrefix}"${index.name}"`;
}

/** `DROP` statements undoing {@link createSchemaStatements}; `indexPrefix` qualifies index names (schema). */
export function dropSchemaStatements(
  table: string,
  indexPrefix = '',
  indexes: readonly IndexDefinition[] = INDEX_LIST,
): string[] {
  return [...indexes.map((index) => dropIndexStatement(index, indexPrefix)), `DROP TABLE ${table}`];
}

/** The DataSource's `schema` option, where TypeORM puts the entity's table when it is set. */
export function schemaOf(queryRunner: QueryRunner): string | undefined {
  const schema = (queryRunner.connection.options as { schema?: unknown }).schema;
  return typeof schema === 'string' && schema !== '' ? schema : undefined;
}

/**
 * Creates `create` on the scheduled-commands table (in the DataSource's `schema`, if set; unless
 * an index of that name exists already), then drops `drop`: how a migration replaces an index.
 */
export async function replaceIndex(
  queryRunner: QueryRunner,
  drop: IndexDefinition,
  create: IndexDefinition,
): Promise<void> {
  const schema = schemaOf(queryRunner);
  const table = qualifiedName(SCHEDULED_COMMANDS_TABLE, schema);
  const statement = createIndexStatement(create, table);
  await queryRunner.query(statement.replace(/INDEX "/, 'INDEX IF NOT EXISTS "'));
  await queryRunner.query(dropIndexStatement(drop, schema ? `${qualifiedName(schema)}.` : ''));
}

/** Quotes `name`, prefixed with the quoted `schema` when there is one. */
export function qualifiedName(name: string, schema?: string): string {
  const quote = (part: string) => `"${part.replace(/"/g, '""')}"`;
  return schema ? `${quote(schema)}.${quote(name)}` : quote(name);
}
