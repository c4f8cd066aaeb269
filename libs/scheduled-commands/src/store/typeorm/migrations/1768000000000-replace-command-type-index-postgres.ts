import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULED_COMMANDS_TABLE } from '../../../scheduled-commands.constants.js';
import { addColumnStatements, qualifiedName, schemaOf } from './scheduled-commands-schema.js';

/**
 * Replaces the command-type index of dead letters (`IDX_scheduled_commands_command_type`) with
 * `IDX_scheduled_commands_type`, the command type of every row but processing ones, on PostgreSQL
 * (in the DataSource's `schema` when one is set). Rows are not touched. Building the index reads
 * the whole table and holds writes back meanwhile (a few seconds per million rows); `down()` makes
 * the old index again. Runs after `AddRecurringSchedulesPostgres1766000000000`.
 */
export class ReplaceCommandTypeIndexPostgres1768000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'ReplaceCommandTypeIndexPostgres1768000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of this.statements(queryRunner).up) await queryRunner.query(sql);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of this.statements(queryRunner).down) await queryRunner.query(sql);
  }

  private statements(queryRunner: QueryRunner) {
    const schema = schemaOf(queryRunner);
    const table = qualifiedName(SCHEDULED_COMMANDS_TABLE, schema);
    return addColumnStatements(
      'postgres',
      table,
      'command-type',
      schema ? `${qualifiedName(schema)}.` : '',
    );
  }
}
