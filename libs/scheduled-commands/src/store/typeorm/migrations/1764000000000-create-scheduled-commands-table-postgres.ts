import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULED_COMMANDS_TABLE } from '../../../scheduled-commands.constants.js';
import {
  createSchemaStatements,
  dropSchemaStatements,
  qualifiedName,
  schemaOf,
} from './scheduled-commands-schema.js';

/**
 * Creates the `scheduled_commands` table and its indexes on PostgreSQL, exactly as
 * `ScheduledCommandEntity` describes them (so `synchronize` finds nothing to change afterwards),
 * in the DataSource's `schema` when one is set. Add it to the DataSource's `migrations`, or use
 * `scheduledCommandsMigrations('postgres')`.
 */
export class CreateScheduledCommandsTablePostgres1764000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'CreateScheduledCommandsTablePostgres1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = qualifiedName(SCHEDULED_COMMANDS_TABLE, schemaOf(queryRunner));
    for (const sql of createSchemaStatements('postgres', table)) {
      await queryRunner.query(sql);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = schemaOf(queryRunner);
    const table = qualifiedName(SCHEDULED_COMMANDS_TABLE, schema);
    for (const sql of dropSchemaStatements(table, schema ? `${qualifiedName(schema)}.` : '')) {
      await queryRunner.query(sql);
    }
  }
}
