import { Column, Entity, Index, PrimaryColumn, type ValueTransformer } from 'typeorm';
import { SCHEDULED_COMMANDS_TABLE } from '../../scheduled-commands.constants.js';
import type { ScheduledCommandStatus } from '../scheduled-command-entry.js';

/**
 * `bigint` columns hold epoch milliseconds. The `pg` driver returns `bigint` as a string (it may
 * exceed 2^53); epoch milliseconds never do, so they are read back as numbers.
 */
const epochMs: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | number | null) => (value === null ? null : Number(value)),
};

/**
 * The row of one scheduled command (table `scheduled_commands`), for TypeORM's schema
 * synchronisation and for registering the table with a `DataSource` (`entities` or
 * `autoLoadEntities`). The shipped migrations create the same schema.
 *
 * The store reads and writes this table with its own SQL and hands out plain
 * `ScheduledCommandEntry` objects, never instances of this class. Do not write rows through a
 * repository: every state change must go through the store so that it stays atomic and
 * lease-checked.
 *
 * Times are epoch milliseconds in `bigint` columns, which means the same thing in every dialect
 * and time zone.
 */
@Entity(SCHEDULED_COMMANDS_TABLE)
// Runnable rows in claim order: the claim walks each priority's due prefix (see the dialects).
@Index('IDX_scheduled_commands_claim', ['priority', 'scheduledFor', 'id'], {
  where: `status = 'pending'`,
})
// Lease recovery: processing rows whose lease ran out.
@Index('IDX_scheduled_commands_lease', ['lockedUntil'], { where: `status = 'processing'` })
// Expiry sweep: pending rows with an expiry time.
@Index('IDX_scheduled_commands_expiry', ['expiresAt'], {
  where: `status = 'pending' AND expires_at IS NOT NULL`,
})
// Purge: finished rows (exactly those have a completion time).
@Index('IDX_scheduled_commands_finished', ['completedAt'], { where: 'completed_at IS NOT NULL' })
// find() filters, each with the id for keyset paging. Every claim and completion writes a new row
// version into each index whose predicate it meets, so these stay partial where they can: the status
// and command type indexes cover failed, cancelled and expired rows only (dead letters, the rows one
// looks through; pending and processing rows are reached through the claim and lease indexes, and
// completed rows, most of the table, by walking the primary key newest first), so that a completion,
// the commonest write, adds entries to the primary key and the finished index only. The correlation
// index holds only rows that have a correlation id.
@Index('IDX_scheduled_commands_status', ['status', 'id'], {
  where: `status IN ('failed', 'cancelled', 'expired')`,
})
@Index('IDX_scheduled_commands_command_type', ['commandType', 'id'], {
  where: `status IN ('failed', 'cancelled', 'expired')`,
})
@Index('IDX_scheduled_commands_correlation', ['correlationId', 'id'], {
  where: 'correlation_id IS NOT NULL',
})
// At most one live entry per idempotency key, enforced by the database.
@Index('UQ_scheduled_commands_idempotency_key', ['idempotencyKey'], {
  unique: true,
  where: `status IN ('pending', 'processing') AND idempotency_key IS NOT NULL`,
})
export class ScheduledCommandEntity {
  /** Time-ordered UUID (v7) chosen by the scheduler; ascending order is creation order. */
  @PrimaryColumn({ type: 'varchar', length: 36, primaryKeyConstraintName: 'PK_scheduled_commands' })
  id!: string;

  /** Name the command class is registered under. */
  @Column({ name: 'command_type', type: 'varchar', length: 200 })
  commandType!: string;

  /** The command's fields as JSON. */
  @Column({ type: 'text' })
  payload!: string;

  /** One of `ScheduledCommandStatus`. */
  @Column({ type: 'varchar', length: 16 })
  status!: ScheduledCommandStatus;

  /** When the command (or its next retry) is due, epoch milliseconds. */
  @Column({ name: 'scheduled_for', type: 'bigint', transformer: epochMs })
  scheduledFor!: number;

  /** Higher runs first. */
  @Column({ type: 'integer' })
  priority!: number;

  /** Failed attempts followed by a retry. */
  @Column({ name: 'retry_count', type: 'integer' })
  retryCount!: number;

  /** Retries allowed after the first attempt. */
  @Column({ name: 'max_retries', type: 'integer' })
  maxRetries!: number;

  /** Runs started so far; also the fencing token of the current lease. */
  @Column({ type: 'integer' })
  attempts!: number;

  /** Not started after this time (epoch milliseconds): expires. */
  @Column({ name: 'expires_at', type: 'bigint', nullable: true, transformer: epochMs })
  expiresAt!: number | null;

  @Column({ name: 'correlation_id', type: 'text', nullable: true })
  correlationId!: string | null;

  /** String metadata as a JSON object. */
  @Column({ type: 'text', nullable: true })
  metadata!: string | null;

  @Column({ name: 'idempotency_key', type: 'text', nullable: true })
  idempotencyKey!: string | null;

  /** Epoch milliseconds. */
  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  /** When the latest attempt started, epoch milliseconds. */
  @Column({ name: 'started_at', type: 'bigint', nullable: true, transformer: epochMs })
  startedAt!: number | null;

  /** When the entry reached a finished status, epoch milliseconds. */
  @Column({ name: 'completed_at', type: 'bigint', nullable: true, transformer: epochMs })
  completedAt!: number | null;

  @Column({ name: 'error_message', type: 'text', nullable: true })
  errorMessage!: string | null;

  /** The handler's return value as JSON. */
  @Column({ name: 'result_payload', type: 'text', nullable: true })
  resultPayload!: string | null;

  /** Worker holding the lease while processing. */
  @Column({ name: 'locked_by', type: 'text', nullable: true })
  lockedBy!: string | null;

  /** When the lease runs out, epoch milliseconds. */
  @Column({ name: 'locked_until', type: 'bigint', nullable: true, transformer: epochMs })
  lockedUntil!: number | null;
}
