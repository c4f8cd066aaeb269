/**
 * `estimateStatistics()` on PostgreSQL: runs the statement of `sql/estimate-sql.ts` and turns its
 * capped counts and the planner's figures into {@link EstimatedStatistics}.
 */
import {
  ScheduledCommandStatus,
  type EstimatedStatistics,
  type StatusCounts,
} from '../scheduled-command-entry.js';
import { emptyCounts } from '../status-counts.js';
import type { SqlDialect } from './dialects/sql-dialect.js';
import { num, type Row } from './row-codec.js';
import { estimateStatisticsSql } from './sql/estimate-sql.js';
import { oneStatement } from './sql/store-statement.js';
import type { StatementRunner } from './statement-executor.js';

/** The statuses counted through their own partial index (completed is derived from the finished index). */
const INDEXED = [
  ScheduledCommandStatus.Pending,
  ScheduledCommandStatus.Processing,
  ScheduledCommandStatus.Failed,
  ScheduledCommandStatus.Cancelled,
  ScheduledCommandStatus.Expired,
] as const;

/** Runs the estimate of `table` (quoted) on `runner` with counts exact up to `exactUpTo`. */
export async function estimatePostgresStatistics(
  runner: StatementRunner,
  table: string,
  dialect: SqlDialect,
  exactUpTo: number,
): Promise<EstimatedStatistics> {
  const statement = oneStatement(estimateStatisticsSql(table, dialect));
  const { rows } = await statement.run(runner, [exactUpTo + 1, table]);
  return estimatedStatisticsOf(rows[0], exactUpTo);
}

/** The statistics from the row of `estimateStatisticsSql` (see there for its columns). */
export function estimatedStatisticsOf(row: Row, exactUpTo: number): EstimatedStatistics {
  const tableRows = row.v_rows === null || row.v_rows === undefined ? 0 : Number(row.v_rows);
  const shares = commonShares(row.v_values, row.v_freqs);
  const counts: { -readonly [S in keyof StatusCounts]: number } = emptyCounts();
  const approximate: ScheduledCommandStatus[] = [];
  for (const status of INDEXED) {
    const counted = num(row[`v_${status}`]);
    if (counted <= exactUpTo) {
      counts[status] = counted;
    } else {
      // More than the bound: the planner's share of the status, at least what was counted.
      counts[status] = Math.max(counted, Math.round(tableRows * (shares.get(status) ?? 0)));
      approximate.push(status);
    }
  }
  const finished = num(row.v_finished);
  const deadLetters = counts.failed + counts.cancelled + counts.expired;
  if (finished <= exactUpTo) {
    // Every finished row was counted, so the dead letters were too (they are among them).
    counts.completed = finished - deadLetters;
  } else {
    // The table's estimated size less the other statuses; never less than what was counted.
    const others = INDEXED.reduce((sum, status) => sum + counts[status], 0);
    counts.completed = Math.max(finished - deadLetters, Math.round(tableRows - others), 0);
    approximate.push(ScheduledCommandStatus.Completed);
  }
  const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
  const optional = (value: unknown) => (value === null || value === undefined ? null : num(value));
  return {
    counts,
    total,
    approximate,
    oldestPendingScheduledFor: row.v_oldest === null ? null : new Date(Number(row.v_oldest)),
    dueNow: optional(row.v_due),
    waitingForRetry: optional(row.v_retrying),
  };
}

/** Status → share of the table, from `pg_stats` arrays as text (`{completed,pending}`, `{0.9,0.1}`). */
function commonShares(values: unknown, freqs: unknown): Map<string, number> {
  const list = (text: unknown) =>
    typeof text === 'string' && text.length > 2 ? text.slice(1, -1).split(',') : [];
  const names = list(values).map((name) => name.replace(/^"|"$/g, ''));
  const shares = list(freqs).map(Number);
  return new Map(names.map((name, i) => [name, shares[i] ?? 0]));
}
