import type { MigrationInterface, QueryRunner } from 'typeorm';
import { SCHEDULED_COMMANDS_TABLE } from '../../../scheduled-commands.constants.js';
import { RETIRED_INDEXES, TABLE_INDEXES } from '../scheduled-commands-table.js';
import {
  createIndexStatement,
  dropIndexStatement,
  qualifiedName,
  schemaOf,
} from './scheduled-commands-schema.js';

/**
 * Replaces the command-type index of dead letters only by one of every row, so that the
 * command-type filter is served by an index in any status (PostgreSQL). `CREATE INDEX` blocks
 * writes to the table while it builds (about a second per million rows); on a big, busy table,
 * create `IDX_scheduled_commands_type` with `CREATE INDEX CONCURRENTLY` by hand first: this
 * migration then only drops the old index.
 */
export class IndexCommandTypeOfAllRowsPostgres1765000000000 implements MigrationInterface {
  /** Migration name recorded in TypeORM's migrations table. */
  name = 'IndexCommandTypeOfAllRowsPostgres1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    const schema = schemaOf(queryRunner);
    const table = qualifiedName(SCHEDULED_COMMANDS_TABLE, schema);
    const prefix = schema ? `${qualifiedName(schema)}.` : '';
    const create = createIndexStatement(TABLE_INDEXES.commandType, table);
    await queryRunner.query(create.replace('CREATE INDEX', 'CREATE INDEX IF NOT EXISTS'));
    await queryRunner.query(dropIndexStatement(RETIRED_INDEXES.commandTypeOfDeadLetters, prefix));
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    const schema = schemaOf(queryRunner);
    const table = qualifiedName(SCHEDULED_COMMANDS_TABLE, schema);
    const prefix = schema ? `${qualifiedName(schema)}.` : '';
    await queryRunner.query(createIndexStatement(RETIRED_INDEXES.commandTypeOfDeadLetters, table));
    await queryRunner.query(dropIndexStatement(TABLE_INDEXES.commandType, prefix));
  }
}
