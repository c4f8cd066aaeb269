import type { DataSource, QueryRunner } from 'typeorm';
import type { Clock } from '../../../clock.js';
import type { EstimatedStatistics, ScheduledCommandStatus } from '../../scheduled-command-entry.js';
import type { StoreWatch } from '../../scheduled-command-store.js';
import { CLAIM_INDEX } from '../scheduled-commands-table.js';
import type { StoreStatement, StoreStatements } from '../sql/store-statement.js';
import type { StatementRunner } from '../statement-executor.js';

/** A column of the rows passed as one JSON parameter (see {@link SqlDialect.jsonRows}). */
export interface JsonColumn {
  /** Column name in the row source; also the key in each JSON object. Prefixed `v_` by convention. */
  readonly name: string;
  readonly type: 'text' | 'integer' | 'bigint';
}

/** A transaction isolation level as TypeORM's `startTransaction` takes it. */
export type IsolationLevel = Parameters<QueryRunner['startTransaction']>[0];

/** A statement ready for `QueryRunner.query()`. */
export interface BoundStatement {
  readonly sql: string;
  readonly params: unknown[];
}

/**
 * The few things that differ between the SQL dialects of the TypeORM store. Statements are written
 * with `$1..$n` parameters and the `$now` token for the store's current time (epoch milliseconds);
 * each dialect turns them into what its driver runs. The store's writes are the dialect's too
 * ({@link statements}, {@link requeue}, {@link purge}): one statement each where the database can
 * write and return rows in one statement ({@link OneStatementDialect}: PostgreSQL, SQLite, whose
 * statements the builders in `../sql/` write once for both), or a short transaction of statements
 * where it cannot (MySQL/MariaDB). The store runs them all the same way, without knowing which.
 *
 * To add a database: write one file with a class implementing this interface and a
 * {@link SqlDialectDefinition}, and list the definition in `select-dialect.ts`. Its migration takes
 * the columns and indexes from the table definition and its column types from
 * `migrations/scheduled-commands-schema.ts`.
 */
export interface SqlDialect {
  /** Dialect name, for messages. */
  readonly name: string;

  /**
   * Whether statements with a fixed text may run as named prepared statements on the connection's
   * `pg` client (see `postgres-prepared-statements.ts`). Only for `pg`-driven dialects.
   */
  readonly preparedStatements: boolean;

  /**
   * Whether every query runner of the DataSource shares one connection (SQLite): a transaction
   * then has to keep the store's other statements out until it ends, or they would run inside it.
   */
  readonly sharedConnection: boolean;

  /** The isolation level of the store's transactions; the connection's default when undefined. */
  readonly isolationLevel: IsolationLevel;

  /**
   * Whether the schema's partial indexes keep their predicates (PostgreSQL, SQLite): `find()` then
   * splits a command-type filter between the command-type index and the processing rows. MySQL and
   * MariaDB have no partial indexes, and index every row.
   */
  readonly partialIndexes: boolean;

  /**
   * `estimateStatistics()` where the database can estimate what it does not count (PostgreSQL);
   * absent where counting stays cheap, and the store counts exactly.
   */
  estimateStatistics?(
    runner: StatementRunner,
    table: string,
    exactUpTo: number,
  ): Promise<EstimatedStatistics>;

  /**
   * Runs `transaction` (a whole transaction, which may be run again from its start), retrying it
   * where the database can choose it as a deadlock victim (MySQL/MariaDB); once elsewhere.
   */
  runTransaction<T>(transaction: () => Promise<T>): Promise<T>;

  /** Quotes a table name (`schema.table` too) for this dialect's statements. */
  quoteTable(name: string): string;

  /**
   * Rewrites `sql` (with `$1..$n` and `$now`) for the driver, with the matching parameter list.
   * `$now` is the database clock on PostgreSQL and MySQL/MariaDB, and the injected clock (read once
   * per statement) on SQLite.
   */
  bind(sql: string, params: readonly unknown[]): BoundStatement;

  /**
   * A `FROM` item named `v` that turns `param`, a JSON array of objects, into rows with `columns`.
   * One parameter carries a whole batch, whatever its size.
   */
  jsonRows(param: string, columns: readonly JsonColumn[]): string;

  /**
   * Text to put after a table name (and alias) in `FROM` to make the query use the named index:
   * `INDEXED BY` on SQLite, whose planner has no statistics to tell a selective partial index from
   * the low-cardinality status index; nothing on PostgreSQL, whose planner does.
   */
  indexHint(index: string): string;

  /** The store's statements of fixed text for `table` (already quoted), as this dialect runs them. */
  statements(table: string): StoreStatements;

  /**
   * Requeues the rows whose ids `candidates` selects (its parameters start at `$1`) while their
   * status is in `statuses` and their idempotency key is free; returns them. Fails with a unique
   * violation when a concurrent insert took a key meanwhile (the store runs it again).
   */
  requeue(
    table: string,
    candidates: string,
    statuses: readonly ScheduledCommandStatus[],
  ): StoreStatement;

  /** Deletes up to `$2` rows in `statuses` that finished before `$1`; `affected` is the count. */
  purge(table: string, statuses: readonly ScheduledCommandStatus[]): StoreStatement;

  /** Whether `error` is a unique-constraint violation. */
  isUniqueViolation(error: unknown): boolean;

  /**
   * One-time set-up and checks before the first statement (pragmas on SQLite; the server and the
   * table on MySQL/MariaDB). `tableName` is the store's table, unquoted.
   */
  prepareConnection(dataSource: DataSource, tableName: string): Promise<void>;

  /**
   * Calls `onScheduled` whenever any instance schedules, reschedules, requeues or releases a
   * command (the store's `watch`). Absent when the database cannot notify other instances.
   */
  watch?(onScheduled: () => void): Promise<StoreWatch>;

  /** Deadlocks retried and given up on by {@link runTransaction}; absent where there are none. */
  readonly deadlocks?: Readonly<{ retried: number; gaveUp: number }>;
}

/**
 * A dialect whose database writes and returns rows in one statement (PostgreSQL, SQLite): the
 * builders in `../sql/` write every store statement once for all of them, with these parts.
 */
export interface OneStatementDialect extends SqlDialect {
  /**
   * A condition that the row's `id` is one of the `v_id` values of `batch` (a CTE of a batch
   * parameter), in a form the planner serves with primary-key lookups whatever its statistics say:
   * `= ANY(ARRAY(...))` on PostgreSQL, whose plan for a join against a function scan of unknown size
   * can otherwise be a hash join over a scan of the whole table; `IN (...)` on SQLite.
   */
  idInBatch(batch: string): string;

  /**
   * The claim statement: parameters `$1` worker id, `$2` limit, `$3` lease in milliseconds, `$4`
   * the `scheduledFrom` hint in epoch milliseconds (the smallest bigint without one; a dialect may
   * ignore it). Returns the claimed rows with the columns in `returning`.
   */
  claimSql(table: string, returning: string): string;

  /**
   * `column` in a form no index can serve, so that a join from a batch parameter is always driven
   * by the primary key and never by the status index.
   */
  unindexed(column: string): string;

  /** Row-locking suffix for the inner `SELECT` of a bulk update (`FOR UPDATE SKIP LOCKED` on PostgreSQL). */
  readonly skipLocked: string;

  /**
   * Wraps a data-modifying statement that has a `RETURNING` clause so that it also wakes up the
   * other instances (PostgreSQL `NOTIFY` in the same statement). Identity where there is no such thing.
   */
  notifying(sql: string): string;
}

/** What a dialect is built from: the store's DataSource, clock and options. */
export interface SqlDialectContext {
  readonly dataSource: DataSource;
  /** The store's injected clock (a dialect whose database has a clock uses that instead). */
  readonly clock: Clock;
  /** `preparedStatements` and `configureSqlite` of the store's options. */
  readonly options: {
    readonly preparedStatements?: boolean;
    readonly configureSqlite?: boolean;
  };
}

/** A dialect as the store selects it: the DataSource types it serves, and how to build it. */
export interface SqlDialectDefinition {
  /** `DataSource` `type` values this dialect runs on. */
  readonly dataSourceTypes: readonly string[];
  create(context: SqlDialectContext): SqlDialect;
}

/** Quotes an identifier, or each part of a dotted `schema.table` name. */
export function quoteTableName(name: string): string {
  return name
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
}

/**
 * Lists the distinct priorities of pending rows from the highest down, one index probe per
 * priority (a loose index scan on the claim index), ending with a `NULL` row. Shared by both
 * dialects: a claim or a next-due lookup then reads each priority's own range of the index instead
 * of walking every pending row.
 */
export function pendingPrioritiesCte(
  table: string,
  dialect: Pick<SqlDialect, 'indexHint'>,
): string {
  const claimIndex = dialect.indexHint(CLAIM_INDEX);
  return `priorities(p) AS (
    SELECT (SELECT MAX(priority) FROM ${table}${claimIndex} WHERE status = 'pending')
    UNION ALL
    SELECT (
      SELECT MAX(c.priority) FROM ${table} c${claimIndex}
      WHERE c.status = 'pending' AND c.priority < priorities.p
    )
    FROM priorities WHERE priorities.p IS NOT NULL
  )`;
}
