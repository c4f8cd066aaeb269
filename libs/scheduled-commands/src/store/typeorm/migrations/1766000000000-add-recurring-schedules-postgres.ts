import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  RECURRING_SCHEDULES_TABLE,
  SCHEDULED_COMMANDS_TABLE,
} from '../../../scheduled-commands.constants.js';
import { recurringStatements } from './recurring-schema.js';
import { qualifiedName, schemaOf } from './scheduled-commands-schema.js';

/**
 * Adds recurring schedules on PostgreSQL (in the DataSource's `schema` when one is set): the
 * `scheduled_commands_recurring` table, and the `recurring_name` / `recurring_fire_time` columns and
 * indexes of `scheduled_commands`. Runs after `CreateScheduledCommandsTablePostgres1764000000000` and
 * `AddScheduledCommandsTraceContextPostgres1765000000000`; `scheduledCommandsMigrations()` lists them
 * in that order.
 */
export class AddRecurringSchedulesPostgres1766000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'AddRecurringSchedulesPostgres1766000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of this.statements(queryRunner).up) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of this.statements(queryRunner).down) await queryRunner.query(sql);
  }

  private statements(queryRunner: QueryRunner) {
    const schema = schemaOf(queryRunner);
    return recurringStatements(
      'postgres',
      qualifiedName(SCHEDULED_COMMANDS_TABLE, schema),
      qualifiedName(RECURRING_SCHEDULES_TABLE, schema),
      schema ? `${qualifiedName(schema)}.` : '',
    );
  }
}
