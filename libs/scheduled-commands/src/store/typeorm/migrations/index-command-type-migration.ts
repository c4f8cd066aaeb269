import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RETIRED_INDEXES, TABLE_INDEXES } from '../scheduled-commands-table.js';
import { replaceIndex } from './scheduled-commands-schema.js';

/**
 * What migration 1765000000000 does in SQLite and PostgreSQL alike: replaces the command-type
 * index of dead letters only by one of every row, so that the command-type filter is served by an
 * index in any status. Each dialect's migration names itself.
 */
export abstract class IndexCommandTypeOfAllRows implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  abstract readonly name: string;

  async up(queryRunner: QueryRunner): Promise<void> {
    await replaceIndex(
      queryRunner,
      RETIRED_INDEXES.commandTypeOfDeadLetters,
      TABLE_INDEXES.commandType,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await replaceIndex(
      queryRunner,
      TABLE_INDEXES.commandType,
      RETIRED_INDEXES.commandTypeOfDeadLetters,
    );
  }
}
