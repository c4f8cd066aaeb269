import { Column, Entity, Index, PrimaryColumn, type ValueTransformer } from 'typeorm';
import { SCHEDULED_COMMANDS_TABLE } from '../../scheduled-commands.constants.js';
import type { ScheduledCommandStatus } from '../scheduled-command-entry.js';
import {
  INDEX_LIST,
  PRIMARY_KEY_NAME,
  TABLE_COLUMNS,
  type ColumnDefinition,
  type ColumnName,
} from './scheduled-commands-table.js';

/**
 * `bigint` columns hold epoch milliseconds. The `pg` driver returns `bigint` as a string (it may
 * exceed 2^53); epoch milliseconds never do, so they are read back as numbers.
 */
export const epochMs: ValueTransformer = {
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
 * and time zone. The columns and indexes are declared from the table definition
 * (`scheduled-commands-table.ts`), the one source the migrations and the store's SQL share.
 */
export class ScheduledCommandEntity {
  /** Time-ordered UUID (v7) chosen by the scheduler; ascending order is creation order. */
  id!: string;

  /** Name the command class is registered under. */
  commandType!: string;

  /** The command's fields as JSON. */
  payload!: string;

  /** One of `ScheduledCommandStatus`. */
  status!: ScheduledCommandStatus;

  /** When the command (or its next retry) is due, epoch milliseconds. */
  scheduledFor!: number;

  /** Higher runs first. */
  priority!: number;

  /** Failed attempts followed by a retry. */
  retryCount!: number;

  /** Retries allowed after the first attempt. */
  maxRetries!: number;

  /** Runs started so far; also the fencing token of the current lease. */
  attempts!: number;

  /** Not started after this time (epoch milliseconds): expires. */
  expiresAt!: number | null;

  correlationId!: string | null;

  /** String metadata as a JSON object. */
  metadata!: string | null;

  idempotencyKey!: string | null;

  /** Epoch milliseconds. */
  createdAt!: number;

  /** When the latest attempt started, epoch milliseconds. */
  startedAt!: number | null;

  /** When the entry reached a finished status, epoch milliseconds. */
  completedAt!: number | null;

  errorMessage!: string | null;

  /** The handler's return value as JSON. */
  resultPayload!: string | null;

  /** Worker holding the lease while processing. */
  lockedBy!: string | null;

  /** When the lease runs out, epoch milliseconds. */
  lockedUntil!: number | null;

  /** The scheduling span's W3C trace context (telemetry), apart from the payload. */
  traceContext!: string | null;

  /** The recurring schedule this entry is an occurrence of. */
  recurringName!: string | null;

  /** The occurrence's fire time, epoch milliseconds (null for one triggered by hand). */
  recurringFireTime!: number | null;
}

// Compile-time check: the class declares exactly the properties of the table definition.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
true satisfies Same<keyof ScheduledCommandEntity, (typeof TABLE_COLUMNS)[number]['property']>;

/** The entity property of each column. */
const propertyOf = new Map<ColumnName, string>(
  TABLE_COLUMNS.map((column) => [column.name, column.property]),
);

// The decorators, applied from the table definition: the same as writing `@Column(...)` on each
// property and `@Index(...)` and `@Entity(...)` on the class.
for (const column of TABLE_COLUMNS as readonly ColumnDefinition[]) {
  const { name, kind: type, length } = column;
  const decorate =
    name === 'id'
      ? PrimaryColumn({ name, type, length, primaryKeyConstraintName: PRIMARY_KEY_NAME })
      : Column({
          name,
          type,
          length,
          nullable: column.nullable ?? false,
          transformer: type === 'bigint' ? epochMs : undefined,
        });
  decorate(ScheduledCommandEntity.prototype, column.property);
}
for (const index of INDEX_LIST) {
  Index(
    index.name,
    index.columns.map((name) => propertyOf.get(name) as string),
    { where: index.where, ...(index.unique ? { unique: true } : {}) },
  )(ScheduledCommandEntity);
}
Entity(SCHEDULED_COMMANDS_TABLE)(ScheduledCommandEntity);
