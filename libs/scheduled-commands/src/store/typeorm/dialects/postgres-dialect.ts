import type { DataSource } from 'typeorm';
import { OneStatementSqlDialect } from './one-statement-dialect.js';
import type { EstimatedStatistics } from '../../scheduled-command-entry.js';
import type { StoreWatch } from '../../scheduled-command-store.js';
import { estimatePostgresStatistics } from '../estimated-statistics.js';
import type { StatementRunner } from '../statement-executor.js';
import { listenClientFactory, PostgresListener } from '../postgres-listener.js';
import { compileParameters, NOW_PARAMETER, StatementCache } from './bind-parameters.js';
import {
  pendingPrioritiesCte,
  type BoundStatement,
  type JsonColumn,
  type SqlDialectDefinition,
} from './sql-dialect.js';

/** The `LISTEN/NOTIFY` channel on which the PostgreSQL store announces new or newly due commands. */
export const SCHEDULED_COMMANDS_CHANNEL = 'scheduled_commands';

/**
 * The database clock in epoch milliseconds. `statement_timestamp()` is one value for the whole
 * statement (every comparison and every time written agree) and, being stable rather than
 * volatile like `clock_timestamp()`, it can bound an index range scan.
 */
export const POSTGRES_NOW_MS = `(FLOOR(EXTRACT(EPOCH FROM statement_timestamp()) * 1000)::bigint)`;

/**
 * PostgreSQL. The database clock decides what is due (instances' clocks may drift), row locks with
 * `SKIP LOCKED` let many instances claim at once without waiting for each other, and `NOTIFY` wakes
 * the other instances up when a command is scheduled.
 */
export class PostgresDialect extends OneStatementSqlDialect {
  readonly name = 'postgres';
  readonly skipLocked = ' FOR UPDATE SKIP LOCKED';
  readonly sharedConnection = false;
  readonly preparedStatements: boolean;
  private readonly cache = new StatementCache();

  /**
   * @param options `dataSource`: where `watch` listens (required for `watch`);
   *   `preparedStatements`: see the store's option of that name (default `true`)
   */
  constructor(
    private readonly options: { dataSource?: DataSource; preparedStatements?: boolean } = {},
  ) {
    super();
    this.preparedStatements = options.preparedStatements ?? true;
  }

  /** Counts through the partial indexes up to `exactUpTo`, the planner's estimate beyond. */
  estimateStatistics(
    runner: StatementRunner,
    table: string,
    exactUpTo: number,
  ): Promise<EstimatedStatistics> {
    return estimatePostgresStatistics(runner, table, this, exactUpTo);
  }

  bind(sql: string, params: readonly unknown[]): BoundStatement {
    const compiled = this.cache.get(sql, (text) =>
      compileParameters(text, (index) =>
        index === NOW_PARAMETER
          ? { text: POSTGRES_NOW_MS, positional: false }
          : { text: `$${index + 1}`, positional: false },
      ),
    );
    return { sql: compiled.sql, params: [...params] };
  }

  jsonRows(param: string, columns: readonly JsonColumn[]): string {
    const fields = columns.map((c) => `${c.name} ${c.type}`).join(', ');
    return `jsonb_to_recordset(CAST(${param} AS jsonb)) AS v(${fields})`;
  }

  /**
   * One statement: enumerate the priorities that have pending rows (highest first, one index probe
   * each), and for each take its due rows straight from its range of the claim index
   * (`priority = p AND scheduled_for <= now`, in `scheduled_for, id` order), locking them with
   * `SKIP LOCKED` so that concurrent claims skip each other's rows instead of waiting. The nested
   * loop is pulled lazily up to `limit` rows, so only the rows handed out are locked, and neither
   * future rows nor lower priorities are visited once the batch is full. The cost depends on the
   * batch size and the number of priorities, not on how many rows are pending. `$4` (the claim's
   * `scheduledFrom` hint, or the smallest bigint) starts each range there: the index entries of
   * rows claimed earlier stay in the index until the table is vacuumed, and a worker working
   * through a backlog would otherwise walk over all of them in every claim.
   */
  claimSql(table: string, returning: string): string {
    return `WITH RECURSIVE ${pendingPrioritiesCte(table, this)},
    picked AS MATERIALIZED (
      SELECT d.id AS v_id
      FROM priorities
      CROSS JOIN LATERAL (
        SELECT c.id FROM ${table} c
        WHERE c.status = 'pending' AND c.priority = priorities.p
          AND c.scheduled_for >= $4 AND c.scheduled_for <= $now
          AND (c.expires_at IS NULL OR c.expires_at > $now)
        ORDER BY c.priority, c.scheduled_for, c.id
        LIMIT $2
        FOR UPDATE SKIP LOCKED
      ) d
      LIMIT $2
    )
    UPDATE ${table}
    SET status = 'processing', locked_by = $1, locked_until = $now + $3, started_at = $now,
        attempts = attempts + 1
    -- The picked ids as an array, and status wrapped in an expression: this keeps the planner on
    -- primary-key lookups for the update instead of a hash join against a table scan, or a scan of
    -- the claim index, which it would otherwise choose on small or freshly filled tables.
    WHERE id = ANY(ARRAY(SELECT v_id FROM picked)) AND (status || '') = 'pending'
    RETURNING ${returning}`;
  }

  idInBatch(batch: string): string {
    return `id = ANY(ARRAY(SELECT v_id FROM ${batch}))`;
  }

  unindexed(column: string): string {
    // Also here: with statistics that show few processing rows, the planner would otherwise
    // hash-join the batch against every processing row found through the status index.
    return `(${column} || '')`;
  }

  indexHint(): string {
    return '';
  }

  notifying(sql: string): string {
    // NOTIFY is sent at commit; identical notifications of one transaction are folded into one.
    return `WITH changed AS (${sql})
    SELECT changed.*, pg_notify('${SCHEDULED_COMMANDS_CHANNEL}', '') AS v_notified FROM changed`;
  }

  isUniqueViolation(error: unknown): boolean {
    return (error as { code?: unknown } | null)?.code === '23505';
  }

  async prepareConnection(): Promise<void> {
    // Nothing to set: the pool is configured by the DataSource.
  }

  /** `LISTEN` on a dedicated connection built from the DataSource's options (see `PostgresListener`). */
  async watch(onScheduled: () => void): Promise<StoreWatch> {
    if (!this.options.dataSource) throw new Error('PostgresDialect: watch() needs a DataSource.');
    const listener = new PostgresListener(
      listenClientFactory(this.options.dataSource),
      SCHEDULED_COMMANDS_CHANNEL,
      onScheduled,
    );
    await listener.start();
    return listener;
  }
}

/** PostgreSQL through the `pg` driver. */
export const POSTGRES_DIALECT: SqlDialectDefinition = {
  dataSourceTypes: ['postgres'],
  create: ({ dataSource, options }) =>
    new PostgresDialect({ dataSource, preparedStatements: options.preparedStatements }),
};
