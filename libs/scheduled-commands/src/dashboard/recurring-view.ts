import { Injectable, NotFoundException } from '@nestjs/common';
import { RecurringNotSupportedError } from '../errors/index.js';
import { FireTimes } from '../recurring/fire-times.js';
import type { RecurringSchedule } from '../recurring/recurring-schedule.js';
import { CommandScheduler } from '../scheduling/command-scheduler.service.js';
import { entrySummary, type EntrySummaryView } from './entry-view.js';

/** Upcoming fire times shown per schedule. */
const NEXT_RUNS = 3;

/** One recurring schedule, as the recurring page shows it. */
export interface RecurringScheduleView {
  readonly name: string;
  readonly commandType: string;
  /** The cron expression, or null for a fixed interval. */
  readonly cron: string | null;
  /** The interval in milliseconds, or null for a cron schedule. */
  readonly every: number | null;
  readonly timezone: string;
  readonly paused: boolean;
  /** Declared in the module options (as opposed to created through the API). */
  readonly declared: boolean;
  /** The next fire times (the first one is when the next occurrence is due); empty when paused or ended. */
  readonly nextRuns: string[];
  /** When the latest occurrence started, or null. */
  readonly lastRunAt: string | null;
  /** The newest occurrence (any status), or null. */
  readonly lastOccurrence: EntrySummaryView | null;
}

/** What `GET api/recurring` answers. */
export interface RecurringPageView {
  /** False when the store keeps no recurring schedules (MySQL/MariaDB for now). */
  readonly supported: boolean;
  readonly schedules: RecurringScheduleView[];
}

/**
 * The recurring page's reads and actions, through the `CommandScheduler`'s recurring API (which the
 * `RecurringScheduler` implements), so a pause, a resume or a trigger from the dashboard behaves
 * exactly as one made in code.
 */
@Injectable()
export class DashboardRecurring {
  constructor(private readonly scheduler: CommandScheduler) {}

  /** Every schedule, by name, with its next runs and newest occurrence. */
  async list(): Promise<RecurringPageView> {
    let schedules: RecurringSchedule[];
    try {
      schedules = await this.scheduler.listRecurring();
    } catch (error) {
      if (error instanceof RecurringNotSupportedError) return { supported: false, schedules: [] };
      throw error;
    }
    return { supported: true, schedules: await Promise.all(schedules.map((s) => this.view(s))) };
  }

  /** Pauses or resumes a schedule. @throws NotFoundException when there is none of that name. */
  async setPaused(name: string, paused: boolean): Promise<void> {
    const done = paused
      ? await this.scheduler.pauseRecurring(name)
      : await this.scheduler.resumeRecurring(name);
    if (!done) throw new NotFoundException(`no recurring schedule ${name}`);
  }

  /** Runs an extra occurrence now; returns its id. @throws NotFoundException when there is none. */
  async trigger(name: string): Promise<string> {
    const id = await this.scheduler.triggerRecurring(name);
    if (id === null) throw new NotFoundException(`no recurring schedule ${name}`);
    return id;
  }

  private async view(schedule: RecurringSchedule): Promise<RecurringScheduleView> {
    const newest = await this.scheduler.find({ recurringName: schedule.name }, { limit: 1 });
    return {
      name: schedule.name,
      commandType: schedule.commandType,
      cron: schedule.cron,
      every: schedule.every,
      timezone: schedule.timezone,
      paused: schedule.paused,
      declared: schedule.declared,
      nextRuns: nextRuns(schedule).map((date) => date.toISOString()),
      lastRunAt: schedule.lastRunAt?.toISOString() ?? null,
      lastOccurrence: newest.items[0] ? entrySummary(newest.items[0]) : null,
    };
  }
}

/** The schedule's next run and the fire times after it. */
function nextRuns(schedule: RecurringSchedule): Date[] {
  if (schedule.nextRunAt === null) return [];
  const runs = [schedule.nextRunAt];
  const times = new FireTimes(schedule);
  while (runs.length < NEXT_RUNS) {
    const next = times.next(runs[runs.length - 1]);
    if (next === null) break;
    runs.push(next);
  }
  return runs;
}
