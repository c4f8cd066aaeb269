import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULED_COMMANDS_TABLE } from '../../../scheduled-commands.constants.js';
import { RETIRED_INDEXES, TABLE_INDEXES } from '../scheduled-commands-table.js';
import {
  createIndexStatement,
  dropIndexStatement,
  qualifiedName,
} from './scheduled-commands-schema.js';

/**
 * Replaces the command-type index of dead letters only by one of every row, so that the
 * command-type filter is served by an index in any status (SQLite).
 */
export class IndexCommandTypeOfAllRowsSqlite1765000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'IndexCommandTypeOfAllRowsSqlite1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const table = qualifiedName(SCHEDULED_COMMANDS_TABLE);
    await queryRunner.query(createIndexStatement(TABLE_INDEXES.commandType, table));
    await queryRunner.query(dropIndexStatement(RETIRED_INDEXES.commandTypeOfDeadLetters));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const table = qualifiedName(SCHEDULED_COMMANDS_TABLE);
    await queryRunner.query(createIndexStatement(RETIRED_INDEXES.commandTypeOfDeadLetters, table));
    await queryRunner.query(dropIndexStatement(TABLE_INDEXES.commandType));
  }
}
