import { Clock, SystemClock } from '../../clock.js';
import { messages } from '../../scheduled-commands.messages.js';
import { byIdAsc, byTimeThenId, claimOrder } from '../entry-order.js';
import { encodeCursor, parseFindOptions } from '../find-options.js';
import {
  ScheduledCommandStatus,
  type ClaimRequest,
  type Completion,
  type FindOptions,
  type FindResult,
  type Lease,
  type LeaseRecovery,
  type NewScheduledCommand,
  type ScheduledCommandEntry,
  type ScheduledCommandFilter,
  type ScheduledCommandStatistics,
  type ScheduleResult,
  type ScheduleTime,
  type StatusCounts,
} from '../scheduled-command-entry.js';
import { ScheduledCommandStore, type PurgeRequest } from '../scheduled-command-store.js';
import { DEFAULT_PURGE_LIMIT, emptyCounts } from '../status-counts.js';
import type {
  DueRecurring,
  RecurringMaterialization,
  RecurringScheduleRecord,
  RecurringWrite,
} from '../recurring-schedule-record.js';
import { InMemoryRecurring } from './in-memory-recurring.js';
import {
  duplicateId,
  isClaimable,
  isLive,
  matcher,
  newRow,
  snapshot,
  statisticsOf,
  type Row,
} from './in-memory-rows.js';

/**
 * A {@link ScheduledCommandStore} that keeps entries in the process memory: for tests, demos and
 * applications that can afford to lose scheduled commands on restart. Nothing is shared between
 * processes (and `watch` is not offered).
 *
 * Every operation runs synchronously inside its promise, so each one is atomic within the process
 * and races between callers have exactly one winner, as the contract requires. Entries are kept in a
 * map by id; claims, queries and sweeps scan it, which is fine for thousands of entries, not millions.
 * Returned entries are copies.
 *
 * Times come from the injected {@link Clock} (a `ManualClock` from `nestjs-scheduled-commands/testing`
 * lets tests drive them).
 */
export class InMemoryScheduledCommandStore extends ScheduledCommandStore {
  private readonly rows = new Map<string, Row>();
  /** idempotency key → id of the live (pending or processing) entry holding it. */
  private readonly liveKeys = new Map<string, string>();
  /** Recurring schedules (see {@link InMemoryRecurring}). */
  private readonly recurring = new InMemoryRecurring({
    nowMs: () => this.nowMs(),
    insert: (occurrence, now) => this.insert(occurrence, now),
    entries: () => this.rows.values(),
    delete: (id) => this.rows.delete(id),
  });

  /** @param clock source of "now" for every comparison and every time written. @default new SystemClock() */
  constructor(private readonly clock: Clock = new SystemClock()) {
    super();
  }

  /** @throws {Error} when an entry with `command.id` is already stored. */
  override async schedule(command: NewScheduledCommand): Promise<ScheduleResult> {
    return this.insert(command, this.nowMs());
  }

  /** @throws {Error} when an id is already stored or repeated in `commands` (nothing is stored then). */
  override async scheduleMany(commands: readonly NewScheduledCommand[]): Promise<ScheduleResult[]> {
    // Check every id first so that a bad batch stores nothing, like one SQL statement would.
    const seen = new Set<string>();
    for (const { id } of commands) {
      if (this.rows.has(id) || seen.has(id)) throw duplicateId(id);
      seen.add(id);
    }
    const now = this.nowMs();
    return commands.map((command) => this.insert(command, now));
  }

  override async claim(request: ClaimRequest): Promise<ScheduledCommandEntry[]> {
    const now = this.nowMs();
    const from = request.scheduledFrom?.getTime() ?? -Infinity;
    const due = [...this.rows.values()]
      .filter((row) => isClaimable(row, now) && row.scheduledFor.getTime() >= from)
      .sort(claimOrder)
      .slice(0, Math.max(0, request.limit));
    return due.map((row) => {
      row.status = ScheduledCommandStatus.Processing;
      row.lockedBy = request.workerId;
      row.lockedUntil = new Date(now + request.leaseMs);
      row.startedAt = new Date(now);
      row.attempts += 1;
      return snapshot(row);
    });
  }

  override async complete(completions: readonly Completion[]): Promise<string[]> {
    const now = this.nowMs();
    const written: string[] = [];
    for (const { lease, resultPayload } of completions) {
      const row = this.held(lease);
      if (!row) continue;
      this.finish(row, ScheduledCommandStatus.Completed, now);
      row.resultPayload = resultPayload;
      written.push(row.id);
    }
    return written;
  }

  override async retry(
    lease: Lease,
    errorMessage: string,
    delayMs: number,
  ): Promise<ScheduledCommandEntry | null> {
    const row = this.held(lease);
    if (!row) return null;
    row.status = ScheduledCommandStatus.Pending;
    row.retryCount += 1;
    row.scheduledFor = new Date(this.nowMs() + delayMs);
    row.errorMessage = errorMessage;
    this.clearLease(row);
    return snapshot(row);
  }

  override async deadLetter(
    lease: Lease,
    errorMessage: string,
  ): Promise<ScheduledCommandEntry | null> {
    const row = this.held(lease);
    if (!row) return null;
    this.finish(row, ScheduledCommandStatus.Failed, this.nowMs());
    row.errorMessage = errorMessage;
    return snapshot(row);
  }

  override async release(leases: readonly Lease[]): Promise<string[]> {
    const released: string[] = [];
    for (const lease of leases) {
      const row = this.held(lease);
      if (!row) continue;
      row.status = ScheduledCommandStatus.Pending;
      row.attempts = Math.max(0, row.attempts - 1);
      row.startedAt = null;
      this.clearLease(row);
      released.push(row.id);
    }
    return released;
  }

  override async extendLeases(leases: readonly Lease[], leaseMs: number): Promise<string[]> {
    const lockedUntil = this.nowMs() + leaseMs;
    const held: string[] = [];
    for (const lease of leases) {
      const row = this.held(lease);
      if (!row) continue;
      row.lockedUntil = new Date(lockedUntil);
      held.push(row.id);
    }
    return held;
  }

  override async recoverExpiredLeases(limit: number): Promise<LeaseRecovery> {
    const now = this.nowMs();
    const lost = [...this.rows.values()]
      .filter(
        (row) =>
          row.status === ScheduledCommandStatus.Processing &&
          row.lockedUntil !== null &&
          row.lockedUntil.getTime() <= now,
      )
      .sort(byTimeThenId((row) => row.lockedUntil))
      .slice(0, Math.max(0, limit));
    const requeued: ScheduledCommandEntry[] = [];
    const deadLettered: ScheduledCommandEntry[] = [];
    for (const row of lost) {
      const errorMessage = messages.leaseLost(row.lockedBy ?? 'unknown');
      if (row.attempts > row.maxRetries) {
        this.finish(row, ScheduledCommandStatus.Failed, now);
        row.errorMessage = errorMessage;
        deadLettered.push(snapshot(row));
      } else {
        row.status = ScheduledCommandStatus.Pending;
        row.retryCount += 1;
        row.scheduledFor = new Date(now);
        row.errorMessage = errorMessage;
        this.clearLease(row);
        requeued.push(snapshot(row));
      }
    }
    return { requeued, deadLettered };
  }

  override async expireDue(limit: number): Promise<ScheduledCommandEntry[]> {
    const now = this.nowMs();
    return [...this.rows.values()]
      .filter(
        (row) =>
          row.status === ScheduledCommandStatus.Pending &&
          row.expiresAt !== null &&
          row.expiresAt.getTime() <= now,
      )
      .sort(byTimeThenId((row) => row.expiresAt))
      .slice(0, Math.max(0, limit))
      .map((row) => {
        this.finish(row, ScheduledCommandStatus.Expired, now);
        return snapshot(row);
      });
  }

  override async cancel(id: string): Promise<ScheduledCommandEntry | null> {
    const row = this.rows.get(id);
    if (row?.status !== ScheduledCommandStatus.Pending) return null;
    this.finish(row, ScheduledCommandStatus.Cancelled, this.nowMs());
    return snapshot(row);
  }

  override async reschedule(id: string, time: ScheduleTime): Promise<ScheduledCommandEntry | null> {
    const row = this.rows.get(id);
    if (row?.status !== ScheduledCommandStatus.Pending) return null;
    row.scheduledFor =
      time.scheduledFor !== undefined
        ? new Date(time.scheduledFor.getTime())
        : new Date(this.nowMs() + time.delay);
    return snapshot(row);
  }

  override async requeue(
    id: string,
    fromStatuses: readonly ScheduledCommandStatus[],
  ): Promise<ScheduledCommandEntry | null> {
    const row = this.rows.get(id);
    if (!row || !this.canRequeue(row, fromStatuses)) return null;
    this.requeueRow(row, this.nowMs());
    return snapshot(row);
  }

  override async requeueMany(
    filter: ScheduledCommandFilter,
    fromStatuses: readonly ScheduledCommandStatus[],
    limit: number,
  ): Promise<ScheduledCommandEntry[]> {
    const match = matcher(filter);
    const now = this.nowMs();
    const requeued: ScheduledCommandEntry[] = [];
    // Oldest first; the key check runs per row, so two finished entries sharing a key yield one.
    for (const row of [...this.rows.values()].sort(byIdAsc)) {
      if (requeued.length >= limit) break;
      if (!match(row) || !this.canRequeue(row, fromStatuses)) continue;
      this.requeueRow(row, now);
      requeued.push(snapshot(row));
    }
    return requeued;
  }

  override async get(id: string): Promise<ScheduledCommandEntry | null> {
    const row = this.rows.get(id);
    return row ? snapshot(row) : null;
  }

  /**
   * @throws {InvalidScheduleOptionsError} when `limit` is not an integer in 1..1000, `offset` is not
   *   an integer >= 0, `order` is not `'asc'`/`'desc'`, `cursor` was not made by this store, both
   *   `cursor` and a non-zero `offset` are given, or a filter field is invalid.
   */
  override async find(filter: ScheduledCommandFilter, options?: FindOptions): Promise<FindResult> {
    const match = matcher(filter);
    const { limit, offset, order, afterId } = parseFindOptions(options);
    const desc = order === 'desc';
    let rows = [...this.rows.values()].filter(match).sort(byIdAsc);
    if (desc) rows.reverse();
    if (afterId !== null) rows = rows.filter((row) => (desc ? row.id < afterId : row.id > afterId));
    const page = rows.slice(offset, offset + limit);
    const hasMore = rows.length > offset + limit;
    return {
      items: page.map(snapshot),
      nextCursor: hasMore ? encodeCursor(page[page.length - 1].id) : null,
    };
  }

  override async countByStatus(): Promise<StatusCounts> {
    const counts = emptyCounts();
    for (const row of this.rows.values()) counts[row.status] += 1;
    return counts;
  }

  override async getStatistics(): Promise<ScheduledCommandStatistics> {
    return statisticsOf(this.rows.values(), this.nowMs());
  }

  override async purge(request: PurgeRequest): Promise<number> {
    const olderThan = request.olderThan.getTime();
    const statuses = new Set(request.statuses.filter((status) => !isLive(status)));
    const victims = [...this.rows.values()]
      .filter(
        (row) =>
          statuses.has(row.status) &&
          row.completedAt !== null &&
          row.completedAt.getTime() < olderThan,
      )
      .sort(byTimeThenId((row) => row.completedAt))
      .slice(0, Math.max(0, request.limit ?? DEFAULT_PURGE_LIMIT));
    for (const row of victims) this.rows.delete(row.id);
    return victims.length;
  }

  override async msUntilNextDue(): Promise<number | null> {
    let earliest: number | null = null;
    for (const row of this.rows.values()) {
      if (row.status !== ScheduledCommandStatus.Pending) continue;
      const due = row.scheduledFor.getTime();
      if (earliest === null || due < earliest) earliest = due;
    }
    return earliest === null ? null : earliest - this.nowMs();
  }

  override async writeRecurring(write: RecurringWrite): Promise<RecurringScheduleRecord | null> {
    return this.recurring.write(write);
  }

  override async removeRecurring(name: string): Promise<boolean> {
    return this.recurring.remove(name);
  }

  override async getRecurring(name: string): Promise<RecurringScheduleRecord | null> {
    return this.recurring.get(name);
  }

  override async listRecurring(): Promise<RecurringScheduleRecord[]> {
    return this.recurring.list();
  }

  override async dueRecurring(horizonMs: number): Promise<DueRecurring> {
    return this.recurring.due(horizonMs);
  }

  override async materializeRecurring(m: RecurringMaterialization): Promise<string[] | null> {
    return this.recurring.materialize(m);
  }

  private nowMs(): number {
    return this.clock.now().getTime();
  }

  private insert(command: NewScheduledCommand, now: number): ScheduleResult {
    const key = command.idempotencyKey;
    if (key !== null) {
      const holder = this.liveKeys.get(key);
      if (holder !== undefined) return { id: holder, created: false };
    }
    if (this.rows.has(command.id)) throw duplicateId(command.id);
    this.rows.set(command.id, newRow(command, now));
    if (key !== null) this.liveKeys.set(key, command.id);
    return { id: command.id, created: true };
  }

  /** The row when it is `processing` under exactly this lease (worker and attempt), else undefined. */
  private held(lease: Lease): Row | undefined {
    const row = this.rows.get(lease.id);
    return row?.status === ScheduledCommandStatus.Processing &&
      row.lockedBy === lease.workerId &&
      row.attempts === lease.attempt
      ? row
      : undefined;
  }

  private clearLease(row: Row): void {
    row.lockedBy = null;
    row.lockedUntil = null;
  }

  /** Moves a row to a finished status and frees its idempotency key. */
  private finish(row: Row, status: ScheduledCommandStatus, now: number): void {
    row.status = status;
    row.completedAt = new Date(now);
    this.clearLease(row);
    if (row.idempotencyKey !== null && this.liveKeys.get(row.idempotencyKey) === row.id) {
      this.liveKeys.delete(row.idempotencyKey);
    }
  }

  private canRequeue(row: Row, fromStatuses: readonly ScheduledCommandStatus[]): boolean {
    if (isLive(row.status) || !fromStatuses.includes(row.status)) return false;
    return row.idempotencyKey === null || !this.liveKeys.has(row.idempotencyKey);
  }

  private requeueRow(row: Row, now: number): void {
    row.status = ScheduledCommandStatus.Pending;
    row.scheduledFor = new Date(now);
    row.retryCount = 0;
    row.expiresAt = null;
    row.completedAt = null;
    row.resultPayload = null;
    this.clearLease(row);
    if (row.idempotencyKey !== null) this.liveKeys.set(row.idempotencyKey, row.id);
  }
}
