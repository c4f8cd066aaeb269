import { Logger } from '@nestjs/common';
import type {
  DataSource,
  EntitySubscriberInterface,
  QueryRunner,
  TransactionCommitEvent,
  TransactionRollbackEvent,
} from 'typeorm';

/** A callback waiting for a commit, with the transaction depth (1 = outermost) it was registered at. */
interface Pending {
  depth: number;
  readonly callback: () => void;
}

/** How long {@link TransactionHooks.settled} waits at most before its caller looks again. */
const SETTLED_RECHECK_MS = 50;

/** The nesting depth of the runner's transaction (0 outside one); TypeORM keeps it protected. */
export function transactionDepth(runner: QueryRunner): number {
  const depth = (runner as unknown as { transactionDepth?: unknown }).transactionDepth;
  if (typeof depth === 'number') return depth;
  return runner.isTransactionActive ? 1 : 0;
}

const hooksBySource = new WeakMap<DataSource, TransactionHooks>();

/**
 * Learns when the transactions of one `DataSource` end, through TypeORM's own transaction events: one
 * entity subscriber (with `afterTransactionCommit` / `afterTransactionRollback` only) added to the
 * DataSource's subscribers, which every query runner of the DataSource broadcasts to on commit and
 * rollback, whoever started the transaction (`dataSource.transaction`, a query runner, or a library
 * such as `@nestjs-cls/transactional`).
 *
 * Savepoints are honoured: a callback registered inside a nested transaction moves to the enclosing
 * one when the savepoint is released, and is dropped when it is rolled back to.
 */
export class TransactionHooks implements EntitySubscriberInterface {
  private readonly logger = new Logger(TransactionHooks.name);
  private readonly pending = new WeakMap<QueryRunner, Pending[]>();
  private readonly waiters = new WeakMap<QueryRunner, (() => void)[]>();

  private constructor() {}

  /**
   * The hooks of `dataSource`, installed on first use. Installing again after the DataSource was
   * (re)initialised is cheap and needed: initialising replaces its list of subscribers.
   */
  static of(dataSource: DataSource): TransactionHooks {
    let hooks = hooksBySource.get(dataSource);
    if (hooks === undefined) {
      hooks = new TransactionHooks();
      hooksBySource.set(dataSource, hooks);
    }
    if (!dataSource.subscribers.includes(hooks)) dataSource.subscribers.push(hooks);
    return hooks;
  }

  /** Runs `callback` when the runner's outermost transaction commits; drops it on rollback. */
  afterCommit(runner: QueryRunner, callback: () => void): void {
    let list = this.pending.get(runner);
    if (list === undefined) {
      list = [];
      this.pending.set(runner, list);
    }
    list.push({ depth: transactionDepth(runner), callback });
  }

  /**
   * Resolves when the runner's transaction ends (commit or rollback), or after a short while at the
   * latest: callers look at `runner.isTransactionActive` again and wait once more if need be.
   */
  settled(runner: QueryRunner): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, SETTLED_RECHECK_MS);
      let list = this.waiters.get(runner);
      if (list === undefined) {
        list = [];
        this.waiters.set(runner, list);
      }
      list.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** TypeORM subscriber event: a transaction (or a savepoint) committed. */
  afterTransactionCommit(event: TransactionCommitEvent): void {
    const runner = event.queryRunner;
    const depth = transactionDepth(runner);
    const list = this.pending.get(runner);
    if (list !== undefined) {
      if (depth === 0) {
        this.pending.delete(runner);
        for (const item of list) this.run(item.callback);
      } else {
        // A savepoint was released: its callbacks now belong to the enclosing transaction.
        for (const item of list) if (item.depth > depth) item.depth = depth;
      }
    }
    this.wake(runner);
  }

  /** TypeORM subscriber event: a transaction (or a savepoint) rolled back. */
  afterTransactionRollback(event: TransactionRollbackEvent): void {
    const runner = event.queryRunner;
    const depth = transactionDepth(runner);
    const list = this.pending.get(runner);
    if (list !== undefined) {
      const kept = depth === 0 ? [] : list.filter((item) => item.depth <= depth);
      if (kept.length === 0) this.pending.delete(runner);
      else this.pending.set(runner, kept);
    }
    this.wake(runner);
  }

  private wake(runner: QueryRunner): void {
    if (runner.isTransactionActive) return;
    const list = this.waiters.get(runner);
    if (list === undefined) return;
    this.waiters.delete(runner);
    for (const resolve of list) resolve();
  }

  private run(callback: () => void): void {
    try {
      callback();
    } catch (error) {
      // The transaction has committed; an error here must not surface as a failed commit.
      this.logger.error(
        'A callback after a commit failed',
        error instanceof Error ? error.stack : String(error),
      );
    }
  }
}
