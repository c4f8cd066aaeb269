/**
 * The schema of `ScheduledCommandEntity`, as SQL, for the migrations. Kept in one place so the
 * SQLite and PostgreSQL migrations differ only where the dialects do (column types, primary key).
 */

/** Index definitions shared by both dialects: name, columns, uniqueness and partial predicate. */
const INDEXES: readonly { name: string; columns: string; unique?: boolean; where?: string }[] = [
  {
    name: 'IDX_scheduled_commands_claim',
    columns: '"priority", "scheduled_for", "id"',
    where: `status = 'pending'`,
  },
  {
    name: 'IDX_scheduled_commands_lease',
    columns: '"locked_until"',
    where: `status = 'processing'`,
  },
  {
    name: 'IDX_scheduled_commands_expiry',
    columns: '"expires_at"',
    where: `status = 'pending' AND expires_at IS NOT NULL`,
  },
  {
    name: 'IDX_scheduled_commands_finished',
    columns: '"completed_at"',
    where: 'completed_at IS NOT NULL',
  },
  {
    name: 'IDX_scheduled_commands_status',
    columns: '"status", "id"',
    where: `status IN ('failed', 'cancelled', 'expired')`,
  },
  {
    name: 'IDX_scheduled_commands_command_type',
    columns: '"command_type", "id"',
    where: `status IN ('failed', 'cancelled', 'expired')`,
  },
  {
    name: 'IDX_scheduled_commands_correlation',
    columns: '"correlation_id", "id"',
    where: 'correlation_id IS NOT NULL',
  },
  {
    name: 'UQ_scheduled_commands_idempotency_key',
    columns: '"idempotency_key"',
    unique: true,
    where: `status IN ('pending', 'processing') AND idempotency_key IS NOT NULL`,
  },
];

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

/** `CREATE TABLE` and `CREATE INDEX` statements for `table` (already quoted). */
export function createSchemaStatements(dialect: 'sqlite' | 'postgres', table: string): string[] {
  const t = TYPES[dialect];
  const columns = [
    `"id" ${t.varchar(36)}${t.primaryKey === 'inline' ? ' PRIMARY KEY' : ''} NOT NULL`,
    `"command_type" ${t.varchar(200)} NOT NULL`,
    `"payload" text NOT NULL`,
    `"status" ${t.varchar(16)} NOT NULL`,
    `"scheduled_for" bigint NOT NULL`,
    `"priority" integer NOT NULL`,
    `"retry_count" integer NOT NULL`,
    `"max_retries" integer NOT NULL`,
    `"attempts" integer NOT NULL`,
    `"expires_at" bigint`,
    `"correlation_id" text`,
    `"metadata" text`,
    `"idempotency_key" text`,
    `"created_at" bigint NOT NULL`,
    `"started_at" bigint`,
    `"completed_at" bigint`,
    `"error_message" text`,
    `"result_payload" text`,
    `"locked_by" text`,
    `"locked_until" bigint`,
  ];
  if (t.primaryKey === 'constraint')
    columns.push(`CONSTRAINT "PK_scheduled_commands" PRIMARY KEY ("id")`);
  return [
    `CREATE TABLE ${table} (${columns.join(', ')})`,
    ...INDEXES.map(
      (index) =>
        `CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX "${index.name}" ON ${table} (${index.columns})` +
        (index.where ? ` WHERE ${index.where}` : ''),
    ),
  ];
}

/** `DROP` statements undoing {@link createSchemaStatements}; `indexPrefix` qualifies index names (schema). */
export function dropSchemaStatements(table: string, indexPrefix = ''): string[] {
  return [
    ...INDEXES.map((index) => `DROP INDEX ${indexPrefix}"${index.name}"`),
    `DROP TABLE ${table}`,
  ];
}

/** Quotes `name`, prefixed with the quoted `schema` when there is one. */
export function qualifiedName(name: string, schema?: string): string {
  const quote = (part: string) => `"${part.replace(/"/g, '""')}"`;
  return schema ? `${quote(schema)}.${quote(name)}` : quote(name);
}
