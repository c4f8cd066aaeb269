import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULED_COMMANDS_TABLE } from '../../../scheduled-commands.constants.js';
import { createMysqlSchemaStatements, quoteMysql } from './mysql-schema.js';

/**
 * Creates the `scheduled_commands` table and its indexes on MySQL 8.0.1+ or MariaDB 10.6+ (TypeORM
 * `mysql` and `mariadb` DataSources), in the DataSource's database. See `mysql-schema.ts` for how
 * it differs from the other dialects' schema.
 */
export class CreateScheduledCommandsTableMysql1764000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'CreateScheduledCommandsTableMysql1764000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    for (const sql of createMysqlSchemaStatements(quoteMysql(SCHEDULED_COMMANDS_TABLE))) {
      await queryRunner.query(sql);
    }
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.query(`DROP TABLE ${quoteMysql(SCHEDULED_COMMANDS_TABLE)}`);
  }
}
