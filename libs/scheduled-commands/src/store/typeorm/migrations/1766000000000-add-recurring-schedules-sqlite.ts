import type { MigrationInterface, QueryRunner } from 'typeorm';
import {
  RECURRING_SCHEDULES_TABLE,
  SCHEDULED_COMMANDS_TABLE,
} from '../../../scheduled-commands.constants.js';
import { recurringStatements } from './recurring-schema.js';
import { qualifiedName } from './scheduled-commands-schema.js';

/** The statements of this migration (SQLite has no schemas: the table names alone). */
const STATEMENTS = recurringStatements(
  'sqlite',
  qualifiedName(SCHEDULED_COMMANDS_TABLE),
  qualifiedName(RECURRING_SCHEDULES_TABLE),
);

/**
 * Adds recurring schedules on SQLite: the `scheduled_commands_recurring` table, and the
 * `recurring_name` / `recurring_fire_time` columns and indexes of `scheduled_commands`. Runs after
 * `CreateScheduledCommandsTableSqlite1764000000000` and
 * `AddScheduledCommandsTraceContextSqlite1765000000000`; `scheduledCommandsMigrations()` lists them
 * in that order.
 */
export class AddRecurringSchedulesSqlite1766000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'AddRecurringSchedulesSqlite1766000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of STATEMENTS.up) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of STATEMENTS.down) await queryRunner.query(sql);
  }
}
