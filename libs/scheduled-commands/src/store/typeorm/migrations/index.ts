import { ScheduledCommandsError } from '../../../errors/index.js';
import { CreateScheduledCommandsTableMysql1764000000000 } from './1764000000000-create-scheduled-commands-table-mysql.js';
import { CreateScheduledCommandsTablePostgres1764000000000 } from './1764000000000-create-scheduled-commands-table-postgres.js';
import { CreateScheduledCommandsTableSqlite1764000000000 } from './1764000000000-create-scheduled-commands-table-sqlite.js';
import { AddScheduledCommandsTraceContextPostgres1765000000000 } from './1765000000000-add-scheduled-commands-trace-context-postgres.js';
import { AddScheduledCommandsTraceContextSqlite1765000000000 } from './1765000000000-add-scheduled-commands-trace-context-sqlite.js';
import { AddRecurringSchedulesPostgres1766000000000 } from './1766000000000-add-recurring-schedules-postgres.js';
import { AddRecurringSchedulesSqlite1766000000000 } from './1766000000000-add-recurring-schedules-sqlite.js';
import { ReplaceCommandTypeIndexMysql1768000000000 } from './1768000000000-replace-command-type-index-mysql.js';
import { ReplaceCommandTypeIndexPostgres1768000000000 } from './1768000000000-replace-command-type-index-postgres.js';
import { ReplaceCommandTypeIndexSqlite1768000000000 } from './1768000000000-replace-command-type-index-sqlite.js';
import { AddRecurringTraceContextPostgres1769000000000 } from './1769000000000-add-recurring-trace-context-postgres.js';
import { AddRecurringTraceContextSqlite1769000000000 } from './1769000000000-add-recurring-trace-context-sqlite.js';

export { CreateScheduledCommandsTableMysql1764000000000 } from './1764000000000-create-scheduled-commands-table-mysql.js';
export { CreateScheduledCommandsTablePostgres1764000000000 } from './1764000000000-create-scheduled-commands-table-postgres.js';
export { CreateScheduledCommandsTableSqlite1764000000000 } from './1764000000000-create-scheduled-commands-table-sqlite.js';
export { AddScheduledCommandsTraceContextPostgres1765000000000 } from './1765000000000-add-scheduled-commands-trace-context-postgres.js';
export { AddScheduledCommandsTraceContextSqlite1765000000000 } from './1765000000000-add-scheduled-commands-trace-context-sqlite.js';
export { AddRecurringSchedulesPostgres1766000000000 } from './1766000000000-add-recurring-schedules-postgres.js';
export { AddRecurringSchedulesSqlite1766000000000 } from './1766000000000-add-recurring-schedules-sqlite.js';
export { ReplaceCommandTypeIndexMysql1768000000000 } from './1768000000000-replace-command-type-index-mysql.js';
export { ReplaceCommandTypeIndexPostgres1768000000000 } from './1768000000000-replace-command-type-index-postgres.js';
export { ReplaceCommandTypeIndexSqlite1768000000000 } from './1768000000000-replace-command-type-index-sqlite.js';
export { AddRecurringTraceContextPostgres1769000000000 } from './1769000000000-add-recurring-trace-context-postgres.js';
export { AddRecurringTraceContextSqlite1769000000000 } from './1769000000000-add-recurring-trace-context-sqlite.js';

/**
 * The migrations that create the scheduled-commands schema for a DataSource type, in order (the
 * table, then the trace-context column, then the recurring schedules, then the command-type index,
 * then the recurring schedules' trace-context column), to spread into the DataSource's `migrations`:
 *
 * ```ts
 * new DataSource({ type: 'postgres', url, entities: [...], migrations: [...myMigrations, ...scheduledCommandsMigrations('postgres')] })
 * ```
 *
 * @param type the DataSource `type`: `'better-sqlite3'` (or `'sqlite'`), `'postgres'`, `'mysql'`
 *   or `'mariadb'`
 * @throws ScheduledCommandsError for any other type
 */
export function scheduledCommandsMigrations(type: string): (new () => object)[] {
  switch (type) {
    case 'better-sqlite3':
    case 'sqlite':
      return [
        CreateScheduledCommandsTableSqlite1764000000000,
        AddScheduledCommandsTraceContextSqlite1765000000000,
        AddRecurringSchedulesSqlite1766000000000,
        ReplaceCommandTypeIndexSqlite1768000000000,
        AddRecurringTraceContextSqlite1769000000000,
      ];
    case 'postgres':
      return [
        CreateScheduledCommandsTablePostgres1764000000000,
        AddScheduledCommandsTraceContextPostgres1765000000000,
        AddRecurringSchedulesPostgres1766000000000,
        ReplaceCommandTypeIndexPostgres1768000000000,
        AddRecurringTraceContextPostgres1769000000000,
      ];
    case 'mysql':
    case 'mariadb':
      return [
        CreateScheduledCommandsTableMysql1764000000000,
        ReplaceCommandTypeIndexMysql1768000000000,
      ];
    default:
      throw new ScheduledCommandsError(
        `No scheduled-commands migrations for the DataSource type "${type}"; supported types: "better-sqlite3", "sqlite", "postgres", "mysql", "mariadb".`,
      );
  }
}
