/**
 * Statements of the worker's maintenance: lease recovery, the expiry sweep, purge and the next-due
 * lookup. Each reads a bounded range of a partial index. Pure builders: text only.
 */
import type { ScheduledCommandStatus } from '../../scheduled-command-entry.js';
import {
  pendingPrioritiesCte,
  type OneStatementDialect,
  type SqlDialect,
} from '../dialects/sql-dialect.js';
import { statusList } from '../find-query.js';
import { RETURNING } from '../row-codec.js';
import {
  CLAIM_INDEX,
  EXPIRY_INDEX,
  FINISHED_INDEX,
  LEASE_INDEX,
} from '../scheduled-commands-table.js';

/**
 * Takes over up to `$1` processing rows whose lease ran out: back to pending with a retry, or
 * failed after the last attempt. The error message is `$2`, the worker that lost the lease, `$3`.
 */
export function recoverExpiredLeasesSql(table: string, dialect: OneStatementDialect): string {
  const lastAttempt = 'attempts > max_retries';
  return dialect.notifying(`WITH v AS MATERIALIZED (
        SELECT id AS v_id FROM ${table}${dialect.indexHint(LEASE_INDEX)}
        WHERE status = 'processing' AND locked_until <= $now
        ORDER BY locked_until LIMIT $1${dialect.skipLocked}
      )
      UPDATE ${table}
      SET status = CASE WHEN ${lastAttempt} THEN 'failed' ELSE 'pending' END,
          completed_at = CASE WHEN ${lastAttempt} THEN $now ELSE NULL END,
          retry_count = CASE WHEN ${lastAttempt} THEN retry_count ELSE retry_count + 1 END,
          scheduled_for = CASE WHEN ${lastAttempt} THEN scheduled_for ELSE $now END,
          error_message = $2 || COALESCE(locked_by, 'unknown') || $3,
          locked_by = NULL, locked_until = NULL
      WHERE id IN (SELECT v_id FROM v) AND ${dialect.unindexed('status')} = 'processing'
        AND locked_until <= $now
      RETURNING ${RETURNING}`);
}

/** Expires up to `$1` pending rows whose expiry time has come; returns them. */
export function expireDueSql(table: string, dialect: OneStatementDialect): string {
  return `WITH v AS MATERIALIZED (
        SELECT id AS v_id FROM ${table}${dialect.indexHint(EXPIRY_INDEX)}
        WHERE status = 'pending' AND expires_at <= $now
        ORDER BY expires_at LIMIT $1${dialect.skipLocked}
      )
      UPDATE ${table}
      SET status = 'expired', completed_at = $now
      WHERE id IN (SELECT v_id FROM v) AND ${dialect.unindexed('status')} = 'pending'
        AND expires_at <= $now
      RETURNING ${RETURNING}`;
}

/** Deletes up to `$2` rows in `statuses` that finished before `$1`, oldest first. */
export function purgeSql(
  table: string,
  dialect: OneStatementDialect,
  statuses: readonly ScheduledCommandStatus[],
): string {
  const list = statusList(statuses);
  return `WITH v AS MATERIALIZED (
        SELECT id AS v_id FROM ${table}${dialect.indexHint(FINISHED_INDEX)}
        WHERE completed_at IS NOT NULL AND completed_at < $1 AND status IN (${list})
        ORDER BY completed_at LIMIT $2${dialect.skipLocked}
      )
      DELETE FROM ${table}
      WHERE id IN (SELECT v_id FROM v) AND ${dialect.unindexed('status')} IN (${list})`;
}

/**
 * Milliseconds from now until the earliest pending row is due (`v_ms`): the smallest of each
 * priority's first entry in the claim index.
 */
export function nextDueSql(table: string, dialect: SqlDialect): string {
  return `WITH RECURSIVE ${pendingPrioritiesCte(table, dialect)}
      SELECT MIN(v_first) - $now AS v_ms FROM (
        SELECT (
          SELECT c.scheduled_for FROM ${table} c${dialect.indexHint(CLAIM_INDEX)}
          WHERE c.status = 'pending' AND c.priority = priorities.p
          ORDER BY c.priority, c.scheduled_for LIMIT 1
        ) AS v_first
        FROM priorities WHERE priorities.p IS NOT NULL
      ) f`;
}
