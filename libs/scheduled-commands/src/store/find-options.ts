import { InvalidScheduleOptionsError } from '../errors/index.js';
import { messages } from '../scheduled-commands.messages.js';
import {
  SCHEDULED_COMMAND_STATUSES,
  type FindOptions,
  type ScheduledCommandFilter,
  type ScheduledCommandStatus,
} from './scheduled-command-entry.js';

/** Page size of `find()` when none is given. */
export const DEFAULT_FIND_LIMIT = 50;
/** Largest page size of `find()`. */
export const MAX_FIND_LIMIT = 1000;
/** Longest id a cursor may carry (ids are UUIDs, 36 characters). */
const MAX_CURSOR_ID_LENGTH = 64;

/** A validated {@link FindOptions}. */
export interface FindPage {
  /** Page size, 1..{@link MAX_FIND_LIMIT}. */
  readonly limit: number;
  /** Entries to skip; 0 when a cursor is given. */
  readonly offset: number;
  /** `desc` lists newest first (by id, that is by creation). */
  readonly order: 'asc' | 'desc';
  /** Id of the last entry of the previous page (exclusive bound), or null. */
  readonly afterId: string | null;
}

/** A validated {@link ScheduledCommandFilter}; `null` where a field does not filter. */
export interface ParsedFilter {
  /** The statuses wanted, without repeats; an empty list matches nothing. */
  readonly statuses: readonly ScheduledCommandStatus[] | null;
  readonly commandType: string | null;
  readonly correlationId: string | null;
  readonly recurringName: string | null;
  readonly idempotencyKey: string | null;
  /** `scheduledFor < scheduledBefore`, in epoch milliseconds. */
  readonly scheduledBefore: number | null;
  /** `scheduledFor >= scheduledAfter`, in epoch milliseconds. */
  readonly scheduledAfter: number | null;
}

/**
 * The error of an invalid filter or paging field: an {@link InvalidScheduleOptionsError} naming
 * `field`, with the message of `messages.invalidFilter`.
 */
export function invalidFilter(
  field: string,
  value: unknown,
  expected: string,
): InvalidScheduleOptionsError {
  return new InvalidScheduleOptionsError(field, messages.invalidFilter(field, value, expected));
}

/**
 * Validates the paging options of `find()`. Defaults: `limit` {@link DEFAULT_FIND_LIMIT}, `offset`
 * 0, `order` `'desc'`.
 *
 * @throws InvalidScheduleOptionsError when `limit` is not an integer in 1..1000, `offset` is not an
 *   integer >= 0, `order` is not `'asc'`/`'desc'`, `cursor` was not made by {@link encodeCursor}, or
 *   both `cursor` and a non-zero `offset` are given.
 */
export function parseFindOptions(options: FindOptions | undefined): FindPage {
  const { limit = DEFAULT_FIND_LIMIT, offset, cursor, order = 'desc' } = options ?? {};
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_FIND_LIMIT) {
    throw invalidFilter('limit', limit, `an integer from 1 to ${MAX_FIND_LIMIT}`);
  }
  if (offset !== undefined && (!Number.isInteger(offset) || offset < 0)) {
    throw invalidFilter('offset', offset, 'an integer >= 0');
  }
  if (order !== 'asc' && order !== 'desc') throw invalidFilter('order', order, '"asc" or "desc"');
  if (cursor !== undefined && offset !== undefined && offset !== 0) {
    throw invalidFilter('offset', offset, 'no offset together with a cursor');
  }
  return {
    limit,
    offset: offset ?? 0,
    order,
    afterId: cursor === undefined ? null : decodeCursor(cursor),
  };
}

/**
 * The opaque keyset cursor of `find()`: base64url of `{"id": lastId}`. Ids are time-ordered UUIDs
 * (v7), so they give creation order.
 */
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
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_CURSOR_ID_LENGTH) {
    throw invalidFilter('cursor', cursor, 'a nextCursor returned by a previous find()');
  }
  return id;
}

/**
 * Validates a filter of `find()` / `requeueMany()` (a missing filter matches everything).
 *
 * @throws InvalidScheduleOptionsError when `status` is not a status or a list of statuses,
 *   `commandType`, `correlationId` or `idempotencyKey` is not a string, or `scheduledBefore`/`scheduledAfter` is not a
 *   valid `Date`.
 */
export function parseFilter(filter: ScheduledCommandFilter | undefined): ParsedFilter {
  const f = filter ?? {};
  return {
    statuses: parseStatuses(f.status),
    commandType: parseText('commandType', f.commandType),
    correlationId: parseText('correlationId', f.correlationId),
    recurringName: parseText('recurringName', f.recurringName),
    idempotencyKey: parseText('idempotencyKey', f.idempotencyKey),
    scheduledBefore: parseTime('scheduledBefore', f.scheduledBefore),
    scheduledAfter: parseTime('scheduledAfter', f.scheduledAfter),
  };
}

function parseStatuses(
  status: ScheduledCommandFilter['status'],
): readonly ScheduledCommandStatus[] | null {
  if (status === undefined) return null;
  const list = typeof status === 'string' ? [status] : status;
  if (!Array.isArray(list) || list.some((s) => !SCHEDULED_COMMAND_STATUSES.includes(s))) {
    throw invalidFilter(
      'status',
      status,
      `one of ${SCHEDULED_COMMAND_STATUSES.join(', ')} or a list of them`,
    );
  }
  return [...new Set(list)];
}

function parseText(field: string, value: unknown): string | null {
  if (value === undefined) return null;
  if (typeof value !== 'string') throw invalidFilter(field, value, 'a string');
  return value;
}

function parseTime(field: string, value: unknown): number | null {
  if (value === undefined) return null;
  if (!(value instanceof Date) || Number.isNaN(value.getTime())) {
    throw invalidFilter(field, value, 'a valid Date');
  }
  return value.getTime();
}
