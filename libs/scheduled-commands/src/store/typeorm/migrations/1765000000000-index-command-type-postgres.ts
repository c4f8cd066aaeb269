import { IndexCommandTypeOfAllRows } from './index-command-type-migration.js';

/**
 * Replaces the command-type index of dead letters only by one of every row, so that the
 * command-type filter is served by an index in any status (PostgreSQL, in the DataSource's `schema`
 * when one is set). `CREATE INDEX` blocks writes to the table while it builds (about a second per
 * million rows); on a big, busy table, create `IDX_scheduled_commands_type` with
 * `CREATE INDEX CONCURRENTLY` by hand first: this migration then only drops the old index.
 */
export class IndexCommandTypeOfAllRowsPostgres1765000000000 extends IndexCommandTypeOfAllRows {
  /** Migration name recorded in TypeORM's migrations table. */
  readonly name = 'IndexCommandTypeOfAllRowsPostgres1765000000000';
}
