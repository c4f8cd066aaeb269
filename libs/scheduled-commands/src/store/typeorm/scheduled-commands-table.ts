/**
 * The one definition of the scheduled-commands table: its columns, in table order, and its indexes.
 * Everything else is derived from it: the decorators of `ScheduledCommandEntity` (and so what
 * `synchronize` creates), the shipped migrations, the index names the SQL refers to, and the
 * store's column lists and insert order. Change the schema here, and add a migration.
 */

/** How a column is stored; each dialect maps these to its own types (see the migrations). */
export type ColumnKind = 'varchar' | 'text' | 'integer' | 'bigint';

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
  /** Predicate of a partial index; none for an index of every row. */
  readonly where?: string;
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
   * row version into each index whose predicate it meets (unless PostgreSQL can make the update HOT,
   * which it can only when no column an index uses, key or predicate, changes), so these stay
   * partial where they can: the status index covers failed, cancelled and expired rows only (dead
   * letters, the rows one looks through; pending and processing rows are reached through the claim
   * and lease indexes, and completed rows, most of the table, by walking the primary key newest
   * first). The correlation index holds only rows that have a correlation id.
   */
  status: {
    name: 'IDX_scheduled_commands_status',
    columns: ['status', 'id'],
    where: `status IN ('failed', 'cancelled', 'expired')`,
  },
  /**
   * The command type of every row, for the command-type filter in any status: a rare type among a
   * million completed rows is found without walking them. Both columns are written once, at insert,
   * and there is no predicate, so this index never keeps an update from being HOT (PostgreSQL still
   * adds an entry here on every update that is not HOT for another index's sake).
   */
  commandType: {
    name: 'IDX_scheduled_commands_type',
    columns: ['command_type', 'id'],
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
} as const satisfies Record<string, IndexDefinition>;

/** Every index, in definition order. */
export const INDEX_LIST: readonly IndexDefinition[] = Object.values(TABLE_INDEXES);

/** Indexes of earlier versions of the schema, which a later migration dropped. */
export const RETIRED_INDEXES = {
  /** Command type of dead letters only; replaced by `commandType` (migration 1765000000000). */
  commandTypeOfDeadLetters: {
    name: 'IDX_scheduled_commands_command_type',
    columns: ['command_type', 'id'],
    where: `status IN ('failed', 'cancelled', 'expired')`,
  },
} as const satisfies Record<string, IndexDefinition>;

/**
 * The indexes the first migration (1764000000000) creates: the schema as it was then. Later
 * migrations bring it to {@link INDEX_LIST}.
 */
export const FIRST_MIGRATION_INDEXES: readonly IndexDefinition[] = INDEX_LIST.map((index) =>
  index === TABLE_INDEXES.commandType ? RETIRED_INDEXES.commandTypeOfDeadLetters : index,
);

/** Partial index of pending rows in (priority, scheduled_for, id) order: claims and next-due lookups. */
export const CLAIM_INDEX = TABLE_INDEXES.claim.name;
/** Partial index of processing rows by lease end: lease recovery. */
export const LEASE_INDEX = TABLE_INDEXES.lease.name;
/** Partial index of pending rows by expiry time: the expiry sweep. */
export const EXPIRY_INDEX = TABLE_INDEXES.expiry.name;
/** Partial index of finished rows by completion time: purge. */
export const FINISHED_INDEX = TABLE_INDEXES.finished.name;
/** Unique partial index of the idempotency keys of live rows. */
export const IDEMPOTENCY_INDEX = TABLE_INDEXES.idempotencyKey.name;
