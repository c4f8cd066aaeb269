import { InvalidRecurringScheduleError } from '../errors/index.js';
import { messages } from '../scheduled-commands.messages.js';
import { normalizeScheduleOptions } from '../scheduling/schedule-options.js';
import type { ScheduledCommandMetadata } from '../store/scheduled-command-entry.js';
import { FireTimes } from './fire-times.js';

/**
 * What to do with the fire times that passed while no instance was running (or could reach the
 * database): `'skip'` runs none of them, `'once'` runs one, for the latest of them, `'all'` runs
 * the latest `maxCatchUp` of them in order. The schedule then continues on its normal times.
 */
export type MisfirePolicy = 'skip' | 'once' | 'all';

/** Options of `CommandScheduler.scheduleRecurring()`. Durations are milliseconds. */
export interface RecurringOptions {
  /**
   * A cron expression: 5 fields (minute precision) or 6 with seconds first (`'* * * * * *'` fires
   * every second). Exclusive with `every`; exactly one of the two is required.
   */
  cron?: string;
  /** Fire every this many milliseconds (at least 1000), aligned on `startAt` (or the Unix epoch). */
  every?: number;
  /** IANA time zone the cron expression is read in. @default 'UTC' */
  timezone?: string;
  /** @default 'once' */
  misfire?: MisfirePolicy;
  /** With `misfire: 'all'`, the most missed fire times run after a downtime. @default 100 */
  maxCatchUp?: number;
  /**
   * `false`: a fire time is skipped (and logged) while the previous occurrence is still pending or
   * running. `true`: occurrences may run side by side. @default false
   */
  overlap?: boolean;
  /** No fire time before this. @default now */
  startAt?: Date;
  /** No fire time after this. @default never */
  endAt?: Date;
  /** Per-occurrence options, as for `schedule()`. */
  priority?: number;
  maxRetries?: number;
  expiresAfter?: number;
  correlationId?: string;
  metadata?: ScheduledCommandMetadata;
}

/** Validated {@link RecurringOptions} with defaults applied. */
export interface NormalizedRecurringOptions {
  readonly cron: string | null;
  readonly every: number | null;
  readonly timezone: string;
  readonly misfire: MisfirePolicy;
  readonly maxCatchUp: number;
  readonly overlap: boolean;
  readonly startAt: Date | null;
  readonly endAt: Date | null;
  readonly priority: number;
  readonly maxRetries: number;
  readonly expiresAfter: number | null;
  readonly correlationId: string | null;
  readonly metadata: ScheduledCommandMetadata | null;
}

/** Longest schedule name. */
export const MAX_RECURRING_NAME = 200;
/** Shortest `every`. */
export const MIN_EVERY = 1000;
const DEFAULT_MAX_CATCH_UP = 100;
const MAX_CATCH_UP = 10_000;
const KEYS = new Set([
  'cron',
  'every',
  'timezone',
  'misfire',
  'maxCatchUp',
  'overlap',
  'startAt',
  'endAt',
  'priority',
  'maxRetries',
  'expiresAfter',
  'correlationId',
  'metadata',
]);
const PER_OCCURRENCE = ['priority', 'maxRetries', 'expiresAfter', 'correlationId', 'metadata'];

const invalid = (field: string, value: unknown, expected: string): never => {
  throw new InvalidRecurringScheduleError(field, messages.invalidRecurring(field, value, expected));
};

/**
 * Checks a schedule name.
 * @throws InvalidRecurringScheduleError for anything but a non-empty string of at most 200 characters.
 */
export function assertRecurringName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.trim() === '' || name.length > MAX_RECURRING_NAME) {
    invalid('name', name, `a non-empty string of at most ${MAX_RECURRING_NAME} characters`);
  }
}

/** Whether `zone` is an IANA time zone this runtime knows. */
export function isTimeZone(zone: unknown): zone is string {
  if (typeof zone !== 'string' || zone === '') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * Validates and normalises recurring options.
 * @throws InvalidRecurringScheduleError naming the first invalid field (nothing is stored).
 */
export function normalizeRecurringOptions(
  options: RecurringOptions | undefined,
  defaultMaxRetries: number,
): NormalizedRecurringOptions {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) {
    return invalid('options', options, 'an object with cron or every');
  }
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KEYS.has(key)) invalid(key, o[key], `one of the options ${[...KEYS].join(', ')}`);
  }
  const hasCron = o.cron !== undefined;
  const hasEvery = o.every !== undefined;
  if (hasCron === hasEvery) {
    invalid('cron', o.cron, 'exactly one of cron and every');
  }
  const timezone = o.timezone ?? 'UTC';
  if (!isTimeZone(timezone))
    invalid('timezone', timezone, 'an IANA time zone such as "Europe/Paris"');
  let every: number | null = null;
  if (hasEvery) {
    if (typeof o.every !== 'number' || !Number.isInteger(o.every) || o.every < MIN_EVERY) {
      invalid('every', o.every, `an integer number of milliseconds, at least ${MIN_EVERY}`);
    }
    every = o.every as number;
  }
  const misfire = o.misfire ?? 'once';
  if (misfire !== 'skip' && misfire !== 'once' && misfire !== 'all') {
    invalid('misfire', misfire, "'skip', 'once' or 'all'");
  }
  const maxCatchUp = o.maxCatchUp ?? DEFAULT_MAX_CATCH_UP;
  if (
    typeof maxCatchUp !== 'number' ||
    !Number.isInteger(maxCatchUp) ||
    maxCatchUp < 1 ||
    maxCatchUp > MAX_CATCH_UP
  ) {
    invalid('maxCatchUp', maxCatchUp, `an integer from 1 to ${MAX_CATCH_UP}`);
  }
  const overlap = o.overlap ?? false;
  if (typeof overlap !== 'boolean') invalid('overlap', overlap, 'a boolean');
  const date = (field: 'startAt' | 'endAt'): Date | null => {
    const v = o[field];
    if (v === undefined || v === null) return null;
    if (!(v instanceof Date) || Number.isNaN(v.getTime())) invalid(field, v, 'a valid Date');
    return v as Date;
  };
  const startAt = date('startAt');
  const endAt = date('endAt');
  if (startAt && endAt && endAt.getTime() < startAt.getTime()) {
    invalid('endAt', endAt, 'a Date not before startAt');
  }
  // The per-occurrence options are exactly those of schedule(): the same validation.
  const occurrence = Object.fromEntries(
    PER_OCCURRENCE.filter((k) => o[k] !== undefined).map((k) => [k, o[k]]),
  );
  const n = normalizeScheduleOptions(occurrence, defaultMaxRetries, undefined);
  const cron = hasCron ? (o.cron as string) : null;
  // Parsing the expression is the check; FireTimes throws InvalidRecurringScheduleError.
  new FireTimes({ cron, every, timezone: timezone as string, startAt, endAt });
  return {
    cron,
    every,
    timezone: timezone as string,
    misfire: misfire as MisfirePolicy,
    maxCatchUp: maxCatchUp as number,
    overlap: overlap as boolean,
    startAt,
    endAt,
    priority: n.priority,
    maxRetries: n.maxRetries,
    expiresAfter: n.expiresAfter,
    correlationId: n.correlationId,
    metadata: n.metadata,
  };
}
