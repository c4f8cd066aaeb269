import type { EntityManager } from 'typeorm';
import {
  LeaseLostError,
  ScheduledCommandsError,
  TransactionsNotSupportedError,
} from '../errors/index.js';
import { serializeResult } from '../registry/command-serializer.js';
import { messages } from '../scheduled-commands.messages.js';
import type { Lease } from '../store/scheduled-command-entry.js';
import type { ScheduledCommandStore } from '../store/scheduled-command-store.js';

/** A completion written inside a handler's own transaction, known once that transaction committed. */
export interface CommittedCompletion {
  readonly result: unknown;
  readonly resultPayload: string | null;
}

/** What a run's own transaction needs from the worker (a held command is one). */
export interface TransactionalRun {
  readonly lease: Lease;
  /** Set once the run's own transaction has committed its completion: nothing more is written. */
  committed: CommittedCompletion | undefined;
  /** A transaction of the run is under way. */
  inTransaction: boolean;
}

/**
 * `context.transaction(work)` of one run: runs `work` in a new transaction of the store's database and,
 * inside that same transaction, marks the command completed with `work`'s result, guarded by the run's
 * lease (holder and attempt). The handler's effects and the completion then commit together or not
 * at all: a worker that dies after the commit leaves a completed command (nothing runs again), one that
 * dies before it leaves neither (the next attempt starts from a clean slate).
 *
 * When the lease is gone by the time `work` is done, the transaction rolls back and `LeaseLostError` is
 * thrown. After a commit, `run.committed` tells the worker not to write the outcome again.
 *
 * @throws TransactionsNotSupportedError when the store cannot run a transaction.
 * @throws ScheduledCommandsError when the run already completed in a transaction, or one is under way.
 * @throws LeaseLostError when the run's lease is gone (everything `work` wrote is rolled back).
 */
export async function runOwnTransaction<T>(
  store: ScheduledCommandStore,
  run: TransactionalRun,
  commandType: string,
  work: (manager: EntityManager) => Promise<T>,
): Promise<T> {
  if (typeof store.withTransaction !== 'function' || typeof store.joinTransaction !== 'function') {
    throw new TransactionsNotSupportedError(
      messages.noTransactionSupport(store.constructor?.name ?? 'in use'),
    );
  }
  if (run.committed !== undefined || run.inTransaction) {
    throw new ScheduledCommandsError(
      'context.transaction() completes the command: call it once per run, and not inside itself.',
    );
  }
  const { lease } = run;
  run.inTransaction = true;
  try {
    const completion = await store.withTransaction(async (handle) => {
      const result = await work(handle as EntityManager);
      const resultPayload = serializeResult(commandType, result);
      const joined = store.joinTransaction!(handle);
      if (joined === null || !(await joined.complete({ lease, resultPayload }))) {
        throw new LeaseLostError(
          lease.id,
          lease.attempt,
          messages.transactionLeaseLost(lease.id, lease.attempt),
        );
      }
      return { result, resultPayload };
    });
    run.committed = completion;
    return completion.result as T;
  } finally {
    run.inTransaction = false;
  }
}
