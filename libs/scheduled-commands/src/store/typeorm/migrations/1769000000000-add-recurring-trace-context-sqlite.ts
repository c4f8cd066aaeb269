import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RECURRING_SCHEDULES_TABLE } from '../../../scheduled-commands.constants.js';
import { recurringTraceContextStatements } from './recurring-schema.js';
import { qualifiedName } from './scheduled-commands-schema.js';

/** The statements of this migration (SQLite has no schemas: the table name alone). */
const STATEMENTS = recurringTraceContextStatements(qualifiedName(RECURRING_SCHEDULES_TABLE));

/**
 * Adds the `trace_context` column of `scheduled_commands_recurring` on SQLite: the trace context of
 * the span in which a schedule was created or changed, which its occurrences' runs link to (see the
 * README's telemetry section). Runs after `AddRecurringSchedulesSqlite1766000000000`;
 * `scheduledCommandsMigrations('better-sqlite3')` lists them in that order.
 */
export class AddRecurringTraceContextSqlite1769000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'AddRecurringTraceContextSqlite1769000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of STATEMENTS.up) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of STATEMENTS.down) await queryRunner.query(sql);
  }
}
