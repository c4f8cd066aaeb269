import type { EntityManager } from 'typeorm';
import { InvalidCommandIdError, InvalidScheduleOptionsError } from '../errors/index.js';
import { MAX_DURATION } from '../scheduled-commands.options.js';
import { messages } from '../scheduled-commands.messages.js';
import {
  SCHEDULED_COMMAND_STATUSES,
  type ScheduledCommandFilter,
  type ScheduledCommandMetadata,
  type ScheduledCommandStatus,
  type ScheduleTime,
} from '../store/scheduled-command-entry.js';
import { invalidFilter, parseFilter } from '../store/find-options.js';
import { isUuid } from '../util/uuid.js';

/** Options of `CommandScheduler.schedule()`. Durations are milliseconds. */
export interface ScheduleOptions {
  /** Run at this time (a valid `Date`). Exclusive with `delay`. @default now */
  scheduledFor?: Date;
  /** Run after this many milliseconds. Exclusive with `scheduledFor`. @default 0 */
  delay?: number;
  /** Higher runs first; an integer. @default 0 */
  priority?: number;
  /** Retries after the first attempt. @default the module's `maxRetries` (3) */
  maxRetries?: number;
  /**
   * The command expires (never runs) if not started within this long after its due time; at least
   * 1 ms. @default never
   */
  expiresAfter?: number;
  /** Free-form id tying the command to a request, saga or conversation; carried by every event. */
  correlationId?: string;
  /** String key/value pairs for tracking; carried by every event. */
  metadata?: ScheduledCommandMetadata;
  /**
   * While an entry with this key is pending or processing, scheduling again with it returns that entry's
   * id and stores nothing. @default the command's own `idempotencyKey` property, if it has one
   */
  idempotencyKey?: string;
  /**
   * The TypeORM `EntityManager` of a running transaction: the command is stored in that transaction
   * (nothing is stored if it rolls back), and the worker is woken only after it commits. Not allowed
   * inside the items of `scheduleMany` (give it as that method's second argument).
   * @default the module's `ambientTransaction`, if any; otherwise no transaction
   */
  manager?: EntityManager;
}

/** A validated, normalised {@link ScheduleOptions}. */
export interface NormalizedScheduleOptions {
  scheduledFor: Date | null;
  delay: number | null;
  priority: number;
  maxRetries: number;
  expiresAfter: number | null;
  correlationId: string | null;
  metadata: ScheduledCommandMetadata | null;
  idempotencyKey: string | null;
}

const OPTION_KEYS = new Set([
  'scheduledFor',
  'delay',
  'priority',
  'maxRetries',
  'expiresAfter',
  'correlationId',
  'metadata',
  'idempotencyKey',
  // Not a stored option: CommandScheduler reads it (see transaction-scope.ts).
  'manager',
]);
const MAX_TEXT = 500;
const INT32_MAX = 2_147_483_647;

const invalid = (field: string, value: unknown, expected: string): never => {
  throw new InvalidScheduleOptionsError(field, messages.invalidOption(field, value, expected));
};

/** A valid `Date`. */
export function validDate(field: string, value: unknown): Date {
  if (!(value instanceof Date) || Number.isNaN(value.getTime()))
    invalid(field, value, 'a valid Date');
  return value as Date;
}

/**
 * A duration: a finite number of milliseconds from `min` to `MAX_DURATION`, rounded to whole
 * milliseconds (the rounded value must still be at least `min`).
 */
export function duration(field: string, value: unknown, min = 0): number {
  const ms = typeof value === 'number' ? Math.round(value) : NaN;
  if (!(ms >= min && (value as number) >= min && (value as number) <= MAX_DURATION)) {
    invalid(field, value, `a number of milliseconds from ${min} to ${MAX_DURATION}`);
  }
  return ms;
}

function text(field: string, value: unknown): string {
  if (typeof value !== 'string' || value === '' || value.length > MAX_TEXT) {
    invalid(field, value, `a non-empty string of at most ${MAX_TEXT} characters`);
  }
  return value as string;
}

function plainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Validates and normalises schedule options; `commandKey` is the command's own `idempotencyKey`.
 * @throws InvalidScheduleOptionsError naming the first invalid field.
 */
export function normalizeScheduleOptions(
  options: ScheduleOptions | undefined,
  defaultMaxRetries: number,
  commandKey: unknown,
): NormalizedScheduleOptions {
  const o: ScheduleOptions = options ?? {};
  if (!plainObject(options ?? {})) invalid('options', o, 'an object');
  for (const key of Object.keys(o)) {
    if (!OPTION_KEYS.has(key))
      invalid(
        key,
        (o as Record<string, unknown>)[key],
        `one of the options ${[...OPTION_KEYS].join(', ')}`,
      );
  }
  if (o.scheduledFor !== undefined && o.delay !== undefined) {
    throw new InvalidScheduleOptionsError(
      'scheduledFor',
      messages.exclusiveOptions('scheduledFor', 'delay'),
    );
  }
  const priority: number = o.priority ?? 0;
  if (!Number.isInteger(priority) || Math.abs(priority) > INT32_MAX) {
    invalid('priority', priority, `an integer from -${INT32_MAX} to ${INT32_MAX}`);
  }
  const maxRetries: number = o.maxRetries ?? defaultMaxRetries;
  if (!Number.isInteger(maxRetries) || maxRetries < 0 || maxRetries > 1000) {
    invalid('maxRetries', maxRetries, 'an integer from 0 to 1000');
  }
  let metadata: ScheduledCommandMetadata | null = null;
  if (o.metadata !== undefined && o.metadata !== null) {
    if (!plainObject(o.metadata)) invalid('metadata', o.metadata, 'an object of string values');
    metadata = {};
    for (const [key, value] of Object.entries(o.metadata)) {
      if (typeof value !== 'string') invalid(`metadata.${key}`, value, 'a string');
      if (key === '__proto__' || key === 'constructor' || key === 'prototype' || key === '') {
        invalid('metadata', key, 'keys other than "", __proto__, constructor and prototype');
      }
      metadata[key] = value;
    }
  }
  let idempotencyKey: string | null = null;
  if (o.idempotencyKey !== undefined) idempotencyKey = text('idempotencyKey', o.idempotencyKey);
  else if (commandKey !== undefined && commandKey !== null)
    idempotencyKey = text('command.idempotencyKey', commandKey);

  return {
    scheduledFor: o.scheduledFor === undefined ? null : validDate('scheduledFor', o.scheduledFor),
    delay: o.delay === undefined ? null : duration('delay', o.delay),
    priority,
    maxRetries,
    // Zero would expire a command at the very moment it becomes due: it could never run.
    expiresAfter: o.expiresAfter === undefined ? null : duration('expiresAfter', o.expiresAfter, 1),
    correlationId: o.correlationId === undefined ? null : text('correlationId', o.correlationId),
    metadata,
    idempotencyKey,
  };
}

/**
 * Validates a new due time given as `{ scheduledFor }` or `{ delay }` (exactly one).
 * @throws InvalidScheduleOptionsError
 */
export function normalizeScheduleTime(time: unknown): ScheduleTime {
  if (!plainObject(time)) invalid('time', time, 'an object with scheduledFor or delay');
  const t = time as Record<string, unknown>;
  for (const key of Object.keys(t)) {
    if (key !== 'scheduledFor' && key !== 'delay') invalid(key, t[key], 'scheduledFor or delay');
  }
  if (t.scheduledFor !== undefined && t.delay !== undefined) {
    throw new InvalidScheduleOptionsError(
      'scheduledFor',
      messages.exclusiveOptions('scheduledFor', 'delay'),
    );
  }
  if (t.scheduledFor !== undefined)
    return { scheduledFor: validDate('scheduledFor', t.scheduledFor) };
  if (t.delay !== undefined) return { delay: duration('delay', t.delay) };
  return invalid('time', time, 'an object with scheduledFor or delay');
}

/**
 * Checks an id given to the scheduler.
 * @throws InvalidCommandIdError when it is not a UUID string.
 */
export function assertCommandId(id: unknown): asserts id is string {
  if (!isUuid(id)) throw new InvalidCommandIdError(id, messages.invalidId(id));
}

/**
 * Validates a status or a non-empty list of statuses, each one of `allowed`.
 * @throws InvalidScheduleOptionsError naming `field` and listing the allowed statuses.
 */
export function normalizeStatuses(
  field: string,
  value: unknown,
  allowed: readonly ScheduledCommandStatus[] = SCHEDULED_COMMAND_STATUSES,
): ScheduledCommandStatus[] {
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) invalid(field, value, 'at least one status');
  for (const s of list) {
    if (!allowed.includes(s as ScheduledCommandStatus)) {
      throw new InvalidScheduleOptionsError(
        field,
        messages.invalidFilter(field, s, allowed.join(', ')),
      );
    }
  }
  return list as ScheduledCommandStatus[];
}

const FILTER_KEYS = [
  'status',
  'commandType',
  'correlationId',
  'recurringName',
  'idempotencyKey',
  'scheduledBefore',
  'scheduledAfter',
];

/**
 * Validates a filter of `find()` / `retryFailed()`: the field values are checked by the same
 * `parseFilter` every store uses; on top of that the scheduler refuses unknown keys (typos), empty
 * strings and an empty status list, which would silently match everything or nothing.
 * @throws InvalidScheduleOptionsError naming the invalid field.
 */
export function normalizeFilter(filter: unknown): ScheduledCommandFilter {
  if (filter === undefined) return {};
  if (!plainObject(filter)) invalid('filter', filter, 'an object');
  const f = filter as Record<string, unknown>;
  for (const key of Object.keys(f)) {
    if (!FILTER_KEYS.includes(key)) {
      throw invalidFilter(key, f[key], `one of ${FILTER_KEYS.join(', ')}`);
    }
  }
  parseFilter(f as ScheduledCommandFilter);
  for (const key of ['commandType', 'correlationId', 'recurringName', 'idempotencyKey'] as const) {
    if (f[key] === '') throw invalidFilter(key, f[key], 'a non-empty string');
  }
  if (Array.isArray(f.status) && f.status.length === 0) {
    throw invalidFilter('status', f.status, 'at least one status');
  }
  const out: { -readonly [K in keyof ScheduledCommandFilter]: ScheduledCommandFilter[K] } = {};
  for (const key of FILTER_KEYS) {
    if (f[key] === undefined) continue;
    (out as Record<string, unknown>)[key] =
      key === 'status' && !Array.isArray(f.status) ? [f.status] : f[key];
  }
  return out;
}
