import { Logger } from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { OneStatementSqlDialect } from './one-statement-dialect.js';
import { compileParameters, NOW_PARAMETER, StatementCache } from './bind-parameters.js';
import { CLAIM_INDEX } from '../scheduled-commands-table.js';
import { type BoundStatement, type JsonColumn, type SqlDialectDefinition } from './sql-dialect.js';

/** Busy timeout set on a SQLite connection that has none, in milliseconds. */
export const SQLITE_BUSY_TIMEOUT_MS = 5_000;

/** Smaller than any epoch-millisecond value: the start of a priority's range in the claim walk. */
const BEFORE_ALL_TIMES = '-9223372036854775808';

/** Options of {@link SqliteDialect}. */
export interface SqliteDialectOptions {
  /** The store's clock, read once per statement for `$now` (epoch milliseconds). */
  readonly nowMs: () => number;
  /** Switch a file database to WAL and set a busy timeout when it has none. @default true */
  readonly configureConnection?: boolean;
}

/**
 * SQLite (better-sqlite3). SQLite runs on one host, so the injected clock is the store's clock and
 * is passed as a parameter. Every operation is a single statement: a write statement takes the
 * database's write lock before it reads, so one statement is atomic across connections and
 * processes sharing the file.
 */
export class SqliteDialect extends OneStatementSqlDialect {
  readonly name = 'sqlite';
  readonly skipLocked = '';
  readonly preparedStatements = false;
  readonly sharedConnection = true;
  private readonly logger = new Logger('TypeOrmScheduledCommandStore');
  private readonly cache = new StatementCache();

  constructor(private readonly options: SqliteDialectOptions) {
    super();
  }

  bind(sql: string, params: readonly unknown[]): BoundStatement {
    const compiled = this.cache.get(sql, (text) =>
      compileParameters(text, () => ({ text: '?', positional: true })),
    );
    let now: number | undefined;
    const values = compiled.order.map((index) =>
      index === NOW_PARAMETER ? (now ??= this.options.nowMs()) : params[index],
    );
    return { sql: compiled.sql, params: values };
  }

  jsonRows(param: string, columns: readonly JsonColumn[]): string {
    const fields = columns.map((c) => `value ->> '${c.name}' AS ${c.name}`).join(', ');
    return `(SELECT ${fields} FROM json_each(${param})) AS v`;
  }

  idInBatch(batch: string): string {
    return `id IN (SELECT v_id FROM ${batch})`;
  }

  unindexed(column: string): string {
    return `+${column}`;
  }

  indexHint(index: string): string {
    return ` INDEXED BY "${index}"`;
  }

  /**
   * SQLite cannot scan an ascending index in (priority DESC, scheduled_for ASC) order and has no
   * LATERAL join, so the claim walks the claim index one row at a time in a recursive CTE: the next
   * due row of the current priority after the last one taken, or else the next lower priority. Each
   * step is one index probe and the walk stops once `limit` rows are taken, so its cost depends on
   * the batch size and the number of priorities, not on how many rows are pending (due or not).
   * The `scheduledFrom` hint (`$4`) is not used: SQLite removes a claimed row's index entry at once.
   */
  claimSql(table: string, returning: string): string {
    const claimIndex = this.indexHint(CLAIM_INDEX);
    return `WITH RECURSIVE walk(w_priority, w_scheduled_for, w_id, w_emit, w_taken) AS (
      SELECT (SELECT MAX(priority) FROM ${table}${claimIndex} WHERE status = 'pending'),
             ${BEFORE_ALL_TIMES}, '', 0, 0
      UNION ALL
      SELECT
        CASE WHEN nx.id IS NULL THEN (
            SELECT MAX(c.priority) FROM ${table} c${claimIndex}
            WHERE c.status = 'pending' AND c.priority < w.w_priority)
          ELSE w.w_priority END,
        CASE WHEN nx.id IS NULL THEN ${BEFORE_ALL_TIMES} ELSE nx.scheduled_for END,
        CASE WHEN nx.id IS NULL THEN '' ELSE nx.id END,
        nx.id IS NOT NULL,
        w.w_taken + (nx.id IS NOT NULL)
      FROM walk w
      LEFT JOIN ${table} nx ON nx.id = (
        SELECT c.id FROM ${table} c${claimIndex}
        WHERE c.status = 'pending' AND c.priority = w.w_priority AND c.scheduled_for <= $now
          AND (c.scheduled_for, c.id) > (w.w_scheduled_for, w.w_id)
          AND (c.expires_at IS NULL OR c.expires_at > $now)
        ORDER BY c.scheduled_for, c.id LIMIT 1)
      WHERE w.w_priority IS NOT NULL AND w.w_taken < $2
    )
    UPDATE ${table}
    SET status = 'processing', locked_by = $1, locked_until = $now + $3, started_at = $now,
        attempts = attempts + 1
    WHERE id IN (SELECT w_id FROM walk WHERE w_emit) AND status = 'pending'
    RETURNING ${returning}`;
  }

  notifying(sql: string): string {
    return sql;
  }

  isUniqueViolation(error: unknown): boolean {
    const code = (error as { code?: unknown } | null)?.code;
    return code === 'SQLITE_CONSTRAINT_UNIQUE';
  }

  /**
   * Sets a busy timeout when the connection has none (so a writer waits for another process's write
   * instead of failing at once), and switches a file database from the default rollback journal to
   * WAL (readers never block the writer). A database already in another journal mode is left as it is.
   */
  async prepareConnection(dataSource: DataSource): Promise<void> {
    if (this.options.configureConnection === false) return;
    const [busy] = (await dataSource.query('PRAGMA busy_timeout')) as { timeout: number }[];
    if (!busy || Number(busy.timeout) === 0) {
      await dataSource.query(`PRAGMA busy_timeout = ${SQLITE_BUSY_TIMEOUT_MS}`);
    }
    const [journal] = (await dataSource.query('PRAGMA journal_mode')) as { journal_mode: string }[];
    if (journal?.journal_mode?.toLowerCase() === 'delete') {
      try {
        await dataSource.query('PRAGMA journal_mode = WAL');
      } catch (error) {
        // Another connection in the middle of a transaction prevents the switch; it is only an optimisation.
        this.logger.warn(`Could not switch the SQLite database to WAL mode: ${String(error)}`);
      }
    }
  }
}

/** SQLite through `better-sqlite3` (or `sqlite3`): the injected clock is the store's clock. */
export const SQLITE_DIALECT: SqlDialectDefinition = {
  dataSourceTypes: ['better-sqlite3', 'sqlite'],
  create: ({ clock, options }) =>
    new SqliteDialect({
      nowMs: () => clock.now().getTime(),
      configureConnection: options.configureSqlite ?? true,
    }),
};
