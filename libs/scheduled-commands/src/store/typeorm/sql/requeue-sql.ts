/**
 * Statements that put finished commands back to pending (`requeue`, `requeueMany`). Pure builders:
 * the status list and the filter are built into the text, so these are not prepared statements.
 */
import type { ScheduledCommandStatus } from '../../scheduled-command-entry.js';
import type { OneStatementDialect, SqlDialect } from '../dialects/sql-dialect.js';
import { statusList, type SqlCondition } from '../find-query.js';
import { RETURNING } from '../row-codec.js';
import { IDEMPOTENCY_INDEX } from '../scheduled-commands-table.js';
import { LIVE } from './schedule-sql.js';

/** True when the row aliased `alias` has no idempotency key, or no live entry holds it. */
function keyIsFree(table: string, dialect: SqlDialect, alias: string): string {
  return `(${alias}.idempotency_key IS NULL OR NOT EXISTS (
      SELECT 1 FROM ${table} o${dialect.indexHint(IDEMPOTENCY_INDEX)}
      WHERE o.idempotency_key = ${alias}.idempotency_key AND o.status IN (${LIVE})))`;
}

/**
 * Requeues the rows whose ids `candidates` selects (its parameters start at `$1`) while their
 * status is in `statuses` and their idempotency key is free; returns them.
 */
export function requeueSql(
  table: string,
  dialect: OneStatementDialect,
  candidates: string,
  statuses: readonly ScheduledCommandStatus[],
): string {
  return dialect.notifying(`WITH v AS MATERIALIZED (${candidates})
      UPDATE ${table} AS t
      SET status = 'pending', scheduled_for = $now, retry_count = 0, expires_at = NULL,
          completed_at = NULL, result_payload = NULL, locked_by = NULL, locked_until = NULL
      WHERE ${dialect.idInBatch('v')} AND ${dialect.unindexed('status')} IN (${statusList(statuses)})
        AND ${keyIsFree(table, dialect, 't')}
      RETURNING ${RETURNING}`);
}

/** The candidate of `requeue`: entry `$1` when its status is in `statuses`. */
export function requeueOneCandidates(
  table: string,
  statuses: readonly ScheduledCommandStatus[],
): string {
  return `SELECT id AS v_id FROM ${table} c WHERE c.id = $1 AND c.status IN (${statusList(statuses)})`;
}

/**
 * The candidates of `requeueMany`: up to `$1` entries matching `condition` (on alias `c`, its
 * parameters from `$2`), oldest first; among finished entries sharing an idempotency key only the
 * oldest is taken, since the key can have one live holder only.
 */
export function requeueManyCandidates(
  table: string,
  dialect: SqlDialect,
  statuses: readonly ScheduledCommandStatus[],
  condition: SqlCondition,
): string {
  return `SELECT id AS v_id FROM (
        SELECT c.id, c.idempotency_key,
               ROW_NUMBER() OVER (PARTITION BY c.idempotency_key ORDER BY c.id) AS v_rank
        FROM ${table} c
        WHERE c.status IN (${statusList(statuses)}) AND ${condition.sql}
          AND ${keyIsFree(table, dialect, 'c')}
      ) r
      WHERE r.idempotency_key IS NULL OR r.v_rank = 1
      ORDER BY id LIMIT $1`;
}
