import { hostname } from 'node:os';
import type { Type } from '@nestjs/common';
import type { Clock } from './clock.js';
import { InvalidModuleOptionsError } from './errors/index.js';
import { messages } from './scheduled-commands.messages.js';
import type { RecurringDeclaration } from './recurring/recurring-declaration.js';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** How long finished entries are kept before the worker purges them (ms); `false` keeps them forever. */
export interface RetentionOptions {
  /** @default 604_800_000 (7 days) */
  completed?: number | false;
  /** Dead-lettered entries. @default 2_592_000_000 (30 days) */
  failed?: number | false;
  /** @default 2_592_000_000 (30 days) */
  cancelled?: number | false;
  /** @default 2_592_000_000 (30 days) */
  expired?: number | false;
}

/**
 * OpenTelemetry spans and metrics (see the README's telemetry section). They are recorded only when
 * `@opentelemetry/api` is installed and the application registered an SDK; otherwise they cost nothing.
 */
export interface TelemetryOptions {
  /** Record spans and metrics when an SDK is registered. @default true */
  enabled?: boolean;
  /**
   * The `scheduled_commands.entries` gauge (entries per status) reads the store at most once per this
   * many milliseconds, however often it is scraped; `0` leaves the gauge out (set it on one instance
   * only, since every instance sees the same table). @default 30_000
   */
  statusGaugeInterval?: number;
}

/**
 * Options of `ScheduledCommandsModule.forRoot()` / `forRootAsync()` (the `useFactory` result). Every
 * duration is in milliseconds. (`store`, `dataSource` and `isGlobal` are given beside them, see
 * `ScheduledCommandsModuleExtras`, because they decide which providers the module declares.)
 * Defaults are applied in one place ({@link resolveScheduledCommandsOptions}) and every field is
 * validated once at start-up: an invalid value fails the start-up with `InvalidModuleOptionsError`
 * naming the field.
 */
export interface ScheduledCommandsModuleOptions {
  /**
   * Run the worker (poller) in this instance. `false` makes a schedule-only instance: it can schedule,
   * cancel and query, and never executes commands.
   * @default true
   */
  enabled?: boolean;
  /** How often the worker looks for due commands when nothing woke it earlier (the safety net). @default 5_000 */
  pollingInterval?: number;
  /** Most commands claimed in one store round-trip. @default 50 */
  batchSize?: number;
  /**
   * Most commands running at once in this instance. A claim never takes more commands than there are
   * free slots, so this also bounds the claim size. Handlers that wait on a database share its pool
   * (TypeORM's `pg` pool holds 10 connections by default): lower it for handlers that hold a
   * connection for long, or that call a rate-limited service.
   * @default 50
   */
  concurrency?: number;
  /** Default retries after the first attempt (per command: `ScheduleOptions.maxRetries`). @default 3 */
  maxRetries?: number;
  /** Delay before the first retry; doubles per retry when `exponentialBackoff` is on. @default 10_000 */
  retryDelayBase?: number;
  /** `retryDelayBase * 2^(n-1)` before retry n when on; `retryDelayBase` every time when off. @default true */
  exponentialBackoff?: boolean;
  /** Upper bound of a retry delay. @default 3_600_000 (1 hour) */
  maxRetryDelay?: number;
  /**
   * Random jitter as a fraction of the delay, 0..1: a delay d becomes a random value in
   * `[d * (1 - retryJitter), d]`, so failed commands do not all retry in the same instant.
   * @default 0
   */
  retryJitter?: number;
  /**
   * How long a claim holds a command before another instance may take it over; the worker renews it
   * (heartbeat) every `leaseDuration / 3` while the handler runs.
   * @default 30_000
   */
  leaseDuration?: number;
  /** A handler running longer than this is a failed attempt (its `AbortSignal` fires). `0` = no limit. @default 0 */
  commandTimeout?: number;
  /** On shutdown, how long running handlers may take to finish before their commands are released. @default 10_000 */
  shutdownTimeout?: number;
  /** Finished-entry retention, purged by the worker in small batches. */
  retention?: RetentionOptions;
  /**
   * How often the worker purges finished entries past their retention. (Lease take-over and expiry run
   * on every polling pass.) @default 60_000
   */
  maintenanceInterval?: number;
  /** Command classes to register besides those discovered through their `@CommandHandler`. @default [] */
  commands?: Type<object>[];
  /** Wake workers on other instances through the store's notifications (PostgreSQL LISTEN/NOTIFY). @default true */
  listen?: boolean;
  /**
   * Run every command inside an `AsyncLocalStorage`, so that `getScheduledCommandContext()` with no
   * argument finds the run's context anywhere in the handler's asynchronous call chain. Off by
   * default: AsyncLocalStorage makes Node install promise hooks that slow down every promise of the
   * process. `getScheduledCommandContext(command)` works either way.
   * @default false
   */
  asyncContext?: boolean;
  /** This instance's worker id (written to `lockedBy`). @default `${hostname}:${pid}:<random>` */
  workerId?: string;
  /** The clock (tests drive time with one). @default SystemClock */
  clock?: Clock;
  /**
   * Where `schedule`, `scheduleMany`, `cancel` and `reschedule` find the caller's transaction when no
   * `manager` is passed: a function returning the TypeORM `EntityManager` of the transaction active
   * in the current call chain, or a manager outside any transaction (or `undefined`) when there is
   * none. With `@nestjs-cls/transactional` and its TypeORM adapter, inject `TransactionHost` in
   * `forRootAsync` and return `{ ambientTransaction: () => txHost.tx }`.
   * @default none: without `manager`, writes are never part of a caller's transaction
   */
  ambientTransaction?: () => unknown;
  /**
   * Recurring schedules declared in code, upserted at start-up (see `RecurringDeclaration`). A
   * schedule declared here once and no longer is removed at start-up; schedules created through
   * `CommandScheduler.scheduleRecurring()` are left alone. @default []
   */
  recurring?: RecurringDeclaration[];
  /** OpenTelemetry spans and metrics. */
  telemetry?: TelemetryOptions;
}

/** The options after defaults were merged and every field validated. */
export interface ResolvedScheduledCommandsOptions {
  readonly enabled: boolean;
  readonly pollingInterval: number;
  readonly batchSize: number;
  readonly concurrency: number;
  readonly maxRetries: number;
  readonly retryDelayBase: number;
  readonly exponentialBackoff: boolean;
  readonly maxRetryDelay: number;
  readonly retryJitter: number;
  readonly leaseDuration: number;
  readonly commandTimeout: number;
  readonly shutdownTimeout: number;
  readonly retention: Readonly<Record<keyof RetentionOptions, number | false>>;
  readonly maintenanceInterval: number;
  readonly commands: readonly Type<object>[];
  readonly listen: boolean;
  readonly asyncContext: boolean;
  readonly workerId: string;
  readonly clock: Clock | undefined;
  readonly ambientTransaction: (() => unknown) | undefined;
  readonly recurring: readonly RecurringDeclaration[];
  readonly telemetry: Readonly<Required<TelemetryOptions>>;
}

/** The defaults, in one place. */
export const SCHEDULED_COMMANDS_DEFAULTS = Object.freeze({
  enabled: true,
  pollingInterval: 5 * SECOND,
  batchSize: 50,
  concurrency: 50,
  maxRetries: 3,
  retryDelayBase: 10 * SECOND,
  exponentialBackoff: true,
  maxRetryDelay: HOUR,
  retryJitter: 0,
  leaseDuration: 30 * SECOND,
  commandTimeout: 0,
  shutdownTimeout: 10 * SECOND,
  retention: Object.freeze({
    completed: 7 * DAY,
    failed: 30 * DAY,
    cancelled: 30 * DAY,
    expired: 30 * DAY,
  }),
  maintenanceInterval: MINUTE,
  listen: true,
  asyncContext: false,
  telemetry: Object.freeze({ enabled: true, statusGaugeInterval: 30 * SECOND }),
});

const fail = (field: string, value: unknown, expected: string): never => {
  throw new InvalidModuleOptionsError(field, messages.invalidModuleOption(field, value, expected));
};

function int(field: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    fail(field, value, `an integer from ${min} to ${max}`);
  }
  return value as number;
}

function bool(field: string, value: unknown): boolean {
  if (typeof value !== 'boolean') fail(field, value, 'true or false');
  return value as boolean;
}

/** Largest duration accepted anywhere (about 285 years): keeps date arithmetic exact. */
export const MAX_DURATION = 9_000_000_000_000;

/**
 * Merges the defaults into `options` and validates every field.
 * @throws InvalidModuleOptionsError naming the first invalid field.
 */
export function resolveScheduledCommandsOptions(
  options: ScheduledCommandsModuleOptions = {},
): ResolvedScheduledCommandsOptions {
  if (options === null || typeof options !== 'object') fail('options', options, 'an object');
  const d = SCHEDULED_COMMANDS_DEFAULTS;
  const pick = <K extends keyof typeof d>(key: K) =>
    (options[key as keyof ScheduledCommandsModuleOptions] ?? d[key]) as unknown;

  const retentionIn = options.retention ?? {};
  if (retentionIn === null || typeof retentionIn !== 'object')
    fail('retention', retentionIn, 'an object');
  const retention = {} as Record<keyof RetentionOptions, number | false>;
  for (const key of ['completed', 'failed', 'cancelled', 'expired'] as const) {
    const value = retentionIn[key] ?? d.retention[key];
    retention[key] = value === false ? false : int(`retention.${key}`, value, 0, MAX_DURATION);
  }

  const leaseDuration = int('leaseDuration', pick('leaseDuration'), 1_000, MAX_DURATION);
  const commands = options.commands ?? [];
  if (!Array.isArray(commands) || commands.some((c) => typeof c !== 'function')) {
    fail('commands', commands, 'an array of command classes');
  }
  const workerId =
    options.workerId ?? `${hostname()}:${process.pid}:${Math.random().toString(36).slice(2, 8)}`;
  if (typeof workerId !== 'string' || workerId === '' || workerId.length > 200) {
    fail('workerId', workerId, 'a non-empty string of at most 200 characters');
  }
  const retryJitter = pick('retryJitter');
  if (typeof retryJitter !== 'number' || !(retryJitter >= 0 && retryJitter <= 1)) {
    fail('retryJitter', retryJitter, 'a number from 0 to 1');
  }
  const telemetryIn = options.telemetry ?? {};
  if (telemetryIn === null || typeof telemetryIn !== 'object')
    fail('telemetry', telemetryIn, 'an object');
  const telemetry = Object.freeze({
    enabled: bool('telemetry.enabled', telemetryIn.enabled ?? d.telemetry.enabled),
    statusGaugeInterval: int(
      'telemetry.statusGaugeInterval',
      telemetryIn.statusGaugeInterval ?? d.telemetry.statusGaugeInterval,
      0,
      MAX_DURATION,
    ),
  });
  if (options.clock !== undefined && typeof options.clock?.now !== 'function') {
    fail('clock', options.clock, 'a Clock (an object with now(): Date)');
  }

  if (
    options.ambientTransaction !== undefined &&
    typeof options.ambientTransaction !== 'function'
  ) {
    fail('ambientTransaction', options.ambientTransaction, 'a function returning an EntityManager');
  }

  return Object.freeze({
    enabled: bool('enabled', pick('enabled')),
    pollingInterval: int('pollingInterval', pick('pollingInterval'), 10, MAX_DURATION),
    batchSize: int('batchSize', pick('batchSize'), 1, 10_000),
    concurrency: int('concurrency', pick('concurrency'), 1, 10_000),
    maxRetries: int('maxRetries', pick('maxRetries'), 0, 1_000),
    retryDelayBase: int('retryDelayBase', pick('retryDelayBase'), 0, MAX_DURATION),
    exponentialBackoff: bool('exponentialBackoff', pick('exponentialBackoff')),
    maxRetryDelay: int('maxRetryDelay', pick('maxRetryDelay'), 0, MAX_DURATION),
    retryJitter: retryJitter as number,
    leaseDuration,
    commandTimeout: int('commandTimeout', pick('commandTimeout'), 0, MAX_DURATION),
    shutdownTimeout: int('shutdownTimeout', pick('shutdownTimeout'), 0, MAX_DURATION),
    retention: Object.freeze(retention),
    maintenanceInterval: int('maintenanceInterval', pick('maintenanceInterval'), 100, MAX_DURATION),
    commands: Object.freeze([...commands]),
    listen: bool('listen', pick('listen')),
    asyncContext: bool('asyncContext', pick('asyncContext')),
    workerId,
    clock: options.clock,
    ambientTransaction: options.ambientTransaction,
    recurring: Object.freeze([...recurringDeclarations(options.recurring)]),
    telemetry,
  });
}

function recurringDeclarations(value: unknown): RecurringDeclaration[] {
  const list = value ?? [];
  if (
    !Array.isArray(list) ||
    list.some((d) => d === null || typeof d !== 'object' || !('name' in d) || !('command' in d))
  ) {
    fail('recurring', value, 'an array of { name, command, cron | every, ...options }');
  }
  return list as RecurringDeclaration[];
}
