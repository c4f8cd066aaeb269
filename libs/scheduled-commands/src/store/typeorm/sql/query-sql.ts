/** Read-only statements: get, find, counts and statistics. Pure builders: text only. */
import type { FindPage } from '../../find-options.js';
import type { SqlCondition } from '../find-query.js';
import { RETURNING } from '../row-codec.js';

/** The row with id `$1`. */
export function getSql(table: string): string {
  return `SELECT ${RETURNING} FROM ${table} WHERE id = $1`;
}

/**
 * The `find()` statement for the conditions `parts` (their parameters, shared, from `$1`: see
 * `findConditions`) and `page`, with its parameters: keyset paging on `id`, one row more than the
 * page to tell whether more follow. Several parts are read each in `id` order up to the page's end,
 * then merged (`UNION ALL` of two index scans; a row meets one part only).
 */
export function findSql(
  table: string,
  condition: { parts: readonly string[]; params: readonly unknown[] },
  page: FindPage,
): SqlCondition {
  const params = [...condition.params];
  const param = (value: unknown) => {
    params.push(value);
    return `$${params.length}`;
  };
  const desc = page.order === 'desc';
  const orderBy = `ORDER BY id ${desc ? 'DESC' : 'ASC'}`;
  const keyset = page.afterId === null ? '' : ` AND id ${desc ? '<' : '>'} ${param(page.afterId)}`;
  const select = (where: string) => `SELECT ${RETURNING} FROM ${table} WHERE ${where}${keyset}`;
  if (condition.parts.length === 1) {
    const sql = `${select(condition.parts[0])}
      ${orderBy} LIMIT ${param(page.limit + 1)} OFFSET ${param(page.offset)}`;
    return { sql, params };
  }
  const each = param(page.offset + page.limit + 1);
  const arms = condition.parts.map(
    (part, i) => `SELECT ${RETURNING} FROM (${select(part)} ${orderBy} LIMIT ${each}) p${i}`,
  );
  const sql = `SELECT ${RETURNING} FROM (${arms.join(' UNION ALL ')}) u
      ${orderBy} LIMIT ${param(page.limit + 1)} OFFSET ${param(page.offset)}`;
  return { sql, params };
}

/** Rows per status (`status`, `v_count`). */
export function countByStatusSql(table: string): string {
  return `SELECT status, COUNT(*) AS v_count FROM ${table} GROUP BY status`;
}

/**
 * Per status: `v_count`, and for pending rows the oldest due time (`v_oldest`), those waiting for
 * a retry (`v_retrying`) and those due now (`v_due`). One statement: a consistent snapshot.
 */
export function statisticsSql(table: string): string {
  return `SELECT status, COUNT(*) AS v_count,
        MIN(CASE WHEN status = 'pending' THEN scheduled_for END) AS v_oldest,
        SUM(CASE WHEN status = 'pending' AND retry_count > 0 THEN 1 ELSE 0 END) AS v_retrying,
        SUM(CASE WHEN status = 'pending' AND scheduled_for <= $now THEN 1 ELSE 0 END) AS v_due
      FROM ${table} GROUP BY status`;
}
