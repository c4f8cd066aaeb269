/**
 * The one definition of the scheduled-commands table: its columns, in table order, and its indexes.
 * Everything else is derived from it: the decorators of `ScheduledCommandEntity` (and so what
 * `synchronize` creates), the shipped migrations, the index names the SQL refers to, and the
 * store's column lists and insert order. Change the schema here, and add a migration.
 */

/** How a column is stored; each dialect maps these to its own types (see the migrations). */
export type ColumnKind = 'varchar' | 'text' | 'integer' | 'bigint';

/**
 * The later migrations of the SQLite and PostgreSQL schema, in the order they run: each adds the
 * columns and indexes marked with its name to a table made by the ones before.
 */
export type LaterMigration = 'trace-context' | 'recurring' | 'command-type';

/** One column of the table. */
export interface ColumnDefinition {
  /** Property of `ScheduledCommandEntity`. */
  readonly property: string;
  /** Column name in SQL. */
  readonly name: string;
  readonly kind: ColumnKind;
  /** Length of a `varchar` column. */
  readonly length?: number;
  /** Whether the column may hold `NULL`. @default false */
  readonly nullable?: boolean;
  /**
   * The later migration that adds the column to an existing table; columns without one are created
   * by the first migration, and a column added later is always nullable.
   */
  readonly addedBy?: LaterMigration;
}

/** The columns in table order (the primary key, `id`, first). */
export const TABLE_COLUMNS = [
  { property: 'id', name: 'id', kind: 'varchar', length: 36 },
  { property: 'commandType', name: 'command_type', kind: 'varchar', length: 200 },
  { property: 'payload', name: 'payload', kind: 'text' },
  { property: 'status', name: 'status', kind: 'varchar', length: 16 },
  { property: 'scheduledFor', name: 'scheduled_for', kind: 'bigint' },
  { property: 'priority', name: 'priority', kind: 'integer' },
  { property: 'retryCount', name: 'retry_count', kind: 'integer' },
  { property: 'maxRetries', name: 'max_retries', kind: 'integer' },
  { property: 'attempts', name: 'attempts', kind: 'integer' },
  { property: 'expiresAt', name: 'expires_at', kind: 'bigint', nullable: true },
  { property: 'correlationId', name: 'correlation_id', kind: 'text', nullable: true },
  { property: 'metadata', name: 'metadata', kind: 'text', nullable: true },
  { property: 'idempotencyKey', name: 'idempotency_key', kind: 'text', nullable: true },
  { property: 'createdAt', name: 'created_at', kind: 'bigint' },
  { property: 'startedAt', name: 'started_at', kind: 'bigint', nullable: true },
  { property: 'completedAt', name: 'completed_at', kind: 'bigint', nullable: true },
  { property: 'errorMessage', name: 'error_message', kind: 'text', nullable: true },
  { property: 'resultPayload', name: 'result_payload', kind: 'text', nullable: true },
  { property: 'lockedBy', name: 'locked_by', kind: 'text', nullable: true },
  { property: 'lockedUntil', name: 'locked_until', kind: 'bigint', nullable: true },
  {
    property: 'traceContext',
    name: 'trace_context',
    kind: 'text',
    nullable: true,
    addedBy: 'trace-context',
  },
  // Recurring schedules: the schedule an occurrence belongs to, and its fire time.
  {
    property: 'recurringName',
    name: 'recurring_name',
    kind: 'text',
    nullable: true,
    addedBy: 'recurring',
  },
  {
    property: 'recurringFireTime',
    name: 'recurring_fire_time',
    kind: 'bigint',
    nullable: true,
    addedBy: 'recurring',
  },
] as const satisfies readonly ColumnDefinition[];

/** A column name of the table. */
export type ColumnName = (typeof TABLE_COLUMNS)[number]['name'];

/** Name of the primary key constraint. */
export const PRIMARY_KEY_NAME = 'PK_scheduled_commands';

/** One index of the table. */
export interface IndexDefinition {
  readonly name: string;
  /** Indexed columns, in order. */
  readonly columns: readonly ColumnName[];
  readonly unique?: boolean;
  /** Predicate of a partial index. */
  readonly where: string;
  /** The later migration that adds the index, as for columns; none: the first one. */
  readonly addedBy?: LaterMigration;
}

/** The table's indexes, by role. */
export const TABLE_INDEXES = {
  /** Runnable rows in claim order: the claim walks each priority's due prefix (see the dialects). */
  claim: {
    name: 'IDX_scheduled_commands_claim',
    columns: ['priority', 'scheduled_for', 'id'],
    where: `status = 'pending'`,
  },
  /** Lease recovery: processing rows whose lease ran out. */
  lease: {
    name: 'IDX_scheduled_commands_lease',
    columns: ['locked_until'],
    where: `status = 'processing'`,
  },
  /** Expiry sweep: pending rows with an expiry time. */
  expiry: {
    name: 'IDX_scheduled_commands_expiry',
    columns: ['expires_at'],
    where: `status = 'pending' AND expires_at IS NOT NULL`,
  },
  /** Purge: finished rows (exactly those have a completion time). */
  finished: {
    name: 'IDX_scheduled_commands_finished',
    columns: ['completed_at'],
    where: 'completed_at IS NOT NULL',
  },
  /**
   * `find()` filters, each with the id for keyset paging. Every claim and completion writes a new
   * row version into each index whose predicate it meets, so these stay partial where they can. The
   * status index covers failed, cancelled and expired rows only (dead letters, the rows one looks
   * through; pending and processing rows are reached through the claim and lease indexes, and
   * completed rows, most of the table, by walking the primary key newest first), so that a
   * completion, the commonest write, adds no entry to it.
   */
  status: {
    name: 'IDX_scheduled_commands_status',
    columns: ['status', 'id'],
    where: `status IN ('failed', 'cancelled', 'expired')`,
  },
  /**
   * The command-type filter, on every status but `processing`: a command that succeeds writes one
   * entry at its insert (pending) and one at its completion, none at its claim (the row leaves the
   * predicate). Processing rows, always few, are found through the lease index; `find()` with a
   * command type and no status reads both parts and merges them (see `sql/query-sql.ts`). MySQL and
   * MariaDB, without partial indexes, index `(command_type, id)` of every row instead, whose entries
   * no update touches (neither column ever changes).
   */
  commandType: {
    name: 'IDX_scheduled_commands_type',
    columns: ['command_type', 'id'],
    where: `status <> 'processing'`,
    addedBy: 'command-type',
  },
  correlation: {
    name: 'IDX_scheduled_commands_correlation',
    columns: ['correlation_id', 'id'],
    where: 'correlation_id IS NOT NULL',
  },
  /** At most one live entry per idempotency key, enforced by the database. */
  idempotencyKey: {
    name: 'UQ_scheduled_commands_idempotency_key',
    columns: ['idempotency_key'],
    unique: true,
    where: `status IN ('pending', 'processing') AND idempotency_key IS NOT NULL`,
  },
  /** At most one occurrence per (recurring schedule, fire time), enforced by the database. */
  recurringOccurrence: {
    name: 'UQ_scheduled_commands_recurring',
    columns: ['recurring_name', 'recurring_fire_time'],
    unique: true,
    where: 'recurring_fire_time IS NOT NULL',
    addedBy: 'recurring',
  },
  /** `find({ recurringName })` and the live-occurrence check of `overlap: false`. */
  recurring: {
    name: 'IDX_scheduled_commands_recurring',
    columns: ['recurring_name', 'id'],
    where: 'recurring_name IS NOT NULL',
    addedBy: 'recurring',
  },
} as const satisfies Record<string, IndexDefinition>;

/** Every index, in definition order. */
export const INDEX_LIST: readonly IndexDefinition[] = Object.values(TABLE_INDEXES);

/** An index an earlier migration created and a later one dropped (for the migrations to replay). */
export interface RetiredIndexDefinition extends IndexDefinition {
  /** The migration that drops it (and whose `down` makes it again). */
  readonly droppedBy: LaterMigration;
}

/** Indexes of earlier schemas, dropped since. */
export const RETIRED_INDEXES: readonly RetiredIndexDefinition[] = [
  {
    // The command-type index of dead letters only, replaced by `TABLE_INDEXES.commandType`.
    name: 'IDX_scheduled_commands_command_type',
    columns: ['command_type', 'id'],
    where: `status IN ('failed', 'cancelled', 'expired')`,
    droppedBy: 'command-type',
  },
];

/** Partial index of pending rows in (priority, scheduled_for, id) order: claims and next-due lookups. */
export const CLAIM_INDEX = TABLE_INDEXES.claim.name;
/** Partial index of processing rows by lease end: lease recovery. */
export const LEASE_INDEX = TABLE_INDEXES.lease.name;
/** Partial index of pending rows by expiry time: the expiry sweep. */
export const EXPIRY_INDEX = TABLE_INDEXES.expiry.name;
/** Partial index of finished rows by completion time: purge. */
export const FINISHED_INDEX = TABLE_INDEXES.finished.name;
/** Partial index of the command type of every row but processing ones: the type filter. */
export const COMMAND_TYPE_INDEX = TABLE_INDEXES.commandType.name;
/** Unique partial index of the idempotency keys of live rows. */
export const IDEMPOTENCY_INDEX = TABLE_INDEXES.idempotencyKey.name;
