import type {
  Completion,
  NewScheduledCommand,
  ScheduledCommandEntry,
  ScheduleResult,
  ScheduleTime,
} from './scheduled-command-entry.js';

/**
 * The store's writes inside a caller's transaction, see `ScheduledCommandStore.joinTransaction`. Each
 * method has the contract of the store method of the same name, except that its effects become
 * visible (and durable) only when the caller's transaction commits, and vanish when it rolls back.
 */
export interface StoreTransaction {
  schedule(command: NewScheduledCommand): Promise<ScheduleResult>;
  scheduleMany(commands: readonly NewScheduledCommand[]): Promise<ScheduleResult[]>;
  cancel(id: string): Promise<ScheduledCommandEntry | null>;
  reschedule(id: string, time: ScheduleTime): Promise<ScheduledCommandEntry | null>;
  /**
   * `ScheduledCommandStore.complete` for one run, inside the transaction: `true` when the entry was
   * still `processing` under that exact lease and is now `completed` (at the commit).
   */
  complete(completion: Completion): Promise<boolean>;
  /**
   * Runs `callback` once the caller's outermost transaction has committed; never when it (or the
   * savepoint the callback was registered in) rolls back. Callbacks run in registration order; one
   * that throws does not stop the others.
   */
  afterCommit(callback: () => void): void;
}

/** Options of `ScheduledCommandStore.joinTransaction`. */
export interface JoinTransactionOptions {
  /**
   * The handle came from an ambient provider rather than from the caller: when it is not inside a
   * running transaction, answer `null` (run outside a transaction) instead of throwing.
   * @default false
   */
  readonly ambient?: boolean;
}
