import { Inject, Injectable } from '@nestjs/common';
import { HealthIndicatorService, type HealthIndicatorResult } from '@nestjs/terminus';
import { InvalidModuleOptionsError } from '../errors/index.js';
import { SCHEDULED_COMMANDS_RESOLVED_OPTIONS } from '../scheduled-commands.constants.js';
import { messages } from '../scheduled-commands.messages.js';
import type { ResolvedScheduledCommandsOptions } from '../scheduled-commands.options.js';
import { ScheduledCommandStore } from '../store/scheduled-command-store.js';
import { ScheduledCommandsWorker } from '../worker/scheduled-commands-worker.js';

/** Thresholds of {@link ScheduledCommandsHealthIndicator.isHealthy}, in milliseconds. */
export interface ScheduledCommandsHealthOptions {
  /**
   * Unhealthy when the oldest command that is due but not claimed has been due for longer than this.
   * @default 60_000
   */
  maxDueAge?: number;
  /**
   * Unhealthy when this instance's worker has not completed a heartbeat (lease renewal) for this long.
   * @default the module's `leaseDuration` (a longer stall lets other instances take its commands over)
   */
  maxHeartbeatAge?: number;
  /** Unhealthy when the store has not answered within this time. @default 5_000 */
  timeout?: number;
}

/** Which check failed (`failed` in the details). */
export type ScheduledCommandsHealthFailure = 'store' | 'worker' | 'heartbeat' | 'backlog';

/** The details reported under the indicator's key (besides `status`). */
export interface ScheduledCommandsHealthDetails {
  [key: string]: unknown;
  /** The checks that failed; empty when healthy. */
  failed: ScheduledCommandsHealthFailure[];
  store: { reachable: boolean; responseTimeMs: number; error?: string };
  worker: {
    enabled: boolean;
    state: string;
    heartbeatAgeMs: number | null;
    maxHeartbeatAgeMs: number;
  };
  /** How long the oldest due, unclaimed command has waited (`null` when the store did not answer). */
  backlog: { oldestDueAgeMs: number | null; maxDueAgeMs: number };
}

const DEFAULT_MAX_DUE_AGE = 60_000;
const DEFAULT_TIMEOUT = 5_000;

/**
 * A `@nestjs/terminus` health indicator for scheduled commands (import it from
 * `nestjs-scheduled-commands/terminus`; `@nestjs/terminus` 11 or later must be installed):
 *
 * ```ts
 * @Module({ imports: [TerminusModule], providers: [ScheduledCommandsHealthIndicator], controllers: [HealthController] })
 * // in the controller:
 * @Get('health') @HealthCheck()
 * check() { return this.health.check([() => this.scheduledCommands.isHealthy('scheduled-commands')]); }
 * ```
 *
 * Down when the store does not answer (one cheap indexed query, `msUntilNextDue`), when this
 * instance's worker is enabled but not running or its heartbeat stalled, or when the oldest due
 * command has waited longer than `maxDueAge`. The details name the failed checks and give the figures.
 */
@Injectable()
export class ScheduledCommandsHealthIndicator {
  constructor(
    private readonly health: HealthIndicatorService,
    private readonly store: ScheduledCommandStore,
    private readonly worker: ScheduledCommandsWorker,
    @Inject(SCHEDULED_COMMANDS_RESOLVED_OPTIONS)
    private readonly options: ResolvedScheduledCommandsOptions,
  ) {}

  /**
   * Checks the store, the worker and the backlog.
   * @throws InvalidModuleOptionsError for a threshold that is not a positive integer (nothing is checked)
   */
  async isHealthy<const Key extends string>(
    key: Key,
    options: ScheduledCommandsHealthOptions = {},
  ): Promise<HealthIndicatorResult<Key>> {
    const maxDueAgeMs = threshold('maxDueAge', options.maxDueAge ?? DEFAULT_MAX_DUE_AGE);
    const maxHeartbeatAgeMs = threshold(
      'maxHeartbeatAge',
      options.maxHeartbeatAge ?? this.options.leaseDuration,
    );
    const timeout = threshold('timeout', options.timeout ?? DEFAULT_TIMEOUT);
    const session = this.health.check(key);
    const failed: ScheduledCommandsHealthFailure[] = [];

    const started = performance.now();
    let store: ScheduledCommandsHealthDetails['store'];
    let oldestDueAgeMs: number | null = null;
    try {
      const untilNextDue = await withTimeout(this.store.msUntilNextDue(), timeout);
      store = { reachable: true, responseTimeMs: elapsed(started) };
      oldestDueAgeMs = untilNextDue === null ? 0 : Math.max(0, -untilNextDue);
      if (oldestDueAgeMs > maxDueAgeMs) failed.push('backlog');
    } catch (error) {
      store = { reachable: false, responseTimeMs: elapsed(started), error: errorText(error) };
      failed.push('store');
    }

    const enabled = this.options.enabled;
    // Whole milliseconds, compared as reported: the details never show an age at the threshold as down.
    const age = this.worker.heartbeatAge;
    const heartbeatAgeMs = age === null ? null : Math.round(age);
    if (enabled && !this.worker.isRunning) failed.push('worker');
    else if (enabled && heartbeatAgeMs !== null && heartbeatAgeMs > maxHeartbeatAgeMs)
      failed.push('heartbeat');

    const details: ScheduledCommandsHealthDetails = {
      failed,
      store,
      worker: {
        enabled,
        state: this.worker.state,
        heartbeatAgeMs,
        maxHeartbeatAgeMs,
      },
      backlog: { oldestDueAgeMs, maxDueAgeMs },
    };
    return failed.length === 0 ? session.up(details) : session.down(details);
  }
}

function threshold(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) {
    throw new InvalidModuleOptionsError(
      field,
      messages.invalidModuleOption(field, value, 'a positive integer (milliseconds)'),
    );
  }
  return value;
}

const elapsed = (started: number): number => Math.round(performance.now() - started);

const errorText = (error: unknown): string =>
  error instanceof Error ? error.message || error.name : String(error);

/** `promise`, or a rejection after `ms`. */
async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
