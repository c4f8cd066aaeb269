import { ScheduledCommandStatus, type ScheduledCommandEntry } from '../scheduled-command-entry.js';
import type {
  DueRecurring,
  NewRecurringOccurrence,
  RecurringMaterialization,
  RecurringScheduleRecord,
  RecurringWrite,
} from '../recurring-schedule-record.js';

/** What {@link InMemoryRecurring} needs from the in-memory store that owns the entries. */
export interface InMemoryEntries {
  nowMs(): number;
  /** Inserts an occurrence as a pending entry. */
  insert(occurrence: NewRecurringOccurrence, now: number): void;
  entries(): Iterable<ScheduledCommandEntry>;
  delete(id: string): void;
}

const copy = (record: RecurringScheduleRecord): RecurringScheduleRecord => ({
  ...record,
  metadata: record.metadata ? { ...record.metadata } : null,
});

/**
 * The recurring schedules of `InMemoryScheduledCommandStore`. Each method runs synchronously inside
 * its promise, so it is atomic within the process, like every operation of that store. The unique
 * (schedule, fire time) key is a set of the fire times that have an occurrence.
 */
export class InMemoryRecurring {
  private readonly schedules = new Map<string, RecurringScheduleRecord>();
  /** `name \0 fireTime` → occurrence id. */
  private readonly fired = new Map<string, string>();

  constructor(private readonly store: InMemoryEntries) {}

  write(write: RecurringWrite): RecurringScheduleRecord | null {
    const current = this.schedules.get(write.schedule.name);
    if (write.expectedVersion === null ? current : current?.version !== write.expectedVersion) {
      return null;
    }
    const now = new Date(this.store.nowMs());
    const record: RecurringScheduleRecord = {
      ...write.schedule,
      version: (current?.version ?? 0) + 1,
      createdAt: current?.createdAt ?? now,
      updatedAt: now,
    };
    this.schedules.set(record.name, copy(record));
    if (write.dropFutureOccurrences) this.dropFuture(record.name);
    return copy(record);
  }

  remove(name: string): boolean {
    if (!this.schedules.delete(name)) return false;
    this.dropFuture(name);
    return true;
  }

  get(name: string): RecurringScheduleRecord | null {
    const record = this.schedules.get(name);
    return record ? copy(record) : null;
  }

  list(): RecurringScheduleRecord[] {
    return [...this.schedules.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map(copy);
  }

  due(horizonMs: number): DueRecurring {
    const now = this.store.nowMs();
    const schedules = [...this.schedules.values()]
      .filter(
        (s) => !s.paused && (s.nextFireAt === null || s.nextFireAt.getTime() <= now + horizonMs),
      )
      .map(copy);
    return { now: new Date(now), schedules };
  }

  materialize(m: RecurringMaterialization): string[] | null {
    const current = this.schedules.get(m.name);
    if (!current || (m.expectedVersion !== null && current.version !== m.expectedVersion))
      return null;
    const now = this.store.nowMs();
    if (m.expectedVersion !== null) {
      this.schedules.set(m.name, {
        ...current,
        nextFireAt: m.nextFireAt,
        lastFireAt: m.lastFireAt,
        version: current.version + 1,
        updatedAt: new Date(now),
      });
    }
    const ids: string[] = [];
    for (const occurrence of m.occurrences) {
      const key = occurrence.fireTime && `${m.name}\u0000${occurrence.fireTime.getTime()}`;
      if (key && this.fired.has(key)) continue;
      this.store.insert(occurrence, now);
      if (key) this.fired.set(key, occurrence.id);
      ids.push(occurrence.id);
    }
    return ids;
  }

  /** Deletes the schedule's occurrences that are pending, never started and due after now. */
  private dropFuture(name: string): void {
    const now = this.store.nowMs();
    for (const entry of [...this.store.entries()]) {
      if (
        entry.recurringName === name &&
        entry.status === ScheduledCommandStatus.Pending &&
        entry.attempts === 0 &&
        entry.scheduledFor.getTime() > now
      ) {
        this.store.delete(entry.id);
        for (const [key, id] of this.fired) if (id === entry.id) this.fired.delete(key);
      }
    }
  }
}
