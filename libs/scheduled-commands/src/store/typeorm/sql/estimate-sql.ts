/**
 * The statement of `estimateStatistics()` on PostgreSQL: counts per status, each stopped at a bound,
 * through the partial indexes (index-only scans), and the planner's figures to estimate what lies
 * beyond. Pure builder: text only.
 */
import type { SqlDialect } from '../dialects/sql-dialect.js';
import { pendingPrioritiesCte } from '../dialects/sql-dialect.js';
import { CLAIM_INDEX } from '../scheduled-commands-table.js';

/** Rows matching `where`, counted up to `$1` (the bound plus one, so that "more" shows). */
const capped = (table: string, where: string) =>
  `(SELECT COUNT(*) FROM (SELECT 1 FROM ${table} WHERE ${where} LIMIT $1) x)`;

/**
 * Parameters: `$1` the bound of exact counts plus one, `$2` the table's name as `regclass` text.
 * Columns: `v_<status>` for pending,
 * processing, failed, cancelled and expired (capped at `$1`; failed, cancelled and expired through
 * the status index); `v_finished`, rows with a completion time (capped, through the finished index:
 * completed = finished − dead letters); `v_oldest`, the earliest due time of a pending row (one
 * claim-index probe per priority); `v_due` and `v_retrying`, counted only while fewer than `$1`
 * rows are pending; `v_rows`, the
 * planner's row count of the table scaled to its current size; `v_values` / `v_freqs`, the most
 * common statuses and their shares from `pg_stats`.
 */
export function estimateStatisticsSql(table: string, dialect: SqlDialect): string {
  const count = (status: string) => `${capped(table, `status = '${status}'`)} AS v_${status}`;
  return `WITH RECURSIVE ${pendingPrioritiesCte(table, dialect)},
    counts AS MATERIALIZED (SELECT ${['pending', 'processing', 'failed', 'cancelled', 'expired'].map(count).join(', ')},
      ${capped(table, 'completed_at IS NOT NULL')} AS v_finished)
    SELECT counts.*,
      (SELECT MIN((
        SELECT c.scheduled_for FROM ${table} c${dialect.indexHint(CLAIM_INDEX)}
        WHERE c.status = 'pending' AND c.priority = priorities.p
        ORDER BY c.priority, c.scheduled_for LIMIT 1))
       FROM priorities WHERE priorities.p IS NOT NULL) AS v_oldest,
      CASE WHEN counts.v_pending < $1 THEN (SELECT COUNT(*) FROM ${table}
        WHERE status = 'pending' AND scheduled_for <= $now) END AS v_due,
      CASE WHEN counts.v_pending < $1 THEN (SELECT COUNT(*) FROM ${table}
        WHERE status = 'pending' AND retry_count > 0) END AS v_retrying,
      st.v_rows, st.v_values, st.v_freqs
    FROM counts LEFT JOIN (
      SELECT CASE WHEN r.relpages > 0
          THEN r.reltuples / r.relpages * (pg_relation_size(r.oid) / current_setting('block_size')::float8)
          ELSE r.reltuples END AS v_rows,
        s.most_common_vals::text AS v_values, s.most_common_freqs::text AS v_freqs
      FROM pg_class r JOIN pg_namespace n ON n.oid = r.relnamespace
      LEFT JOIN pg_stats s ON s.schemaname = n.nspname AND s.tablename = r.relname AND s.attname = 'status'
      WHERE r.oid = $2::regclass) st ON true`;
}
