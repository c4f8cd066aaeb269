import { Column, Entity, PrimaryColumn } from 'typeorm';
import { RECURRING_SCHEDULES_TABLE } from '../../scheduled-commands.constants.js';
import { epochMs } from './scheduled-command.entity.js';

/**
 * The row of one recurring schedule (table `scheduled_commands_recurring`), registered with the
 * DataSource next to `ScheduledCommandEntity`. Like that one, it is read and written only by the
 * store's own SQL: change schedules through `CommandScheduler`. Times are epoch milliseconds and
 * flags are integers (0/1), the same in every dialect.
 */
@Entity(RECURRING_SCHEDULES_TABLE)
export class RecurringScheduleEntity {
  @PrimaryColumn({
    type: 'varchar',
    length: 200,
    primaryKeyConstraintName: 'PK_scheduled_commands_recurring',
  })
  name!: string;

  @Column({ name: 'command_type', type: 'varchar', length: 200 })
  commandType!: string;

  @Column({ type: 'text' })
  payload!: string;

  @Column({ type: 'text', nullable: true })
  cron!: string | null;

  @Column({ name: 'every_ms', type: 'bigint', nullable: true, transformer: epochMs })
  everyMs!: number | null;

  @Column({ type: 'text' })
  timezone!: string;

  @Column({ type: 'varchar', length: 8 })
  misfire!: string;

  @Column({ name: 'max_catch_up', type: 'integer' })
  maxCatchUp!: number;

  @Column({ type: 'integer' })
  overlap!: number;

  @Column({ name: 'start_at', type: 'bigint', nullable: true, transformer: epochMs })
  startAt!: number | null;

  @Column({ name: 'end_at', type: 'bigint', nullable: true, transformer: epochMs })
  endAt!: number | null;

  @Column({ type: 'integer' })
  priority!: number;

  @Column({ name: 'max_retries', type: 'integer' })
  maxRetries!: number;

  @Column({ name: 'expires_after', type: 'bigint', nullable: true, transformer: epochMs })
  expiresAfter!: number | null;

  @Column({ name: 'correlation_id', type: 'text', nullable: true })
  correlationId!: string | null;

  @Column({ type: 'text', nullable: true })
  metadata!: string | null;

  @Column({ type: 'integer' })
  declared!: number;

  @Column({ type: 'integer' })
  paused!: number;

  @Column({ name: 'next_fire_at', type: 'bigint', nullable: true, transformer: epochMs })
  nextFireAt!: number | null;

  @Column({ name: 'last_fire_at', type: 'bigint', nullable: true, transformer: epochMs })
  lastFireAt!: number | null;

  @Column({ type: 'integer' })
  version!: number;

  @Column({ name: 'created_at', type: 'bigint', transformer: epochMs })
  createdAt!: number;

  @Column({ name: 'updated_at', type: 'bigint', transformer: epochMs })
  updatedAt!: number;

  /** See `RecurringScheduleRecord.traceContext`; added by a later migration, hence last. */
  @Column({ name: 'trace_context', type: 'text', nullable: true })
  traceContext!: string | null;
}
