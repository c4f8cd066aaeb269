import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULED_COMMANDS_TABLE } from '../../../scheduled-commands.constants.js';
import { addColumnStatements, qualifiedName, schemaOf } from './scheduled-commands-schema.js';

/**
 * Adds the `trace_context` column (the scheduling span's trace context, see the README's telemetry
 * section) on PostgreSQL, in the DataSource's `schema` when one is set. Runs after
 * `CreateScheduledCommandsTablePostgres1764000000000`; both come with
 * `scheduledCommandsMigrations('postgres')`. Adding a nullable column with no default rewrites no rows.
 */
export class AddScheduledCommandsTraceContextPostgres1765000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'AddScheduledCommandsTraceContextPostgres1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of this.statements(queryRunner).up) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of this.statements(queryRunner).down) await queryRunner.query(sql);
  }

  private statements(queryRunner: QueryRunner) {
    const table = qualifiedName(SCHEDULED_COMMANDS_TABLE, schemaOf(queryRunner));
    return addColumnStatements('postgres', table, 'trace-context');
  }
}
