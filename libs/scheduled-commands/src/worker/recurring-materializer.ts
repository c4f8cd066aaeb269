import {
  Inject,
  Injectable,
  Logger,
  type OnApplicationBootstrap,
  type OnModuleDestroy,
} from '@nestjs/common';
import { RecurringNotSupportedError } from '../errors/index.js';
import { LifecycleEvents } from '../events/lifecycle-events.js';
import { ScheduledCommandEvent } from '../events/scheduled-command-event.js';
import { FireTimes } from '../recurring/fire-times.js';
import { planOccurrences } from '../recurring/occurrence-plan.js';
import { SCHEDULED_COMMANDS_RESOLVED_OPTIONS } from '../scheduled-commands.constants.js';
import type { ResolvedScheduledCommandsOptions } from '../scheduled-commands.options.js';
import type {
  NewRecurringOccurrence,
  RecurringScheduleRecord,
} from '../store/recurring-schedule-record.js';
import { ScheduledCommandStatus } from '../store/scheduled-command-entry.js';
import { ScheduledCommandStore } from '../store/scheduled-command-store.js';
import { uuidv7 } from '../util/uuid.js';
import { WorkerSignal } from './worker-signal.js';

/** A fire time found later than this after it passed counts as missed (the misfire policy applies). */
export const MISFIRE_GRACE = 1_000;
/** Longest pause between two materialisation passes. */
const MAX_PASS_INTERVAL = 1_000;
/** Passes one call makes at most while its writes keep losing races. */
const MAX_ROUNDS = 5;

/** Builds the entry of one occurrence of `schedule` at `fireTime` (`null`: triggered by hand, due now). */
export function newOccurrence(
  schedule: RecurringScheduleRecord,
  fireTime: Date | null,
): NewRecurringOccurrence {
  return {
    id: uuidv7(),
    commandType: schedule.commandType,
    payload: schedule.payload,
    scheduledFor: fireTime,
    delay: fireTime ? null : 0,
    priority: schedule.priority,
    maxRetries: schedule.maxRetries,
    expiresAfter: schedule.expiresAfter,
    correlationId: schedule.correlationId,
    metadata: schedule.metadata,
    idempotencyKey: null,
    recurringName: schedule.name,
    fireTime,
    // The schedule's context: the occurrence's run links to it (it is not the run's parent).
    traceContext: schedule.traceContext ?? null,
  };
}

/**
 * The worker role that turns recurring schedules into entries. On every instance whose worker is
 * enabled, about once a second (and at once when an occurrence ends or a schedule changes), it asks
 * the store which schedules are due within the horizon (by the store's clock, the database clock on
 * PostgreSQL), plans each one ({@link planOccurrences}: misfire policy, overlap) and writes the plan
 * with `materializeRecurring`: the schedule advances only from the version the plan was made from,
 * and the database refuses a second entry for one (schedule, fire time). However many instances run
 * the same pass, each fire time gets exactly one entry.
 *
 * Occurrences are created ahead of their fire time as ordinary future entries, and the worker's due
 * timer starts them on time, like any other entry.
 */
@Injectable()
export class RecurringMaterializer implements OnApplicationBootstrap, OnModuleDestroy {
  private readonly logger = new Logger(RecurringMaterializer.name);
  private readonly interval: number;
  private readonly horizon: number;
  private timer: NodeJS.Timeout | undefined;
  private stopListening: (() => void) | undefined;
  private running = false;
  private passing: Promise<void> | undefined;
  private again = false;

  constructor(
    private readonly store: ScheduledCommandStore,
    private readonly signal: WorkerSignal,
    private readonly lifecycle: LifecycleEvents,
    @Inject(SCHEDULED_COMMANDS_RESOLVED_OPTIONS)
    private readonly options: ResolvedScheduledCommandsOptions,
  ) {
    this.interval = Math.min(options.pollingInterval, MAX_PASS_INTERVAL);
    this.horizon = 2 * this.interval + MISFIRE_GRACE;
  }

  onApplicationBootstrap(): void {
    if (!this.options.enabled) return;
    this.running = true;
    this.timer = setInterval(() => this.wake(), this.interval);
    // An occurrence that ends frees the way for the next one (overlap: false): plan it at once.
    this.stopListening = this.lifecycle.listen((event) => {
      if (event instanceof ScheduledCommandEvent && event.recurringName !== null) this.wake();
    });
    this.wake();
  }

  async onModuleDestroy(): Promise<void> {
    this.running = false;
    if (this.timer) clearInterval(this.timer);
    this.stopListening?.();
    this.stopListening = undefined;
    await this.passing;
  }

  /** Runs a pass soon (one at a time; a wake-up during a pass runs another after it). */
  wake(): void {
    if (!this.running) return;
    if (this.passing) {
      this.again = true;
      return;
    }
    this.passing = this.materialize()
      .catch((error: Error) => {
        if (error instanceof RecurringNotSupportedError) {
          this.logger.log(`Recurring schedules are off: ${error.message}`);
          this.running = false;
          if (this.timer) clearInterval(this.timer);
          return;
        }
        this.logger.error(
          `Materialising recurring schedules failed: ${error.message}`,
          error.stack,
        );
      })
      .finally(() => {
        this.passing = undefined;
        if (this.again) {
          this.again = false;
          this.wake();
        }
      });
  }

  /**
   * One pass over the due schedules; resolves when it is written. Tests call it to drive the role
   * without waiting for its timer.
   */
  async materialize(): Promise<void> {
    // A write that lost its race (another instance, or a change through the API, wrote the schedule
    // since it was read) is planned again from what won, so that no wake-up is lost.
    for (let round = 0; round < MAX_ROUNDS; round++) {
      const { now, schedules } = await this.store.dueRecurring(this.horizon);
      let lost = false;
      for (const schedule of schedules) {
        try {
          lost = (await this.materializeOne(schedule, now)) || lost;
        } catch (error) {
          this.logger.error(
            `Materialising recurring schedule "${schedule.name}" failed: ${(error as Error).message}`,
            (error as Error).stack,
          );
        }
      }
      if (!lost) return;
    }
  }

  /** Plans and writes one schedule; `true` when the write lost a race. */
  private async materializeOne(schedule: RecurringScheduleRecord, now: Date): Promise<boolean> {
    const hasLiveOccurrence =
      !schedule.overlap &&
      (
        await this.store.find(
          {
            recurringName: schedule.name,
            status: [ScheduledCommandStatus.Pending, ScheduledCommandStatus.Processing],
          },
          { limit: 1 },
        )
      ).items.length > 0;
    const plan = planOccurrences({
      fireTimes: new FireTimes(schedule),
      misfire: schedule.misfire,
      maxCatchUp: schedule.maxCatchUp,
      overlap: schedule.overlap,
      nextFireAt: schedule.nextFireAt,
      now,
      horizonMs: this.horizon,
      graceMs: MISFIRE_GRACE,
      hasLiveOccurrence,
    });
    const fires = [...plan.catchUp, ...plan.onTime];
    const unchanged =
      fires.length === 0 &&
      plan.overlapSkipped.length === 0 &&
      plan.missed === 0 &&
      (plan.nextFireAt?.getTime() ?? null) === (schedule.nextFireAt?.getTime() ?? null);
    if (unchanged) return false;
    const ids = await this.store.materializeRecurring({
      name: schedule.name,
      expectedVersion: schedule.version,
      nextFireAt: plan.nextFireAt,
      lastFireAt: fires.length ? fires[fires.length - 1] : schedule.lastFireAt,
      occurrences: fires.map((fireTime) => newOccurrence(schedule, fireTime)),
    });
    // null: another instance (or a change through the API) got there first; its write stands.
    if (ids === null) return true;
    if (plan.missed > 0) {
      this.logger.warn(
        `Recurring schedule "${schedule.name}" missed ${plan.missed} fire time(s); misfire '${schedule.misfire}' runs ${plan.catchUp.length} of them.`,
      );
    }
    for (const skipped of plan.overlapSkipped) {
      this.logger.warn(
        `Recurring schedule "${schedule.name}": skipped the fire time ${skipped.toISOString()} because the previous occurrence is still pending or running (overlap: false).`,
      );
    }
    for (const fireTime of fires) this.signal.scheduled(fireTime, null);
    return false;
  }
}
