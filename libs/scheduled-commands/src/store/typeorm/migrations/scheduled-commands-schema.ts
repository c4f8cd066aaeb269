/**
 * The schema of `ScheduledCommandEntity`, as SQL, for the migrations: built from the table
 * definition (`scheduled-commands-table.ts`), so the SQLite and PostgreSQL migrations differ only
 * where the dialects do (column types, primary key).
 */
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

/** The columns and indexes of the first migration (later ones add those marked `since`). */
const FIRST_COLUMNS = (TABLE_COLUMNS as readonly ColumnDefinition[]).filter((c) => !c.since);
const FIRST_INDEXES = INDEX_LIST.filter((index) => !index.since);

/** The SQL type of `column` in `dialect`. */
export function columnType(dialect: 'sqlite' | 'postgres', column: ColumnDefinition): string {
  return column.kind === 'varchar' ? TYPES[dialect].varchar(column.length ?? 255) : column.kind;
}

/** `CREATE INDEX` statement of `index` on `table` (already quoted). */
export function createIndexStatement(table: string, index: IndexDefinition): string {
  return (
    `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX "${index.name}" ON ${table} ` +
    `(${index.columns.map((name) => `"${name}"`).join(', ')}) WHERE ${index.where}`
  );
}

/** `CREATE TABLE` and `CREATE INDEX` statements for `table` (already quoted). */
export function createSchemaStatements(dialect: 'sqlite' | 'postgres', table: string): string[] {
  const t = TYPES[dialect];
  const columns = FIRST_COLUMNS.map((column) => {
    const type = columnType(dialect, column);
    const primaryKey = column.name === 'id' && t.primaryKey === 'inline' ? ' PRIMARY KEY' : '';
    return `"${column.name}" ${type}${primaryKey}${column.nullable ? '' : ' NOT NULL'}`;
  });
  if (t.primaryKey === 'constraint')
    columns.push(`CONSTRAINT "${PRIMARY_KEY_NAME}" PRIMARY KEY ("id")`);
  return [
    `CREATE TABLE ${table} (${columns.join(', ')})`,
    ...FIRST_INDEXES.map((index) => createIndexStatement(table, index)),
  ];
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
