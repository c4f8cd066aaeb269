/**
 * Statements of the scheduling family: insert a batch of new commands, find the live holders of
 * idempotency keys, reschedule and cancel a pending command. Pure builders: text only.
 */
import type { OneStatementDialect } from '../dialects/sql-dialect.js';
import { NEW_COMMAND_COLUMNS, RETURNING } from '../row-codec.js';
import {
  IDEMPOTENCY_INDEX,
  TABLE_COLUMNS,
  TABLE_INDEXES,
  type ColumnName,
} from '../scheduled-commands-table.js';

/** The statuses of live entries, which hold their idempotency key, as an SQL list. */
export const LIVE = `'pending', 'processing'`;

/** The due time of a new command: its time, or now plus its delay. */
const DUE = `COALESCE(v_scheduled_for, $now + v_delay)`;

/** What the insert writes into each column of a new row (a key per column: none is forgotten). */
export const NEW_ROW_VALUES: Record<ColumnName, string> = {
  id: 'v_id',
  command_type: 'v_command_type',
  payload: 'v_payload',
  status: `'pending'`,
  scheduled_for: DUE,
  priority: 'v_priority',
  retry_count: '0',
  max_retries: 'v_max_retries',
  attempts: '0',
  expires_at: `${DUE} + v_expires_after`,
  correlation_id: 'v_correlation_id',
  metadata: 'v_metadata',
  idempotency_key: 'v_idempotency_key',
  created_at: '$now',
  started_at: 'NULL',
  completed_at: 'NULL',
  error_message: 'NULL',
  result_payload: 'NULL',
  locked_by: 'NULL',
  locked_until: 'NULL',
  trace_context: 'v_trace_context',
  recurring_name: 'NULL',
  recurring_fire_time: 'NULL',
};

/**
 * Inserts the new commands of `$1` (a JSON array of {@link NEW_COMMAND_COLUMNS} objects), skipping
 * those whose idempotency key a live entry holds; returns the ids inserted.
 */
export function insertSql(table: string, dialect: OneStatementDialect): string {
  return dialect.notifying(`INSERT INTO ${table} (${RETURNING})
      SELECT ${TABLE_COLUMNS.map((column) => NEW_ROW_VALUES[column.name]).join(', ')}
      FROM ${dialect.jsonRows('$1', NEW_COMMAND_COLUMNS)}
      WHERE true
      ON CONFLICT (idempotency_key) WHERE ${TABLE_INDEXES.idempotencyKey.where}
      DO NOTHING
      RETURNING id`);
}

/** The live holders (`id`, `idempotency_key`) of the keys in `$1` (a JSON array of `{ v_key }`). */
export function keyHoldersSql(table: string, dialect: OneStatementDialect): string {
  return `SELECT id, idempotency_key FROM ${table}${dialect.indexHint(IDEMPOTENCY_INDEX)}
            WHERE status IN (${LIVE})
              AND idempotency_key IN (SELECT v_key FROM ${dialect.jsonRows('$1', [{ name: 'v_key', type: 'text' }])})`;
}

/** Moves pending `$1` to `$2` (epoch ms), or now plus `$3` when `$2` is null. */
export function rescheduleSql(table: string, dialect: OneStatementDialect): string {
  return dialect.notifying(`UPDATE ${table} SET scheduled_for = COALESCE($2, $now + $3)
      WHERE id = $1 AND status = 'pending'
      RETURNING ${RETURNING}`);
}

/** Cancels pending `$1`. */
export function cancelSql(table: string): string {
  return `UPDATE ${table} SET status = 'cancelled', completed_at = $now
      WHERE id = $1 AND status = 'pending'
      RETURNING ${RETURNING}`;
}
