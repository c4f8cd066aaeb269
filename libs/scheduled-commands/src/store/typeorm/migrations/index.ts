import { ScheduledCommandsError } from '../../../errors/index.js';
import { CreateScheduledCommandsTablePostgres1764000000000 } from './1764000000000-create-scheduled-commands-table-postgres.js';
import { CreateScheduledCommandsTableSqlite1764000000000 } from './1764000000000-create-scheduled-commands-table-sqlite.js';
import { AddRecurringSchedulesPostgres1765000000000 } from './1765000000000-add-recurring-schedules-postgres.js';
import { AddRecurringSchedulesSqlite1765000000000 } from './1765000000000-add-recurring-schedules-sqlite.js';

export { CreateScheduledCommandsTablePostgres1764000000000 } from './1764000000000-create-scheduled-commands-table-postgres.js';
export { CreateScheduledCommandsTableSqlite1764000000000 } from './1764000000000-create-scheduled-commands-table-sqlite.js';
export { AddRecurringSchedulesPostgres1765000000000 } from './1765000000000-add-recurring-schedules-postgres.js';
export { AddRecurringSchedulesSqlite1765000000000 } from './1765000000000-add-recurring-schedules-sqlite.js';

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
        AddRecurringSchedulesSqlite1765000000000,
      ];
    case 'postgres':
      return [
        CreateScheduledCommandsTablePostgres1764000000000,
        AddRecurringSchedulesPostgres1765000000000,
      ];
    default:
      throw new ScheduledCommandsError(
        `No scheduled-commands migrations for the DataSource type "${type}"; supported types: "better-sqlite3", "sqlite", "postgres".`,
      );
  }
}
