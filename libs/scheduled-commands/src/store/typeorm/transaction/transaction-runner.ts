import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import { ForeignTransactionError, TransactionNotActiveError } from '../../../errors/index.js';
import { messages } from '../../../scheduled-commands.messages.js';

/** Duck type of a TypeORM `EntityManager` (an `instanceof` check fails across two copies of TypeORM). */
function isEntityManager(value: unknown): value is EntityManager {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as EntityManager).transaction === 'function' &&
    typeof (value as EntityManager).query === 'function' &&
    typeof (value as EntityManager).dataSource === 'object'
  );
}

/**
 * The query runner of the running transaction `manager` belongs to, checked to be on `dataSource`.
 *
 * With `ambient`, a manager outside a transaction (such as `dataSource.manager`, which an ambient
 * transaction host hands out when no transaction is active) gives `null` instead of an error.
 *
 * On SQLite TypeORM runs every transaction of a DataSource on its single connection (one shared query
 * runner), so the manager of a finished transaction cannot be told apart from the manager of a
 * transaction running at the time: it joins that one.
 *
 * @throws ForeignTransactionError when `manager` is not an EntityManager of `dataSource`.
 * @throws TransactionNotActiveError when it is not inside a running transaction (without `ambient`),
 *   or its query runner was released.
 */
export function transactionRunner(
  dataSource: DataSource,
  manager: unknown,
  ambient: boolean,
): QueryRunner | null {
  if (!isEntityManager(manager)) {
    throw new ForeignTransactionError(
      messages.foreignTransaction('it is not a TypeORM EntityManager'),
    );
  }
  if (manager.dataSource !== dataSource) {
    throw new ForeignTransactionError(
      messages.foreignTransaction(
        `it belongs to another DataSource (${describe(manager.dataSource)}) than the store's (${describe(dataSource)})`,
      ),
    );
  }
  const runner = manager.queryRunner;
  if (runner === undefined) {
    if (ambient) return null;
    throw new TransactionNotActiveError(
      messages.transactionNotActive(
        'it is not the manager of a transaction (it has no query runner)',
      ),
    );
  }
  if (runner.isReleased) {
    throw new TransactionNotActiveError(
      messages.transactionNotActive('its query runner has been released'),
    );
  }
  if (!runner.isTransactionActive) {
    if (ambient) return null;
    throw new TransactionNotActiveError(
      messages.transactionNotActive('its transaction has already finished (or never started)'),
    );
  }
  return runner;
}

function describe(dataSource: DataSource): string {
  const options = dataSource.options as { type: string; database?: unknown };
  return typeof options.database === 'string'
    ? `${options.type} ${options.database}`
    : options.type;
}
