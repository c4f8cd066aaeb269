import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULED_COMMANDS_TABLE } from '../../../scheduled-commands.constants.js';
import { FIRST_MIGRATION_INDEXES } from '../scheduled-commands-table.js';
import {
  createSchemaStatements,
  dropSchemaStatements,
  qualifiedName,
} from './scheduled-commands-schema.js';

/**
 * Creates the `scheduled_commands` table and its indexes on SQLite (better-sqlite3), as the schema
 * was at this version (with the later migrations, exactly as `ScheduledCommandEntity` describes it,
 * so `synchronize` finds nothing to change afterwards).
 * Add it to the DataSource's `migrations`, or use `scheduledCommandsMigrations('better-sqlite3')`.
 */
export class CreateScheduledCommandsTableSqlite1764000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'CreateScheduledCommandsTableSqlite1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of createSchemaStatements(
      'sqlite',
      qualifiedName(SCHEDULED_COMMANDS_TABLE),
      FIRST_MIGRATION_INDEXES,
    )) {
      await queryRunner.query(sql);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const sql of dropSchemaStatements(
      qualifiedName(SCHEDULED_COMMANDS_TABLE),
      '',
      FIRST_MIGRATION_INDEXES,
    )) {
      await queryRunner.query(sql);
    }
  }
}
