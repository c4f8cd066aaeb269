import { Inject, Injectable, Logger, Optional, type OnModuleInit } from '@nestjs/common';
import { Clock } from '../clock.js';
import { ScheduledCommandsError } from '../errors/index.js';
import { CommandRegistry } from '../registry/command-registry.js';
import { serializeCommand } from '../registry/command-serializer.js';
import { FireTimes } from '../recurring/fire-times.js';
import {
  assertRecurringName,
  normalizeRecurringOptions,
  type RecurringOptions,
} from '../recurring/recurring-options.js';
import type { RecurringSchedule } from '../recurring/recurring-schedule.js';
import { SCHEDULED_COMMANDS_RESOLVED_OPTIONS } from '../scheduled-commands.constants.js';
import type { ResolvedScheduledCommandsOptions } from '../scheduled-commands.options.js';
import type {
  RecurringScheduleFields,
  RecurringScheduleRecord,
} from '../store/recurring-schedule-record.js';
import { ScheduledCommandStatus } from '../store/scheduled-command-entry.js';
import { ScheduledCommandStore } from '../store/scheduled-command-store.js';
import { ScheduledCommandsTelemetry } from '../telemetry/scheduled-commands-telemetry.js';
import { newOccurrence, RecurringMaterializer } from '../worker/recurring-materializer.js';
import { WorkerSignal } from '../worker/worker-signal.js';

/** Attempts of a read-then-conditional-write that keeps losing races. */
const MAX_ATTEMPTS = 10;
/** Fields whose change moves the schedule's fire times. */
const TIMING: readonly (keyof RecurringScheduleFields)[] = [
  'cron',
  'every',
  'timezone',
  'startAt',
  'endAt',
];
/** Every field a caller defines (the rest is the schedule's state). */
const DEFINITION: readonly (keyof RecurringScheduleFields)[] = [
  'commandType',
  'payload',
  ...TIMING,
  'misfire',
  'maxCatchUp',
  'overlap',
  'priority',
  'maxRetries',
  'expiresAfter',
  'correlationId',
  'metadata',
  'declared',
];

const same = (a: unknown, b: unknown): boolean =>
  a instanceof Date || b instanceof Date
    ? (a as Date | null)?.getTime() === (b as Date | null)?.getTime()
    : JSON.stringify(a) === JSON.stringify(b);

/**
 * The recurring-schedule half of `CommandScheduler` (which delegates to it). Every change is a
 * conditional write on the version it read, retried on a lost race, so that it races safely with the
 * materialiser of every instance and with other callers. At start-up it syncs the schedules declared
 * in the module options.
 */
@Injectable()
export class RecurringScheduler implements OnModuleInit {
  private readonly logger = new Logger(RecurringScheduler.name);

  constructor(
    private readonly store: ScheduledCommandStore,
    private readonly registry: CommandRegistry,
    private readonly materializer: RecurringMaterializer,
    private readonly signal: WorkerSignal,
    private readonly clock: Clock,
    @Inject(SCHEDULED_COMMANDS_RESOLVED_OPTIONS)
    private readonly options: ResolvedScheduledCommandsOptions,
    @Optional() private readonly telemetry?: ScheduledCommandsTelemetry,
  ) {}

  /**
   * Upserts the declared schedules and removes the declared ones no longer declared: at module
   * initialisation, so that the materialiser (started at application bootstrap) plans from them.
   */
  async onModuleInit(): Promise<void> {
    const declared = this.options.recurring;
    if (declared.length === 0 && !(await this.hasDeclared())) return;
    for (const { name, command, ...options } of declared) {
      await this.schedule(name, command, options, true);
    }
    const names = new Set(declared.map((d) => d.name));
    for (const schedule of await this.store.listRecurring()) {
      if (schedule.declared && !names.has(schedule.name)) {
        await this.store.removeRecurring(schedule.name);
        this.logger.log(`Removed recurring schedule "${schedule.name}": no longer declared.`);
      }
    }
  }

  /** See `CommandScheduler.scheduleRecurring`. */
  async schedule(
    name: string,
    command: object,
    options: RecurringOptions,
    declared = false,
  ): Promise<RecurringSchedule> {
    assertRecurringName(name);
    const o = normalizeRecurringOptions(options, this.options.maxRetries);
    const commandType = this.registry.nameOf(command);
    const payload = serializeCommand(commandType, command);
    const wanted = { ...o, commandType, payload, declared };
    // With tracing, the write runs in a span whose context the schedule keeps for its occurrences.
    if (this.telemetry?.active) {
      return this.telemetry.produceRecurring(name, commandType, (traceContext) =>
        this.write(name, { ...wanted, traceContext }),
      );
    }
    return this.write(name, wanted);
  }

  /** Creates or changes the schedule `name` to `wanted` (a definition change: see {@link schedule}). */
  private async write(
    name: string,
    wanted: Omit<RecurringScheduleFields, 'name' | 'paused' | 'nextFireAt' | 'lastFireAt'>,
  ): Promise<RecurringSchedule> {
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.store.getRecurring(name);
      if (
        current &&
        DEFINITION.every((k) => same(current[k], (wanted as Partial<RecurringScheduleFields>)[k]))
      ) {
        return this.describe(current);
      }
      // A change drops the occurrences created ahead of time; the next pass creates them anew from
      // the new definition. A new timing (a changed cron moves the next occurrence) starts from now;
      // otherwise the schedule goes on from its first fire time without an occurrence, so that the
      // misfire policy still applies to what a downtime missed.
      const timingChanged =
        !current ||
        TIMING.some((k) => !same(current[k], (wanted as Partial<RecurringScheduleFields>)[k]));
      const written = await this.store.writeRecurring({
        schedule: {
          ...wanted,
          name,
          paused: current?.paused ?? false,
          nextFireAt: timingChanged ? null : await this.firstUnstarted(current),
          lastFireAt: current?.lastFireAt ?? null,
        },
        expectedVersion: current?.version ?? null,
        dropFutureOccurrences: current !== null,
      });
      if (written) {
        this.materializer.wake();
        return this.describe(written);
      }
    }
    throw this.contended(name);
  }

  /** See `CommandScheduler.removeRecurring`. */
  async remove(name: string): Promise<boolean> {
    assertRecurringName(name);
    return this.store.removeRecurring(name);
  }

  /** See `CommandScheduler.pauseRecurring` / `resumeRecurring`. */
  async setPaused(name: string, paused: boolean): Promise<boolean> {
    assertRecurringName(name);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const current = await this.store.getRecurring(name);
      if (!current) return false;
      if (current.paused === paused) return true;
      const written = await this.store.writeRecurring({
        // Resuming starts from now: what passed while paused is not a misfire.
        schedule: { ...current, paused, nextFireAt: null },
        expectedVersion: current.version,
        dropFutureOccurrences: paused,
      });
      if (written) {
        if (!paused) this.materializer.wake();
        return true;
      }
    }
    throw this.contended(name);
  }

  /** See `CommandScheduler.triggerRecurring`. */
  async trigger(name: string): Promise<string | null> {
    assertRecurringName(name);
    const current = await this.store.getRecurring(name);
    if (!current) return null;
    const occurrence = newOccurrence(current, null);
    const ids = await this.store.materializeRecurring({
      name,
      expectedVersion: null,
      nextFireAt: null,
      lastFireAt: null,
      occurrences: [occurrence],
    });
    if (!ids?.length) return null;
    this.signal.scheduled(null, 0);
    return occurrence.id;
  }

  /** See `CommandScheduler.getRecurring`. */
  async get(name: string): Promise<RecurringSchedule | null> {
    assertRecurringName(name);
    const record = await this.store.getRecurring(name);
    return record ? this.describe(record) : null;
  }

  /** See `CommandScheduler.listRecurring`. */
  async list(): Promise<RecurringSchedule[]> {
    return Promise.all((await this.store.listRecurring()).map((r) => this.describe(r)));
  }

  /** The fire time of the schedule's first occurrence that a write would drop, or its next fire time. */
  private async firstUnstarted(current: RecurringScheduleRecord): Promise<Date | null> {
    const { items } = await this.store.find(
      { recurringName: current.name, status: ScheduledCommandStatus.Pending },
      { limit: 100, order: 'asc' },
    );
    const now = this.clock.now().getTime();
    const ahead = items.filter((e) => e.attempts === 0 && e.scheduledFor.getTime() > now);
    return ahead[0]?.scheduledFor ?? current.nextFireAt;
  }

  private async hasDeclared(): Promise<boolean> {
    try {
      return (await this.store.listRecurring()).some((s) => s.declared);
    } catch {
      return false; // a store without recurring schedules has none to remove
    }
  }

  private async describe(record: RecurringScheduleRecord): Promise<RecurringSchedule> {
    const {
      payload: _payload,
      version: _version,
      nextFireAt,
      lastFireAt: _last,
      traceContext: _traceContext,
      ...rest
    } = record;
    const [pending, recent] = await Promise.all([
      this.store.find(
        { recurringName: record.name, status: ScheduledCommandStatus.Pending },
        { limit: 1, order: 'asc' },
      ),
      this.store.find({ recurringName: record.name }, { limit: 20 }),
    ]);
    const started = recent.items.find((e) => e.startedAt !== null);
    let nextRunAt: Date | null = null;
    if (!record.paused) {
      nextRunAt =
        pending.items[0]?.scheduledFor ??
        nextFireAt ??
        new FireTimes(record).next(this.clock.now());
    }
    return { ...rest, nextRunAt, lastRunAt: started?.startedAt ?? null };
  }

  private contended(name: string): ScheduledCommandsError {
    return new ScheduledCommandsError(
      `Recurring schedule "${name}" kept changing under this call; try again.`,
    );
  }
}
