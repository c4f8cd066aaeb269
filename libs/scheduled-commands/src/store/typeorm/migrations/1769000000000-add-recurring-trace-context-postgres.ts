import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RECURRING_SCHEDULES_TABLE } from '../../../scheduled-commands.constants.js';
import { recurringTraceContextStatements } from './recurring-schema.js';
import { qualifiedName, schemaOf } from './scheduled-commands-schema.js';

/**
 * Adds the `trace_context` column of `scheduled_commands_recurring` on PostgreSQL (in the
 * DataSource's `schema` when one is set): the trace context of the span in which a schedule was
 * created or changed, which its occurrences' runs link to (see the README's telemetry section).
 * Runs after `AddRecurringSchedulesPostgres1766000000000`; `scheduledCommandsMigrations('postgres')`
 * lists them in that order.
 */
export class AddRecurringTraceContextPostgres1769000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'AddRecurringTraceContextPostgres1769000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of this.statements(queryRunner).up) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of this.statements(queryRunner).down) await queryRunner.query(sql);
  }

  private statements(queryRunner: QueryRunner) {
    return recurringTraceContextStatements(
      qualifiedName(RECURRING_SCHEDULES_TABLE, schemaOf(queryRunner)),
    );
  }
}
