/**
 * Statements that write the outcome of a run under its lease: the batch updates (complete,
 * release, extend) and the single ones (retry, dead-letter). Each changes a row only while it is
 * `processing` under exactly that lease. Pure builders: text only.
 */
import type { JsonColumn, OneStatementDialect } from '../dialects/sql-dialect.js';
import { COMPLETION_COLUMNS, LEASE_COLUMNS, RETURNING } from '../row-codec.js';

/**
 * An update of the rows held under the leases of a batch (`$1`, a JSON array of objects with
 * `columns`, starting with the lease columns), returning the ids updated. The batch is read once
 * into a CTE and the rows are found by primary key (see {@link OneStatementDialect.idInBatch}), so the
 * plan, prepared once per connection, stays a set of index lookups however large the table grows.
 */
function leaseUpdateSql(
  table: string,
  dialect: OneStatementDialect,
  columns: readonly JsonColumn[],
  assignments: string,
): string {
  return `WITH batch AS MATERIALIZED (SELECT * FROM ${dialect.jsonRows('$1', columns)})
      UPDATE ${table} SET ${assignments}
      FROM batch
      WHERE ${dialect.idInBatch('batch')} AND id = v_id
        AND ${dialect.unindexed('status')} = 'processing'
        AND locked_by = v_worker AND attempts = v_attempt
      RETURNING id`;
}

/** Completes the runs of `$1` (a JSON array of completions, see `leaseRow`). */
export function completeSql(table: string, dialect: OneStatementDialect): string {
  return leaseUpdateSql(
    table,
    dialect,
    COMPLETION_COLUMNS,
    `status = 'completed', completed_at = $now, result_payload = v_result,
        locked_by = NULL, locked_until = NULL`,
  );
}

/** Gives the leases of `$1` back without counting the attempt; wakes the other instances up. */
export function releaseSql(table: string, dialect: OneStatementDialect): string {
  return dialect.notifying(
    leaseUpdateSql(
      table,
      dialect,
      LEASE_COLUMNS,
      `status = 'pending', attempts = attempts - 1, started_at = NULL, locked_by = NULL, locked_until = NULL`,
    ),
  );
}

/** Extends the leases of `$1` to now plus `$2` milliseconds. */
export function extendLeasesSql(table: string, dialect: OneStatementDialect): string {
  return leaseUpdateSql(table, dialect, LEASE_COLUMNS, `locked_until = $now + $2`);
}

/** A failed attempt of lease `$1..$3` retried after `$4` ms, with error message `$5`. */
export function retrySql(table: string): string {
  return `UPDATE ${table}
      SET status = 'pending', retry_count = retry_count + 1, scheduled_for = $now + $4,
          error_message = $5, locked_by = NULL, locked_until = NULL
      WHERE id = $1 AND status = 'processing' AND locked_by = $2 AND attempts = $3
      RETURNING ${RETURNING}`;
}

/** Dead-letters the run of lease `$1..$3` with error message `$4`. */
export function deadLetterSql(table: string): string {
  return `UPDATE ${table}
      SET status = 'failed', completed_at = $now, error_message = $4,
          locked_by = NULL, locked_until = NULL
      WHERE id = $1 AND status = 'processing' AND locked_by = $2 AND attempts = $3
      RETURNING ${RETURNING}`;
}
