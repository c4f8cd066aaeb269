import { ScheduledCommandsError } from '../../../errors/index.js';
import { CreateScheduledCommandsTablePostgres1764000000000 } from './1764000000000-create-scheduled-commands-table-postgres.js';
import { CreateScheduledCommandsTableSqlite1764000000000 } from './1764000000000-create-scheduled-commands-table-sqlite.js';
import { IndexCommandTypeOfAllRowsPostgres1765000000000 } from './1765000000000-index-command-type-postgres.js';
import { IndexCommandTypeOfAllRowsSqlite1765000000000 } from './1765000000000-index-command-type-sqlite.js';

export { CreateScheduledCommandsTablePostgres1764000000000 } from './1764000000000-create-scheduled-commands-table-postgres.js';
export { CreateScheduledCommandsTableSqlite1764000000000 } from './1764000000000-create-scheduled-commands-table-sqlite.js';
export { IndexCommandTypeOfAllRowsPostgres1765000000000 } from './1765000000000-index-command-type-postgres.js';
export { IndexCommandTypeOfAllRowsSqlite1765000000000 } from './1765000000000-index-command-type-sqlite.js';

/**
 * The migrations that create the scheduled-commands schema for a DataSource type, to spread into
 * the DataSource's `migrations`:
 *
 * ```ts
 * new DataSource({ type: 'postgres', url, entities: [...], migrations: [...myMigrations, ...scheduledCommandsMigrations('postgres')] })
 * ```
 *
 * @param type the DataSource `type`: `'better-sqlite3'` (or `'sqlite'`) or `'postgres'`
 * @throws ScheduledCommandsError for any other type
 */
export function scheduledCommandsMigrations(type: string): (new () => object)[] {
  switch (type) {
    case 'better-sqlite3':
    case 'sqlite':
      return [
        CreateScheduledCommandsTableSqlite1764000000000,
        IndexCommandTypeOfAllRowsSqlite1765000000000,
      ];
    case 'postgres':
      return [
        CreateScheduledCommandsTablePostgres1764000000000,
        IndexCommandTypeOfAllRowsPostgres1765000000000,
      ];
    default:
      throw new ScheduledCommandsError(
        `No scheduled-commands migrations for the DataSource type "${type}"; supported types: "better-sqlite3", "sqlite", "postgres".`,
      );
  }
}
