import type { JsonColumn, OneStatementDialect } from './dialects/sql-dialect.js';

/**
 * The SQL of recurring schedules, built once per store from the quoted table names. Statements use
 * `$1..$n` and `$now` like every statement of the TypeORM store (see `SqlDialect.bind`).
 */

/** Columns of the recurring table, in the order of the insert and update parameters. */
export const RECURRING_COLUMNS = [
  'name',
  'command_type',
  'payload',
  'cron',
  'every_ms',
  'timezone',
  'misfire',
  'max_catch_up',
  'overlap',
  'start_at',
  'end_at',
  'priority',
  'max_retries',
  'expires_after',
  'correlation_id',
  'metadata',
  'declared',
  'paused',
  'next_fire_at',
  'last_fire_at',
  'trace_context',
] as const;

const OCCURRENCE_COLUMNS: readonly JsonColumn[] = [
  { name: 'v_id', type: 'text' },
  { name: 'v_command_type', type: 'text' },
  { name: 'v_payload', type: 'text' },
  { name: 'v_scheduled_for', type: 'bigint' },
  { name: 'v_priority', type: 'integer' },
  { name: 'v_max_retries', type: 'integer' },
  { name: 'v_expires_after', type: 'bigint' },
  { name: 'v_correlation_id', type: 'text' },
  { name: 'v_metadata', type: 'text' },
  { name: 'v_recurring_name', type: 'text' },
  { name: 'v_fire_time', type: 'bigint' },
  { name: 'v_trace_context', type: 'text' },
];

/** The statements of one store; see {@link recurringStatements}. */
export type RecurringStatements = ReturnType<typeof recurringStatements>;

/**
 * @param entries quoted table of the entries
 * @param recurring quoted table of the schedules
 */
export function recurringStatements(
  dialect: OneStatementDialect,
  entries: string,
  recurring: string,
) {
  const params = RECURRING_COLUMNS.map((_, i) => `$${i + 1}`);
  const n = RECURRING_COLUMNS.length;
  const due = 'COALESCE(v_scheduled_for, $now)';
  return {
    /** `$1..$n` the columns; inserts version 1 unless the name exists. */
    insert: `INSERT INTO ${recurring} (${RECURRING_COLUMNS.join(', ')}, version, created_at, updated_at)
      VALUES (${params.join(', ')}, 1, $now, $now)
      ON CONFLICT (name) DO NOTHING
      RETURNING *`,
    /** `$1..$n` the columns, `$n+1` the expected version. */
    update: `UPDATE ${recurring}
      SET ${RECURRING_COLUMNS.slice(1)
        .map((column, i) => `${column} = $${i + 2}`)
        .join(', ')}, version = version + 1, updated_at = $now
      WHERE name = $1 AND version = $${n + 1}
      RETURNING *`,
    /** `$1` name, `$2` next fire time, `$3` last fire time, `$4` expected version. */
    advance: `UPDATE ${recurring}
      SET next_fire_at = $2, last_fire_at = $3, version = version + 1, updated_at = $now
      WHERE name = $1 AND version = $4
      RETURNING name`,
    /** `$1` name: that it exists, as a write, so that it takes the write lock first (SQLite). */
    exists: `UPDATE ${recurring} SET updated_at = updated_at WHERE name = $1 RETURNING name`,
    /** `$1` name. */
    remove: `DELETE FROM ${recurring} WHERE name = $1 RETURNING name`,
    /** `$1` name: the occurrences materialised ahead of time, never started. */
    dropFuture: `DELETE FROM ${entries}
      WHERE recurring_name = $1 AND status = 'pending' AND attempts = 0 AND scheduled_for > $now`,
    /** `$1` name. */
    get: `SELECT * FROM ${recurring} WHERE name = $1`,
    list: `SELECT * FROM ${recurring} ORDER BY name`,
    /** `$1` horizon in ms: now, and the schedules to look at (none: one row of `v_now` only). */
    due: `SELECT n.v_now, r.* FROM (SELECT $now AS v_now) n
      LEFT JOIN ${recurring} r ON r.paused = 0
        AND (r.next_fire_at IS NULL OR r.next_fire_at <= n.v_now + $1)`,
    /**
     * `$1` a JSON array of occurrences: inserted as pending entries, skipping a (schedule, fire time)
     * that already has one (the unique key). Wakes the other instances (PostgreSQL NOTIFY).
     */
    insertOccurrences: dialect.notifying(`INSERT INTO ${entries} (id, command_type, payload, status,
        scheduled_for, priority, retry_count, max_retries, attempts, expires_at, correlation_id,
        metadata, idempotency_key, created_at, recurring_name, recurring_fire_time, trace_context)
      SELECT v_id, v_command_type, v_payload, 'pending', ${due}, v_priority, 0, v_max_retries, 0,
             ${due} + v_expires_after, v_correlation_id, v_metadata, NULL, $now,
             v_recurring_name, v_fire_time, v_trace_context
      FROM ${dialect.jsonRows('$1', OCCURRENCE_COLUMNS)}
      WHERE true
      ON CONFLICT (recurring_name, recurring_fire_time) WHERE recurring_fire_time IS NOT NULL
      DO NOTHING
      RETURNING id`),
  };
}
