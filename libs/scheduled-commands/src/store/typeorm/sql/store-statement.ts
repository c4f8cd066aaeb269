/**
 * A store operation's SQL as its dialect runs it. The store runs every statement the same way,
 * through {@link StoreStatement.run}: where the database writes and returns rows in one statement,
 * that is one statement ({@link oneStatement}); elsewhere (MySQL/MariaDB) the dialect runs a short
 * transaction of statements, and returns what the one statement would have.
 */
import type { StatementResult, StatementRunner } from '../statement-executor.js';

/** One store operation: what the store runs, with its parameters, on a runner. */
export interface StoreStatement {
  /** The SQL text, when the operation is one statement. */
  readonly sql?: string;
  run(runner: StatementRunner, params: readonly unknown[]): Promise<StatementResult>;
}

/**
 * One SQL statement (`$1..$n`, `$now`). `fixedText`: its text is the same on every call of the store,
 * so it may run as a named prepared statement (see `StatementRunner.execute`).
 */
export function oneStatement(sql: string, fixedText = false): StoreStatement & { sql: string } {
  return { sql, run: (runner, params) => runner.execute(sql, params, fixedText) };
}

/**
 * The store's operations whose text is the same on every call, built once per store from its
 * table by its dialect. Operations with a filter or a status list built into them are built per
 * call (`SqlDialect.requeue`, `SqlDialect.purge`, `findSql`).
 */
export interface StoreStatements {
  /** Inserts `$1` (a JSON array of new commands), skipping held idempotency keys; rows: the ids inserted. */
  readonly insert: StoreStatement;
  /** The live holders (`id`, `idempotency_key`) of the keys in `$1`. */
  readonly keyHolders: StoreStatement;
  readonly reschedule: StoreStatement;
  readonly cancel: StoreStatement;
  readonly claim: StoreStatement;
  readonly complete: StoreStatement;
  readonly release: StoreStatement;
  readonly extendLeases: StoreStatement;
  readonly retry: StoreStatement;
  readonly deadLetter: StoreStatement;
  readonly recoverExpiredLeases: StoreStatement;
  readonly expireDue: StoreStatement;
  readonly nextDue: StoreStatement;
  readonly get: StoreStatement;
  readonly countByStatus: StoreStatement;
  readonly statistics: StoreStatement;
}
