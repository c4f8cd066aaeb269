import {
  BadRequestException,
  ConflictException,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { Clock } from '../clock.js';
import { CommandScheduler } from '../scheduling/command-scheduler.service.js';
import {
  SCHEDULED_COMMAND_STATUSES,
  type ScheduledCommandFilter,
  type ScheduledCommandStatus,
  type StatusCounts,
} from '../store/scheduled-command-entry.js';
import {
  entryDetail,
  entrySummary,
  type EntryDetailView,
  type EntrySummaryView,
} from './entry-view.js';
import { ThroughputRecorder, type Throughput } from './throughput-recorder.js';

/** What the overview page shows. */
export interface OverviewView {
  readonly now: string;
  /** Entries per status: exact, but for those in {@link approximate}. */
  readonly counts: StatusCounts;
  /** Statuses whose count is the database's estimate (big tables on PostgreSQL). */
  readonly approximate: readonly ScheduledCommandStatus[];
  readonly total: number;
  /** Pending entries already due; null when too many are pending to count them. */
  readonly dueNow: number | null;
  /** Pending entries waiting for a retry; null when too many are pending to count them. */
  readonly waitingForRetry: number | null;
  /** How late the oldest due pending entry is, in milliseconds (0 when nothing is due). */
  readonly latenessMs: number;
  /** The oldest due pending entry, or null. */
  readonly oldestOverdue: EntrySummaryView | null;
  readonly throughput: Throughput;
}

/** A page of the entries list. */
export interface EntriesPageView {
  readonly items: EntrySummaryView[];
  readonly nextCursor: string | null;
}

/** Query string of the entries list (every field optional, as the browser sends it). */
export interface EntriesQuery {
  status?: string | string[];
  commandType?: string;
  correlationId?: string;
  recurringName?: string;
  order?: string;
  cursor?: string;
  limit?: string;
}

/** Statuses that "retry" may requeue from the dashboard. */
const REQUEUEABLE = ['failed', 'expired', 'cancelled'] as const;

/**
 * The dashboard's reads and actions. Every read is one call of the public `CommandScheduler` API
 * (estimated statistics, one-page `find` with a keyset cursor, `getStatus`), and every action goes through it
 * too, so the events and the races behave exactly as they do in code.
 */
@Injectable()
export class DashboardService {
  constructor(
    private readonly scheduler: CommandScheduler,
    private readonly throughput: ThroughputRecorder,
    private readonly clock: Clock,
  ) {}

  /** Counts, lateness, the oldest overdue entry and the throughput charts. */
  async overview(): Promise<OverviewView> {
    const now = this.clock.now();
    // Counts that stay cheap on a big table: exact up to a bound, estimated beyond it.
    const stats = await this.scheduler.estimateStatistics();
    const oldest = stats.oldestPendingScheduledFor;
    const overdue = oldest !== null && oldest.getTime() <= now.getTime();
    let oldestOverdue: EntrySummaryView | null = null;
    if (overdue) {
      // Only the pending entries due at that earliest time match: one short page.
      const page = await this.scheduler.find(
        { status: 'pending', scheduledBefore: new Date(oldest.getTime() + 1) },
        { limit: 1, order: 'asc' },
      );
      oldestOverdue = page.items[0] ? entrySummary(page.items[0]) : null;
    }
    return {
      now: now.toISOString(),
      counts: stats.counts,
      approximate: stats.approximate,
      total: stats.total,
      dueNow: stats.dueNow,
      waitingForRetry: stats.waitingForRetry,
      latenessMs: overdue ? now.getTime() - oldest.getTime() : 0,
      oldestOverdue,
      throughput: this.throughput.snapshot(),
    };
  }

  /** One page of entries matching the query's filter. */
  async entries(query: EntriesQuery): Promise<EntriesPageView> {
    const limit = query.limit === undefined ? 50 : Number(query.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) {
      throw new BadRequestException('limit must be an integer from 1 to 200');
    }
    const order = query.order ?? 'desc';
    if (order !== 'asc' && order !== 'desc') {
      throw new BadRequestException('order must be "asc" or "desc"');
    }
    const page = await this.scheduler.find(this.filter(query), {
      limit,
      order,
      ...(query.cursor ? { cursor: query.cursor } : {}),
    });
    return { items: page.items.map(entrySummary), nextCursor: page.nextCursor };
  }

  /** The entry with this id. @throws NotFoundException when there is none. */
  async entry(id: string): Promise<EntryDetailView> {
    const entry = await this.scheduler.getStatus(id);
    if (!entry) throw new NotFoundException(`no scheduled command ${id}`);
    return entryDetail(entry);
  }

  /**
   * The live (pending or processing) entry holding `key`: the one a new `schedule()` with that key
   * would return. One probe of the unique index of live keys; finished entries that held the key
   * are not searched (that would walk them).
   * @throws BadRequestException when `key` is missing; NotFoundException when no live entry holds it.
   */
  async entryByIdempotencyKey(key: unknown): Promise<EntryDetailView> {
    if (typeof key !== 'string' || key === '') {
      throw new BadRequestException('idempotencyKey must be a non-empty string');
    }
    const page = await this.scheduler.find(
      { idempotencyKey: key, status: ['pending', 'processing'] },
      { limit: 1 },
    );
    if (!page.items[0])
      throw new NotFoundException(`no pending or processing entry holds key ${key}`);
    return entryDetail(page.items[0]);
  }

  /** Requeues a failed, expired or cancelled entry. @throws ConflictException when it cannot be. */
  async retry(id: string): Promise<void> {
    const done = await this.scheduler.retry(id, { statuses: [...REQUEUEABLE] });
    if (!done) await this.conflict(id, 'it is not failed, expired or cancelled');
  }

  /** Cancels a pending entry. @throws ConflictException when it is not pending. */
  async cancel(id: string): Promise<void> {
    if (!(await this.scheduler.cancel(id))) await this.conflict(id, 'it is not pending');
  }

  /** Makes a pending entry due now. @throws ConflictException when it is not pending. */
  async runNow(id: string): Promise<void> {
    if (!(await this.scheduler.reschedule(id, { delay: 0 }))) {
      await this.conflict(id, 'it is not pending');
    }
  }

  /** Moves a pending entry to `scheduledFor` (an ISO time). */
  async reschedule(id: string, scheduledFor: unknown): Promise<void> {
    const at = this.date('scheduledFor', scheduledFor);
    if (!(await this.scheduler.reschedule(id, { scheduledFor: at }))) {
      await this.conflict(id, 'it is not pending');
    }
  }

  /** Requeues every failed entry matching the filter (at most 1,000); returns how many. */
  async retryFailed(query: EntriesQuery): Promise<number> {
    const filter = this.filter({ ...query, status: undefined });
    return (await this.scheduler.retryFailed(filter, { limit: 1_000 })).length;
  }

  /** Deletes finished entries that finished before `olderThan` (in the given statuses). */
  async purge(olderThan: unknown, statuses: unknown): Promise<number> {
    const list = statuses === undefined ? undefined : this.statuses(statuses);
    return this.scheduler.purge(this.date('olderThan', olderThan), list);
  }

  private filter(query: EntriesQuery): ScheduledCommandFilter {
    const filter: { -readonly [K in keyof ScheduledCommandFilter]: ScheduledCommandFilter[K] } = {};
    if (query.status !== undefined && query.status !== '')
      filter.status = this.statuses(query.status);
    for (const field of ['commandType', 'correlationId', 'recurringName'] as const) {
      const value: unknown = query[field];
      if (value === undefined || value === '') continue;
      if (typeof value !== 'string') throw new BadRequestException(`${field} must be a string`);
      filter[field] = value;
    }
    return filter;
  }

  private statuses(value: unknown): ScheduledCommandStatus[] {
    const list = Array.isArray(value)
      ? value
      : typeof value === 'string'
        ? value.split(',')
        : [value];
    for (const s of list) {
      if (!SCHEDULED_COMMAND_STATUSES.includes(s as ScheduledCommandStatus)) {
        throw new BadRequestException(
          `status must be one of ${SCHEDULED_COMMAND_STATUSES.join(', ')}, not ${JSON.stringify(s)}`,
        );
      }
    }
    return list as ScheduledCommandStatus[];
  }

  private date(field: string, value: unknown): Date {
    const date = typeof value === 'string' ? new Date(value) : null;
    if (!date || Number.isNaN(date.getTime())) {
      throw new BadRequestException(`${field} must be an ISO date and time`);
    }
    return date;
  }

  /** 404 for an unknown id, 409 (with the reason) for an entry in the wrong state. */
  private async conflict(id: string, reason: string): Promise<never> {
    if (!(await this.scheduler.getStatus(id)))
      throw new NotFoundException(`no scheduled command ${id}`);
    throw new ConflictException(`scheduled command ${id} was not changed: ${reason}`);
  }
}
