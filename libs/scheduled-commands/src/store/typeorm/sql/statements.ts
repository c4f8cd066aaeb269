import type { OneStatementDialect } from '../dialects/sql-dialect.js';
import { claimSql } from './claim-sql.js';
import { completeSql, deadLetterSql, extendLeasesSql, releaseSql, retrySql } from './lease-sql.js';
import { expireDueSql, nextDueSql, recoverExpiredLeasesSql } from './maintenance-sql.js';
import { countByStatusSql, getSql, statisticsSql } from './query-sql.js';
import { cancelSql, insertSql, keyHoldersSql, rescheduleSql } from './schedule-sql.js';
import { oneStatement, type StoreStatements } from './store-statement.js';

export type { StoreStatements } from './store-statement.js';

/**
 * Builds the {@link StoreStatements} of `table` (already quoted) for a dialect that runs each as
 * one statement. Those marked fixed may run as named prepared statements.
 */
export function buildStatements(table: string, dialect: OneStatementDialect): StoreStatements {
  const fixed = (sql: string) => oneStatement(sql, true);
  return {
    insert: fixed(insertSql(table, dialect)),
    keyHolders: oneStatement(keyHoldersSql(table, dialect)),
    reschedule: oneStatement(rescheduleSql(table, dialect)),
    cancel: fixed(cancelSql(table)),
    claim: fixed(claimSql(table, dialect)),
    complete: fixed(completeSql(table, dialect)),
    release: fixed(releaseSql(table, dialect)),
    extendLeases: fixed(extendLeasesSql(table, dialect)),
    retry: fixed(retrySql(table)),
    deadLetter: fixed(deadLetterSql(table)),
    recoverExpiredLeases: fixed(recoverExpiredLeasesSql(table, dialect)),
    expireDue: fixed(expireDueSql(table, dialect)),
    nextDue: fixed(nextDueSql(table, dialect)),
    get: fixed(getSql(table)),
    countByStatus: oneStatement(countByStatusSql(table)),
    statistics: oneStatement(statisticsSql(table)),
  };
}

/**
 * The SQL texts of the worker's statements (claims, lease writes, maintenance), as opposed to the
 * scheduler's; those that are one statement (see `StoreStatement.sql`).
 */
export function workerStatements(statements: StoreStatements): string[] {
  const s = statements;
  const worker = [
    s.claim,
    s.complete,
    s.release,
    s.extendLeases,
    s.retry,
    s.deadLetter,
    s.recoverExpiredLeases,
    s.expireDue,
  ];
  return worker.flatMap((statement) => (statement.sql === undefined ? [] : [statement.sql]));
}
