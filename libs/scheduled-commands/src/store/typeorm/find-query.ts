import { InvalidScheduleOptionsError } from '../../errors/index.js';
import { messages } from '../../scheduled-commands.messages.js';
import {
  SCHEDULED_COMMAND_STATUSES,
  type FindOptions,
  type ScheduledCommandFilter,
  type ScheduledCommandStatus,
} from '../scheduled-command-entry.js';

/** Page size of `find()` when none is given. */
export const DEFAULT_FIND_LIMIT = 50;
/** Largest page size of `find()`. */
export const MAX_FIND_LIMIT = 1000;

/** A validated {@link FindOptions}. */
export interface FindPage {
  readonly limit: number;
  readonly offset: number;
  readonly order: 'asc' | 'desc';
  /** Id of the last entry of the previous page (exclusive bound), or null. */
  readonly afterId: string | null;
}

/** A `WHERE` condition with its parameters, numbered from a given `$n`. */
export interface SqlCondition {
  readonly sql: string;
  readonly params: unknown[];
}

function invalid(field: string, value: unknown, expected: string): InvalidScheduleOptionsError {
  return new InvalidScheduleOptionsError(field, messages.invalidFilter(field, value, expected));
}

/** SQL literal list of statuses; every value is checked against the known statuses first. */
export function statusList(statuses: readonly ScheduledCommandStatus[]): string {
  for (const status of statuses) {
    if (!SCHEDULED_COMMAND_STATUSES.includes(status)) {
      throw invalid('status', status, `one of ${SCHEDULED_COMMAND_STATUSES.join(', ')}`);
    }
  }
  // Literals rather than parameters, so that partial indexes on status match the query.
  return statuses.map((status) => `'${status}'`).join(', ');
}

/** The statuses of a filter (`null` when it does not filter on status). */
export function filterStatuses(
  status: ScheduledCommandFilter['status'],
): readonly ScheduledCommandStatus[] | null {
  if (status === undefined) return null;
  const list = typeof status === 'string' ? [status] : status;
  if (!Array.isArray(list) || list.some((s) => !SCHEDULED_COMMAND_STATUSES.includes(s))) {
    throw invalid(
      'status',
      status,
      `one of ${SCHEDULED_COMMAND_STATUSES.join(', ')} or a list of them`,
    );
  }
  return [...new Set(list)];
}

function validTime(field: string, value: unknown): number | null {
  if (value === undefined) return null;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw invalid(field, value, 'a valid Date');
  }
  return value.getTime();
}

function validText(field: string, value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string') throw invalid(field, value, 'a string');
  return value;
}

/**
 * Translates a filter into a condition on the columns of `alias` (unqualified when empty), with
 * parameters numbered from `$firstParam`. An empty status list matches nothing.
 *
 * @throws InvalidScheduleOptionsError when a field of the filter is invalid.
 */
export function filterCondition(
  filter: ScheduledCommandFilter,
  firstParam: number,
  alias = '',
): SqlCondition {
  const f = filter ?? {};
  const col = (name: string) => (alias ? `${alias}.${name}` : name);
  const parts: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown) => {
    params.push(value);
    return `$${firstParam + params.length - 1}`;
  };
  const statuses = filterStatuses(f.status);
  if (statuses !== null) {
    parts.push(statuses.length === 0 ? '1 = 0' : `${col('status')} IN (${statusList(statuses)})`);
  }
  const commandType = validText('commandType', f.commandType);
  if (commandType !== null) parts.push(`${col('command_type')} = ${param(commandType)}`);
  const correlationId = validText('correlationId', f.correlationId);
  if (correlationId !== null) parts.push(`${col('correlation_id')} = ${param(correlationId)}`);
  const before = validTime('scheduledBefore', f.scheduledBefore);
  if (before !== null) parts.push(`${col('scheduled_for')} < ${param(before)}`);
  const after = validTime('scheduledAfter', f.scheduledAfter);
  if (after !== null) parts.push(`${col('scheduled_for')} >= ${param(after)}`);
  return { sql: parts.length ? parts.join(' AND ') : '1 = 1', params };
}

/**
 * Validates paging options.
 *
 * @throws InvalidScheduleOptionsError when `limit` is not an integer in 1..1000, `offset` is not an
 *   integer >= 0, `order` is not `'asc'`/`'desc'`, `cursor` was not made by {@link encodeCursor}, or
 *   both `cursor` and a non-zero `offset` are given.
 */
export function parseFindOptions(options: FindOptions | undefined): FindPage {
  const { limit = DEFAULT_FIND_LIMIT, offset, cursor, order = 'desc' } = options ?? {};
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FIND_LIMIT) {
    throw invalid('limit', limit, `an integer from 1 to ${MAX_FIND_LIMIT}`);
  }
  if (offset !== undefined && (!Number.isInteger(offset) || offset < 0)) {
    throw invalid('offset', offset, 'an integer >= 0');
  }
  if (order !== 'asc' && order !== 'desc') throw invalid('order', order, '"asc" or "desc"');
  if (cursor !== undefined && offset !== undefined && offset !== 0) {
    throw invalid('offset', offset, 'no offset together with a cursor');
  }
  return {
    limit,
    offset: offset ?? 0,
    order,
    afterId: cursor === undefined ? null : decodeCursor(cursor),
  };
}

/** An opaque keyset cursor: base64url of `{"id": lastId}` (ids are time-ordered UUIDs). */
export function encodeCursor(id: string): string {
  return Buffer.from(JSON.stringify({ id }), 'utf8').toString('base64url');
}

function decodeCursor(cursor: unknown): string {
  let id: unknown;
  try {
    id =
      typeof cursor === 'string'
        ? (JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as { id?: unknown }).id
        : undefined;
  } catch {
    id = undefined;
  }
  if (typeof id !== 'string' || id.length === 0 || id.length > 64) {
    throw invalid('cursor', cursor, 'a nextCursor returned by a previous find()');
  }
  return id;
}
