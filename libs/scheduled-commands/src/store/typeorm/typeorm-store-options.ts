/** Options of `TypeOrmScheduledCommandStore`. */
export interface TypeOrmScheduledCommandStoreOptions {
  /**
   * Table to use, optionally schema-qualified (`'jobs.scheduled_commands'`). It must have the
   * schema of `ScheduledCommandEntity` (same columns and indexes).
   * @default the table of `ScheduledCommandEntity` in this DataSource when the entity is registered
   *   (honouring the DataSource's `schema`), otherwise `'scheduled_commands'`
   */
  readonly tableName?: string;
  /**
   * SQLite only: before the first statement, set `PRAGMA busy_timeout = 5000` when the connection
   * has no busy timeout, and switch a file database from the default rollback journal to WAL.
   * Set to `false` to leave the connection exactly as configured.
   * @default true
   */
  readonly configureSqlite?: boolean;
  /**
   * PostgreSQL only: run the statements whose text is the same on every call (claim, complete,
   * retry, dead-letter, release, lease extension, schedule, next-due lookup, expiry sweep, lease
   * recovery, cancel, get) as named prepared statements, so that each pooled connection plans them
   * once instead of on every call. They then bypass TypeORM's query subscribers (logging still goes
   * through the DataSource's logger). Set to `false` behind PgBouncer in transaction pooling mode
   * older than 1.21, which cannot keep named prepared statements.
   * @default true
   */
  readonly preparedStatements?: boolean;
}
