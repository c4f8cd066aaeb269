import type { EntityManager } from 'typeorm';
import { InvalidScheduleOptionsError, TransactionsNotSupportedError } from '../errors/index.js';
import { messages } from '../scheduled-commands.messages.js';
import type { ScheduledCommandStore } from '../store/scheduled-command-store.js';
import type { StoreTransaction } from '../store/store-transaction.js';

/** Options of `scheduleMany`, `cancel` and `reschedule` that take part in a transaction. */
export interface TransactionOptions {
  /**
   * The TypeORM `EntityManager` of a running transaction (from `dataSource.transaction(async (manager)
   * => ...)` or `queryRunner.manager`): the write joins that transaction, and the worker wake-up and
   * lifecycle events wait for its commit (and never happen when it rolls back).
   * @default the module's `ambientTransaction`, if any; otherwise no transaction
   */
  manager?: EntityManager;
}

/** The writes a scheduler call makes, and where its after-effects go. */
export interface TransactionScope {
  readonly store: Pick<
    ScheduledCommandStore,
    'schedule' | 'scheduleMany' | 'cancel' | 'reschedule'
  >;
  /** Runs `effect` (a wake-up, an event) now, or after the commit of the joined transaction. */
  after(effect: () => void): void;
}

/**
 * Decides where a scheduler call writes: in the caller's transaction when `manager` is given (or the
 * ambient provider returns a manager inside a running transaction), otherwise straight to the store.
 *
 * @throws InvalidScheduleOptionsError when `manager` is given but is not an object.
 * @throws TransactionsNotSupportedError when there is a transaction to join and the store cannot.
 * @throws ForeignTransactionError / TransactionNotActiveError from the store, for a bad `manager`.
 */
export function transactionScope(
  store: ScheduledCommandStore,
  manager: unknown,
  ambient: (() => unknown) | undefined,
): TransactionScope {
  if (manager === undefined) {
    const current = ambient?.();
    if (current === undefined || current === null) return direct(store);
    return joined(store, join(store, current, true));
  }
  if (typeof manager !== 'object' || manager === null) {
    throw new InvalidScheduleOptionsError(
      'manager',
      messages.invalidOption('manager', manager, 'an EntityManager of a running transaction'),
    );
  }
  return joined(store, join(store, manager, false));
}

/**
 * Checks the second argument of `scheduleMany` / third of `reschedule` / second of `cancel`.
 * @throws InvalidScheduleOptionsError for anything but `undefined` or `{ manager? }`.
 */
export function transactionOptions(options: unknown): TransactionOptions {
  if (options === undefined) return {};
  if (typeof options !== 'object' || options === null || Array.isArray(options)) {
    throw new InvalidScheduleOptionsError(
      'options',
      messages.invalidOption('options', options, 'an object { manager? }'),
    );
  }
  for (const key of Object.keys(options)) {
    if (key !== 'manager') {
      throw new InvalidScheduleOptionsError(
        key,
        messages.invalidOption(key, (options as Record<string, unknown>)[key], 'only "manager"'),
      );
    }
  }
  return options as TransactionOptions;
}

function join(
  store: ScheduledCommandStore,
  manager: unknown,
  ambient: boolean,
): StoreTransaction | null {
  if (typeof store.joinTransaction !== 'function') {
    throw new TransactionsNotSupportedError(
      messages.transactionsNotSupported(store.constructor?.name ?? 'in use'),
    );
  }
  return store.joinTransaction(manager, { ambient });
}

function direct(store: ScheduledCommandStore): TransactionScope {
  return { store, after: (effect) => effect() };
}

function joined(
  store: ScheduledCommandStore,
  transaction: StoreTransaction | null,
): TransactionScope {
  if (transaction === null) return direct(store);
  return { store: transaction, after: (effect) => transaction.afterCommit(effect) };
}
