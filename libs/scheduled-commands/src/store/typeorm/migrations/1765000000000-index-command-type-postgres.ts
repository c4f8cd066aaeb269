import type { MigrationInterface, QueryRunner } from 'typeorm';
import { RETIRED_INDEXES, TABLE_INDEXES } from '../scheduled-commands-table.js';
import { replaceIndex } from './scheduled-commands-schema.js';

/**
 * Replaces the command-type index of dead letters only by one of every row, so that the
 * command-type filter is served by an index in any status (PostgreSQL, in the DataSource's `schema`
 * when one is set). `CREATE INDEX` blocks writes to the table while it builds (about a second per
 * million rows); on a big, busy table, create `IDX_scheduled_commands_type` with
 * `CREATE INDEX CONCURRENTLY` by hand first: this migration then only drops the old index.
 */
export class IndexCommandTypeOfAllRowsPostgres1765000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'IndexCommandTypeOfAllRowsPostgres1765000000000';

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
