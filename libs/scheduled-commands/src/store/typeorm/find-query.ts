import { invalidFilter, parseFilter } from '../find-options.js';
import {
  SCHEDULED_COMMAND_STATUSES,
  ScheduledCommandStatus,
  type ScheduledCommandFilter,
} from '../scheduled-command-entry.js';
import { TABLE_INDEXES } from './scheduled-commands-table.js';

/** A `WHERE` condition with its parameters, numbered from a given `$n`. */
export interface SqlCondition {
  readonly sql: string;
  readonly params: unknown[];
}

/** SQL literal list of statuses; every value is checked against the known statuses first. */
export function statusList(statuses: readonly ScheduledCommandStatus[]): string {
  for (const status of statuses) {
    if (!SCHEDULED_COMMAND_STATUSES.includes(status)) {
      throw invalidFilter('status', status, `one of ${SCHEDULED_COMMAND_STATUSES.join(', ')}`);
    }
  }
  // Literals rather than parameters, so that partial indexes on status match the query.
  return statuses.map((status) => `'${status}'`).join(', ');
}

/**
 * Translates a filter into a condition on the columns of `alias` (unqualified when empty), with
 * parameters numbered from `$firstParam`. An empty status list matches nothing.
 *
 * @throws InvalidScheduleOptionsError when a field of the filter is invalid (see `parseFilter`).
 */
export function filterCondition(
  filter: ScheduledCommandFilter,
  firstParam: number,
  alias = '',
): SqlCondition {
  const f = parseFilter(filter);
  const col = (name: string) => (alias ? `${alias}.${name}` : name);
  const parts: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${firstParam + params.length - 1}`;
  };
  if (f.statuses !== null) {
    parts.push(
      f.statuses.length === 0 ? '1 = 0' : `${col('status')} IN (${statusList(f.statuses)})`,
    );
  }
  if (f.commandType !== null) parts.push(`${col('command_type')} = ${param(f.commandType)}`);
  if (f.correlationId !== null) parts.push(`${col('correlation_id')} = ${param(f.correlationId)}`);
  if (f.recurringName !== null) parts.push(`${col('recurring_name')} = ${param(f.recurringName)}`);
  if (f.idempotencyKey !== null) {
    parts.push(`${col('idempotency_key')} = ${param(f.idempotencyKey)}`);
  }
  if (f.scheduledBefore !== null) {
    parts.push(`${col('scheduled_for')} < ${param(f.scheduledBefore)}`);
  }
  if (f.scheduledAfter !== null) {
    parts.push(`${col('scheduled_for')} >= ${param(f.scheduledAfter)}`);
  }
  return { sql: parts.length ? parts.join(' AND ') : '1 = 1', params };
}

/**
 * The `find()` filter as conditions whose rows, together, are the filter's (parameters from `$1`,
 * shared by all). One condition, unless `partialTypeIndex` is set and the filter has a command
 * type: the command-type index holds every row but processing ones (`status <> 'processing'`),
 * so the rows of its statuses are one condition (naming the index's predicate as it is written, which
 * SQLite needs to use a partial index) and processing rows, found through the lease index, another.
 *
 * @throws InvalidScheduleOptionsError when a field of the filter is invalid (see `parseFilter`).
 */
export function findConditions(
  filter: ScheduledCommandFilter,
  partialTypeIndex: boolean,
): { parts: string[]; params: unknown[] } {
  const f = parseFilter(filter);
  if (!partialTypeIndex || f.commandType === null || f.statuses?.length === 0) {
    const whole = filterCondition(filter, 1);
    return { parts: [whole.sql], params: whole.params };
  }
  const { sql, params } = filterCondition({ ...filter, status: undefined }, 1);
  const parts: string[] = [];
  const indexed = (f.statuses ?? SCHEDULED_COMMAND_STATUSES).filter((s) => s !== 'processing');
  if (indexed.length) {
    const only = f.statuses === null ? '' : ` AND status IN (${statusList(indexed)})`;
    parts.push(`${sql}${only} AND ${TABLE_INDEXES.commandType.where}`);
  }
  if (f.statuses === null || f.statuses.includes(ScheduledCommandStatus.Processing)) {
    parts.push(`${sql} AND status = 'processing'`);
  }
  return { parts, params };
}
