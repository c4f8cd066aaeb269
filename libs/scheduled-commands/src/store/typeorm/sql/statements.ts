import type { SqlDialect } from '../dialects/sql-dialect.js';
import { claimSql } from './claim-sql.js';
import { completeSql, deadLetterSql, extendLeasesSql, releaseSql, retrySql } from './lease-sql.js';
import { expireDueSql, nextDueSql, recoverExpiredLeasesSql } from './maintenance-sql.js';
import { countByStatusSql, getSql, statisticsSql } from './query-sql.js';
import { cancelSql, insertSql, keyHoldersSql, rescheduleSql } from './schedule-sql.js';

/**
 * The store's statements whose text is the same on every call, built once per store from its
 * table and dialect (those are the ones that may run as named prepared statements). Statements
 * with a filter or a status list built into them are built per call by the builders in this folder.
 */
export interface StoreStatements {
  readonly insert: string;
  readonly keyHolders: string;
  readonly reschedule: string;
  readonly cancel: string;
  readonly claim: string;
  readonly complete: string;
  readonly release: string;
  readonly extendLeases: string;
  readonly retry: string;
  readonly deadLetter: string;
  readonly recoverExpiredLeases: string;
  readonly expireDue: string;
  readonly nextDue: string;
  readonly get: string;
  readonly countByStatus: string;
  readonly statistics: string;
}

/** Builds the {@link StoreStatements} of `table` (already quoted) in `dialect`. */
export function buildStatements(table: string, dialect: SqlDialect): StoreStatements {
  return {
    insert: insertSql(table, dialect),
    keyHolders: keyHoldersSql(table, dialect),
    reschedule: rescheduleSql(table, dialect),
    cancel: cancelSql(table),
    claim: claimSql(table, dialect),
    complete: completeSql(table, dialect),
    release: releaseSql(table, dialect),
    extendLeases: extendLeasesSql(table, dialect),
    retry: retrySql(table),
    deadLetter: deadLetterSql(table),
    recoverExpiredLeases: recoverExpiredLeasesSql(table, dialect),
    expireDue: expireDueSql(table, dialect),
    nextDue: nextDueSql(table, dialect),
    get: getSql(table),
    countByStatus: countByStatusSql(table),
    statistics: statisticsSql(table),
  };
}

/** The statements of the worker (claims, lease writes, maintenance), as opposed to the scheduler's. */
export function workerStatements(statements: StoreStatements): string[] {
  const s = statements;
  return [
    s.claim,
    s.complete,
    s.release,
    s.extendLeases,
    s.retry,
    s.deadLetter,
    s.recoverExpiredLeases,
    s.expireDue,
  ];
}
