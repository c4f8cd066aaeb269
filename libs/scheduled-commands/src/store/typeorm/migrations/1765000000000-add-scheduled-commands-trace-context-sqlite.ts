import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULED_COMMANDS_TABLE } from '../../../scheduled-commands.constants.js';
import { addColumnStatements, qualifiedName } from './scheduled-commands-schema.js';

/** The statements of this migration (SQLite has no schemas: the table name alone). */
const STATEMENTS = addColumnStatements(
  'sqlite',
  qualifiedName(SCHEDULED_COMMANDS_TABLE),
  'trace-context',
);

/**
 * Adds the `trace_context` column (the scheduling span's trace context, see the README's telemetry
 * section) on SQLite. Runs after `CreateScheduledCommandsTableSqlite1764000000000`; both come with
 * `scheduledCommandsMigrations('better-sqlite3')`.
 */
export class AddScheduledCommandsTraceContextSqlite1765000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'AddScheduledCommandsTraceContextSqlite1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of STATEMENTS.up) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of STATEMENTS.down) await queryRunner.query(sql);
  }
}
