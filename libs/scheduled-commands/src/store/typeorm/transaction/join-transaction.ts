import type { DataSource, QueryRunner } from 'typeorm';
import type { ScheduledCommandStore } from '../../scheduled-command-store.js';
import type { JoinTransactionOptions, StoreTransaction } from '../../store-transaction.js';
import { TransactionHooks } from './transaction-hooks.js';
import { transactionRunner } from './transaction-runner.js';

/**
 * `joinTransaction()` of the TypeORM store: checks `manager` (see {@link transactionRunner}), and
 * answers the store's writes on that transaction's query runner (`storeOn(runner)`, a view of the
 * store whose statements all run there) with after-commit callbacks from TypeORM's transaction events.
 */
export function joinTypeOrmTransaction(
  dataSource: DataSource,
  manager: unknown,
  options: JoinTransactionOptions,
  storeOn: (runner: QueryRunner) => ScheduledCommandStore,
): StoreTransaction | null {
  const runner = transactionRunner(dataSource, manager, options.ambient ?? false);
  if (runner === null) return null;
  const hooks = TransactionHooks.of(dataSource);
  const store = storeOn(runner);
  return {
    schedule: (command) => store.schedule(command),
    scheduleMany: (commands) => store.scheduleMany(commands),
    cancel: (id) => store.cancel(id),
    reschedule: (id, time) => store.reschedule(id, time),
    complete: async (completion) => (await store.complete([completion])).length === 1,
    afterCommit: (callback) => hooks.afterCommit(runner, callback),
  };
}
