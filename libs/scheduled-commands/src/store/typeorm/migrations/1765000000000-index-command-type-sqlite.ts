import { IndexCommandTypeOfAllRows } from './index-command-type-migration.js';

/**
 * Replaces the command-type index of dead letters only by one of every row, so that the
 * command-type filter is served by an index in any status (SQLite).
 */
export class IndexCommandTypeOfAllRowsSqlite1765000000000 extends IndexCommandTypeOfAllRows {
  /** Migration name recorded in TypeORM's migrations table. */
  readonly name = 'IndexCommandTypeOfAllRowsSqlite1765000000000';
}
