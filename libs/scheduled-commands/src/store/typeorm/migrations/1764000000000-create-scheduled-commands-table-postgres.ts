import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULED_COMMANDS_TABLE } from '../../../scheduled-commands.constants.js';
import { FIRST_MIGRATION_INDEXES } from '../scheduled-commands-table.js';
import {
  createSchemaStatements,
  dropSchemaStatements,
  qualifiedName,
  schemaOf,
} from './scheduled-commands-schema.js';

/**
 * Creates the `scheduled_commands` table and its indexes on PostgreSQL, as the schema was at
 * this version (with the later migrations, exactly as `ScheduledCommandEntity` describes it, so
 * `synchronize` finds nothing to change afterwards),
 * in the DataSource's `schema` when one is set. Add it to the DataSource's `migrations`, or use
 * `scheduledCommandsMigrations('postgres')`.
 */
export class CreateScheduledCommandsTablePostgres1764000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'CreateScheduledCommandsTablePostgres1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = qualifiedName(SCHEDULED_COMMANDS_TABLE, schemaOf(queryRunner));
    for (const sql of createSchemaStatements('postgres', table, FIRST_MIGRATION_INDEXES)) {
      await queryRunner.query(sql);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = schemaOf(queryRunner);
    const table = qualifiedName(SCHEDULED_COMMANDS_TABLE, schema);
    for (const sql of dropSchemaStatements(
      table,
      schema ? `${qualifiedName(schema)}.` : '',
      FIRST_MIGRATION_INDEXES,
    )) {
      await queryRunner.query(sql);
    }
  }
}
