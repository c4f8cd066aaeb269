import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULED_COMMANDS_TABLE } from '../../../scheduled-commands.constants.js';
import { addColumnStatements, qualifiedName } from './scheduled-commands-schema.js';

/** The statements of this migration (SQLite has no schemas: the table name alone). */
const STATEMENTS = addColumnStatements(
  'sqlite',
  qualifiedName(SCHEDULED_COMMANDS_TABLE),
  'command-type',
);

/**
 * Replaces the command-type index of dead letters (`IDX_scheduled_commands_command_type`) with
 * `IDX_scheduled_commands_type`, the command type of every row but processing ones, on SQLite.
 * Rows are not touched; `down()` makes the old index again. Runs after
 * `AddRecurringSchedulesSqlite1766000000000`.
 */
export class ReplaceCommandTypeIndexSqlite1768000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'ReplaceCommandTypeIndexSqlite1768000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of STATEMENTS.up) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of STATEMENTS.down) await queryRunner.query(sql);
  }
}
