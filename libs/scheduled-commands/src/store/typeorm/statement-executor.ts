import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { SqlDialect } from './dialects/sql-dialect.js';
import { executePrepared } from './postgres-prepared-statements.js';
import type { Row } from './row-codec.js';
import { TransactionHooks } from './transaction/transaction-hooks.js';

/** What one statement returned: its rows and the number of rows it changed. */
export interface StatementResult {
  readonly rows: Row[];
  readonly affected: number;
}

/** Runs the store's statements: on a pooled connection each, or all on one in a transaction. */
export interface StatementRunner {
  /**
   * Runs one statement (`$1..$n`, `$now`). `fixedText`: the statement's text is the same on every
   * call of this store (no filter or list built into it), so it may run as a named prepared statement.
   */
  execute(sql: string, params: readonly unknown[], fixedText?: boolean): Promise<StatementResult>;

  /**
   * Runs `work` in one transaction (at the dialect's isolation level); inside a transaction, in
   * that one. `work` may run again from its start (see `SqlDialect.runTransaction`).
   */
  transaction<T>(work: (runner: StatementRunner) => Promise<T>): Promise<T>;
}

/**
 * Keeps the statements of the stores on one shared connection (SQLite: TypeORM has one query runner
 * per DataSource) out of a transaction on it: a statement sent while the transaction is open would
 * run inside it, and be undone with it. Statements run side by side; a transaction waits for those
 * under way and holds back new ones until it ends.
 */
class ConnectionGate {
  private running = 0;
  private held: Promise<void> | null = null;
  private drained: (() => void) | null = null;

  /** Whether a transaction holds (or waits for) the connection: callers then await {@link wait}. */
  get busy(): boolean {
    return this.held !== null;
  }

  async wait(): Promise<void> {
    while (this.held) await this.held;
  }

  enter(): void {
    this.running += 1;
  }

  leave(): void {
    this.running -= 1;
    if (this.running === 0) this.drained?.();
  }

  async exclusive<T>(work: () => Promise<T>): Promise<T> {
    // Checked and taken in one synchronous step: two callers woken together cannot both take it.
    while (this.held) await this.held;
    let release!: () => void;
    this.held = new Promise((resolve) => (release = resolve));
    try {
      if (this.running > 0) await new Promise<void>((resolve) => (this.drained = resolve));
      this.drained = null;
      return await work();
    } finally {
      this.held = null;
      release();
    }
  }
}

/** One gate per DataSource, shared by every store on it. */
const gates = new WeakMap<DataSource, ConnectionGate>();

/**
 * The store's executor: binds a statement for the dialect, runs it on a query runner of the
 * DataSource (as a named prepared statement when the dialect allows it), and gives the runner back.
 */
export class StatementExecutor implements StatementRunner {
  private readonly gate: ConnectionGate | null;
  /** Statements held back while an application transaction is open on the shared connection. */
  private heldBack: ReadonlySet<string> = new Set();

  constructor(
    protected readonly dataSource: DataSource,
    protected readonly dialect: SqlDialect,
  ) {
    let gate: ConnectionGate | null = null;
    if (dialect.sharedConnection) {
      gate = gates.get(dataSource) ?? new ConnectionGate();
      gates.set(dataSource, gate);
    }
    this.gate = gate;
  }

  async execute(
    sql: string,
    params: readonly unknown[],
    fixedText = false,
  ): Promise<StatementResult> {
    const gate = this.gate;
    if (gate === null)
      return this.run(this.dataSource.createQueryRunner(), sql, params, fixedText, true);
    const runner = this.dataSource.createQueryRunner();
    const heldBack = this.heldBack.has(sql);
    // Both checked again right before entering (synchronously), whatever woke the wait.
    while (gate.busy || (heldBack && runner.isTransactionActive)) {
      if (gate.busy) await gate.wait();
      else await TransactionHooks.of(this.dataSource).settled(runner);
    }
    gate.enter();
    try {
      return await this.run(runner, sql, params, fixedText, true);
    } finally {
      gate.leave();
    }
  }

  /**
   * Runs `work` in one transaction on one connection: every statement it runs through the given
   * runner is committed together, or, when `work` (or the commit) fails, none is. The dialect sets
   * the isolation level and may run the whole transaction again (a deadlock victim on MySQL/MariaDB).
   */
  async transaction<T>(work: (runner: StatementRunner) => Promise<T>): Promise<T> {
    const transact = async (): Promise<T> => {
      const queryRunner = this.dataSource.createQueryRunner();
      const inTransaction: StatementRunner = {
        execute: (sql, params, fixedText = false) =>
          this.run(queryRunner, sql, params, fixedText, false),
        transaction: (nested) => nested(inTransaction),
      };
      try {
        await queryRunner.startTransaction(this.dialect.isolationLevel);
        let result: T;
        try {
          result = await work(inTransaction);
        } catch (error) {
          await queryRunner.rollbackTransaction().catch(() => undefined);
          throw error;
        }
        await queryRunner.commitTransaction();
        return result;
      } finally {
        await queryRunner.release();
      }
    };
    const gate = this.gate;
    return this.dialect.runTransaction(gate ? () => gate.exclusive(transact) : transact);
  }

  /**
   * Shared connection only: `statements` (the worker's: claims, lease writes, maintenance) wait while
   * the application holds a transaction open on the connection. Sent during it, they would become part
   * of it: a claim could start a command whose insert is then rolled back, a completion could be rolled
   * back with the application's work. (The scheduler's statements are not held back: a caller that
   * schedules without `manager` inside its own transaction would wait for itself.)
   */
  holdBackDuringApplicationTransactions(statements: readonly string[]): void {
    this.heldBack = new Set(statements);
  }

  /** The same statements on `runner`, inside the caller's transaction it holds (see {@link JoinedExecutor}). */
  joined(runner: QueryRunner): StatementExecutor {
    return new JoinedExecutor(this.dataSource, this.dialect, runner);
  }

  /**
   * Runs `work` in a new transaction of the DataSource, handing it the transaction's `EntityManager`
   * (for `context.transaction()`). On a shared connection it first waits for the store's and the
   * application's transactions on it, and holds the store's other statements back until it ends.
   */
  async applicationTransaction<T>(work: (manager: EntityManager) => Promise<T>): Promise<T> {
    const transact = async (): Promise<T> => {
      if (this.gate) {
        const runner = this.dataSource.createQueryRunner();
        while (runner.isTransactionActive)
          await TransactionHooks.of(this.dataSource).settled(runner);
      }
      // Right after the check, synchronously: starting the transaction marks the runner active at once.
      return this.dataSource.transaction(work);
    };
    return this.gate ? this.gate.exclusive(transact) : transact();
  }

  protected async run(
    runner: QueryRunner,
    sql: string,
    params: readonly unknown[],
    fixedText: boolean,
    release: boolean,
  ): Promise<StatementResult> {
    const bound = this.dialect.bind(sql, params);
    try {
      if (fixedText && this.dialect.preparedStatements) {
        return await executePrepared(this.dataSource, runner, bound.sql, bound.params);
      }
      const result = await runner.query(bound.sql, bound.params, true);
      const rows = (Array.isArray(result.records) ? result.records : []) as Row[];
      return { rows, affected: result.affected ?? rows.length };
    } finally {
      if (release) await runner.release();
    }
  }
}

/**
 * The statements of a store that joined a caller's transaction: every one runs on that transaction's
 * query runner (never released here, never gated: the caller owns the connection), and a batch
 * transaction becomes a savepoint inside the caller's transaction.
 */
class JoinedExecutor extends StatementExecutor {
  constructor(
    dataSource: DataSource,
    dialect: SqlDialect,
    private readonly runner: QueryRunner,
  ) {
    super(dataSource, dialect);
  }

  override execute(
    sql: string,
    params: readonly unknown[],
    fixedText = false,
  ): Promise<StatementResult> {
    return this.run(this.runner, sql, params, fixedText, false);
  }

  override async transaction<T>(work: (runner: StatementRunner) => Promise<T>): Promise<T> {
    await this.runner.startTransaction();
    let result: T;
    try {
      result = await work(this);
    } catch (error) {
      await this.runner.rollbackTransaction().catch(() => undefined);
      throw error;
    }
    await this.runner.commitTransaction();
    return result;
  }
}
